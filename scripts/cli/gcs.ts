/** Cloud Storage wiring for the CLI, loaded only when a gs:// locker or source is named (keeps local start-up fast). */
import { GCS_SCOPE, GcsObjectStore, parseGsUri } from '../../functions/gcp/adapters/gcs-object-store.ts';
import { GcsEvidenceSource } from '../../functions/gcp/adapters/gcs-source.ts';
import { gcpTokenProvider } from '../../functions/gcp/adapters/gcp-http.ts';
import { InvalidInputError } from '../../shared/errors.ts';
import type { EvidenceSource } from '../../shared/ports/evidence-source.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Io } from './io.ts';

/** The JSON API endpoint: AMBER_GCS_URL, else the documented STORAGE_EMULATOR_HOST, else Google's. */
export function gcsBaseUrl(env: Io['env']): string | undefined {
  if (env.AMBER_GCS_URL) return env.AMBER_GCS_URL;
  const emulator = env.STORAGE_EMULATOR_HOST;
  if (emulator) return /^https?:\/\//.test(emulator) ? emulator : `http://${emulator}`;
  return undefined;
}

function connection(uri: string, io: Io) {
  const token = gcpTokenProvider(io.env, [GCS_SCOPE], uri);
  const baseUrl = gcsBaseUrl(io.env);
  return { token, ...(baseUrl ? { baseUrl } : {}) };
}

/**
 * Opens a gs://bucket[/prefix] locker, reading the bucket's retention and versioning first. A collecting command
 * (`create`) refuses a bucket with a retention policy before writing anything: Cloud Storage refuses to replace any
 * object younger than the policy, so the custody ledger could be written once but never appended to.
 */
export async function openGcsLocker(uri: string, io: Io, use: { create: boolean } = { create: false }): Promise<ObjectStore> {
  const { bucket, prefix } = parseGsUri(uri);
  const options = connection(uri, io);
  await options.token(); // no credentials: one error naming how to provide them, before anything else
  const store = await GcsObjectStore.open({ bucket, ...(prefix ? { prefix } : {}), ...options });
  const caps = await store.capabilities();
  if (use.create && caps.retentionSeconds !== undefined) {
    throw new InvalidInputError(
      `gs://${bucket} has a bucket retention policy (${caps.retentionSeconds} s${caps.retentionLocked ? ', locked' : ''}): Cloud Storage would refuse every append to the custody ledger after the first, so Amber does not collect into it`,
      { hint: 'use a bucket with Object Retention Lock instead (gcloud storage buckets create gs://B --enable-per-object-retention, with versioning): Amber then locks each evidence object itself until --retain-days, and the ledger stays appendable; this bucket can still be verified and read' },
    );
  }
  return store;
}

/** Opens a gs://bucket/prefix source (every generation with allVersions). */
export async function openGcsSource(uri: string, io: Io, allVersions: boolean): Promise<EvidenceSource> {
  const options = connection(uri, io);
  await options.token();
  return new GcsEvidenceSource({ uri, allVersions, ...options });
}
