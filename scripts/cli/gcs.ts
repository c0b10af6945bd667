/** Cloud Storage wiring for the CLI, loaded only when a gs:// locker or source is named (keeps local start-up fast). */
import { GCS_SCOPE, GcsObjectStore, parseGsUri } from '../../functions/gcp/adapters/gcs-object-store.ts';
import { GcsEvidenceSource } from '../../functions/gcp/adapters/gcs-source.ts';
import { gcpTokenProvider } from '../../functions/gcp/adapters/gcp-http.ts';
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

/** Opens a gs://bucket[/prefix] locker, reading the bucket's retention and versioning first. */
export async function openGcsLocker(uri: string, io: Io): Promise<ObjectStore> {
  const { bucket, prefix } = parseGsUri(uri);
  const options = connection(uri, io);
  await options.token(); // no credentials: one error naming how to provide them, before anything else
  return GcsObjectStore.open({ bucket, ...(prefix ? { prefix } : {}), ...options });
}

/** Opens a gs://bucket/prefix source (every generation with allVersions). */
export async function openGcsSource(uri: string, io: Io, allVersions: boolean): Promise<EvidenceSource> {
  const options = connection(uri, io);
  await options.token();
  return new GcsEvidenceSource({ uri, allVersions, ...options });
}
