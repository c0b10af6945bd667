/**
 * Entry point of the derive function (gen2, Node.js 22), bundled on its own (scripts/build/functions-gcp.ts): it
 * carries the log parsers, which the preservation bundle does not need, and each bundle stays under 1 MB.
 *
 *   deriveObject   CloudEvent (Eventarc, google.cloud.storage.object.v1.finalized on the evidence bucket)   EVIDENCE_LOCKER, RETENTION_DAYS
 */
import * as ff from '@google-cloud/functions-framework';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { gcpTokenProvider } from './adapters/gcp-http.ts';
import { GCS_SCOPE, GcsObjectStore, parseGsUri } from './adapters/gcs-object-store.ts';
import { deriveObjectHandler, type DeriveObjectDeps, type StorageObjectData } from './handlers/derive-object.ts';
import { actorOf, createLogger, readGcpEnv } from './runtime.ts';
import { InvalidInputError } from '../../shared/errors.ts';

let handler: ((event: CloudEvent<StorageObjectData>) => Promise<void>) | undefined;

/** The handler and its dependencies, built on the first event and kept for the instance's life. */
function deriveHandler(): (event: CloudEvent<StorageObjectData>) => Promise<void> {
  if (handler) return handler;
  const env = readGcpEnv('deriveObject', ['EVIDENCE_LOCKER', 'RETENTION_DAYS']);
  const days = Number(env.RETENTION_DAYS);
  if (!Number.isInteger(days) || days < 1) throw new InvalidInputError(`RETENTION_DAYS must be a whole number of at least 1, got ${JSON.stringify(env.RETENTION_DAYS)}`);
  const { bucket, prefix } = parseGsUri(env.EVIDENCE_LOCKER);
  const deps: DeriveObjectDeps = {
    store: new GcsObjectStore({ bucket, ...(prefix ? { prefix } : {}), token: gcpTokenProvider(process.env, [GCS_SCOPE], env.EVIDENCE_LOCKER) }),
    bucket,
    prefix,
    actor: actorOf(),
    logger: createLogger('deriveObject'),
    retainUntil: () => new Date(Date.now() + days * 86_400_000),
  };
  return (handler = deriveObjectHandler(deps));
}

ff.cloudEvent<StorageObjectData>('deriveObject', (event: CloudEvent<StorageObjectData>) => deriveHandler()(event));
