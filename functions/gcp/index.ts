/**
 * Entry points of the Google Cloud Functions (gen2, Node.js 22), registered with the Functions Framework. One
 * bundle holds them all; each deployed function names its entry point (infra/gcp). Dependencies are built on the
 * first invocation of an entry point and kept for the instance's life, so a function needs only its own
 * variables and a missing one fails its first call naming every missing variable.
 *
 *   preservationRequested  CloudEvent (Pub/Sub)  INSTANCE_WORKFLOW, LOG_WORKFLOW
 *   sccFinding             CloudEvent (Pub/Sub)  INSTANCE_WORKFLOW, LOG_WORKFLOW, SCC_MIN_SEVERITY, DEFAULT_LOG_WINDOW_HOURS, LOG_SINK (optional)
 *   preserveHttp           HTTP                  INSTANCE_WORKFLOW, LOG_WORKFLOW
 *   captureInstance, createSnapshots, checkSnapshots, isolateInstance   HTTP (Workflows)  EVIDENCE_LOCKER, RETENTION_DAYS
 *   copySnapshots          HTTP (Workflows)     EVIDENCE_LOCKER, RETENTION_DAYS, EVIDENCE_PROJECT, AMBER_SERVICE_ACCOUNT, SNAPSHOT_READER_ROLE
 *   preserveLogs           HTTP (Workflows)     EVIDENCE_LOCKER, RETENTION_DAYS, COLLECTOR_SERVICE_ACCOUNTS
 *   runDetections          HTTP (Scheduler)      EVIDENCE_LOCKER, BIGQUERY_PROJECT, BIGQUERY_DATASET, BIGQUERY_LOCATION
 *   inventoryProject       HTTP (Workflows, on demand)  EVIDENCE_LOCKER, RETENTION_DAYS, COLLECTOR_SERVICE_ACCOUNTS
 *   inventoryRequested     CloudEvent (Pub/Sub)  EVIDENCE_LOCKER, RETENTION_DAYS, COLLECTOR_SERVICE_ACCOUNTS
 */
import * as ff from '@google-cloud/functions-framework';
import { bundledCatalogue } from '../aws/bundled-catalogue.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { BigQueryQueryEngine } from './adapters/bigquery-query-engine.ts';
import { gcpTokenProvider } from './adapters/gcp-http.ts';
import { GCS_SCOPE, GcsObjectStore, parseGsUri } from './adapters/gcs-object-store.ts';
import { ComputeSnapshotProvider } from './adapters/compute-snapshot-provider.ts';
import { WorkflowsStarter } from './adapters/workflows-starter.ts';
import { captureInstanceHandler, checkSnapshotsHandler, copySnapshotsHandler, createSnapshotsHandler, isolateInstanceHandler, type InstanceStepDeps } from './handlers/instance-steps.ts';
import { runDetectionsHandler } from './handlers/run-detections.ts';
import { collectorTokens, preserveLogsHandler } from './handlers/log-steps.ts';
import { inventoryProjectHandler, inventoryRequestedHandler, type InventoryStepDeps } from './handlers/inventory-step.ts';
import { defaultAccessToken } from './adapters/google-rest.ts';
import { preservationRequestedHandler, preserveHttpHandler, sccFindingHandler, type StartPreservationDeps } from './handlers/start-preservation.ts';
import { actorOf, createLogger, readGcpEnv } from './runtime.ts';
import { SCC_SEVERITIES, type SccSeverity } from './triggers.ts';
import { InvalidInputError } from '../../shared/errors.ts';

/** Builds a value on first use and keeps it. */
function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

/**
 * The evidence locker named by EVIDENCE_LOCKER (`gs://bucket[/prefix]`), signed in as the function's service
 * account (Application Default Credentials). The bucket's retention and versioning are read on first use.
 */
function evidenceStore(locker: string): ObjectStore {
  const { bucket, prefix } = parseGsUri(locker);
  return new GcsObjectStore({ bucket, ...(prefix ? { prefix } : {}), token: gcpTokenProvider(process.env, [GCS_SCOPE], locker) });
}

const startDeps = (handler: string): (() => StartPreservationDeps) =>
  once(() => {
    const env = readGcpEnv(handler, ['INSTANCE_WORKFLOW', 'LOG_WORKFLOW']);
    const severity = (process.env.SCC_MIN_SEVERITY ?? 'HIGH').toUpperCase();
    if (!(SCC_SEVERITIES as readonly string[]).includes(severity)) throw new InvalidInputError(`SCC_MIN_SEVERITY must be one of ${SCC_SEVERITIES.join(', ')}, got ${JSON.stringify(severity)}`);
    const hours = Number(process.env.DEFAULT_LOG_WINDOW_HOURS ?? '24');
    if (!Number.isInteger(hours) || hours < 1) throw new InvalidInputError(`DEFAULT_LOG_WINDOW_HOURS must be a whole number of at least 1, got ${JSON.stringify(process.env.DEFAULT_LOG_WINDOW_HOURS)}`);
    const logSink = process.env.LOG_SINK ? process.env.LOG_SINK : undefined;
    if (logSink !== undefined) {
      try {
        parseGsUri(logSink);
      } catch (error) {
        throw new InvalidInputError(`LOG_SINK: ${(error as Error).message}`, { hint: 'set it to the gs://bucket[/prefix] of the log sink, or leave it empty', cause: error });
      }
    }
    return {
      starter: new WorkflowsStarter({ workflows: { instance: env.INSTANCE_WORKFLOW, logs: env.LOG_WORKFLOW } }),
      logger: createLogger(handler),
      config: { sccMinSeverity: severity as SccSeverity, defaultWindowHours: hours, ...(logSink === undefined ? {} : { logSink }) },
    };
  });

const stepDeps = (handler: string): (() => InstanceStepDeps) =>
  once(() => {
    const env = readGcpEnv(handler, ['EVIDENCE_LOCKER', 'RETENTION_DAYS']);
    const days = Number(env.RETENTION_DAYS);
    if (!Number.isInteger(days) || days < 1) throw new InvalidInputError(`RETENTION_DAYS must be a whole number of at least 1, got ${JSON.stringify(env.RETENTION_DAYS)}`);
    let collectors: Record<string, string>;
    try {
      collectors = JSON.parse(process.env.COLLECTOR_SERVICE_ACCOUNTS ?? '{}') as Record<string, string>;
    } catch (error) {
      throw new InvalidInputError(`COLLECTOR_SERVICE_ACCOUNTS is not JSON: ${JSON.stringify(process.env.COLLECTOR_SERVICE_ACCOUNTS)}`, { hint: 'a JSON object of project id -> collector service account email', cause: error });
    }
    const own = process.env.AMBER_SERVICE_ACCOUNT;
    return {
      provider: new ComputeSnapshotProvider({
        collectors,
        ...(own ? { evidenceMember: `serviceAccount:${own}` } : {}),
        ...(process.env.SNAPSHOT_READER_ROLE ? { snapshotReaderRole: process.env.SNAPSHOT_READER_ROLE } : {}),
      }),
      store: evidenceStore(env.EVIDENCE_LOCKER),
      ...(process.env.EVIDENCE_PROJECT ? { evidenceProject: process.env.EVIDENCE_PROJECT } : {}),
      actor: actorOf(),
      logger: createLogger(handler),
      retainUntil: () => new Date(Date.now() + days * 86_400_000),
    };
  });

/** Defers building a handler to its first call. */
function lazy<A extends unknown[], R>(make: () => (...args: A) => R): (...args: A) => R {
  const get = once(make);
  return (...args) => get()(...args);
}

ff.cloudEvent('preservationRequested', lazy(() => preservationRequestedHandler(startDeps('preservationRequested')())));
ff.cloudEvent('sccFinding', lazy(() => sccFindingHandler(startDeps('sccFinding')())));
ff.http('preserveHttp', lazy(() => preserveHttpHandler(startDeps('preserveHttp')())));
ff.http('captureInstance', lazy(() => captureInstanceHandler(stepDeps('captureInstance')())));
ff.http('createSnapshots', lazy(() => createSnapshotsHandler(stepDeps('createSnapshots')())));
ff.http('checkSnapshots', lazy(() => checkSnapshotsHandler(stepDeps('checkSnapshots')())));
ff.http('isolateInstance', lazy(() => isolateInstanceHandler(stepDeps('isolateInstance')())));
ff.http('copySnapshots', lazy(() => copySnapshotsHandler(stepDeps('copySnapshots')())));
ff.http('preserveLogs', lazy(() => {
  const steps = stepDeps('preserveLogs')();
  const collectors = JSON.parse(process.env.COLLECTOR_SERVICE_ACCOUNTS ?? '{}') as Record<string, string>; // checked by stepDeps
  return preserveLogsHandler({ ...steps, tokenFor: collectorTokens(collectors, defaultAccessToken()) });
}));
ff.http('runDetections', lazy(() => {
  const env = readGcpEnv('runDetections', ['EVIDENCE_LOCKER', 'BIGQUERY_PROJECT', 'BIGQUERY_DATASET', 'BIGQUERY_LOCATION']);
  return runDetectionsHandler({
    engine: new BigQueryQueryEngine({ project: env.BIGQUERY_PROJECT, dataset: env.BIGQUERY_DATASET, location: env.BIGQUERY_LOCATION }),
    store: evidenceStore(env.EVIDENCE_LOCKER),
    catalogue: bundledCatalogue(),
    dataset: `${env.BIGQUERY_PROJECT}.${env.BIGQUERY_DATASET}`,
    actor: actorOf(),
    logger: createLogger('runDetections'),
  });
}));

/** The inventory step: the steps' locker and ledger, each member project read as its collector. */
const inventoryDeps = (handler: string): (() => InventoryStepDeps) =>
  once(() => {
    const steps = stepDeps(handler)();
    const collectors = JSON.parse(process.env.COLLECTOR_SERVICE_ACCOUNTS ?? '{}') as Record<string, string>; // checked by stepDeps
    return { store: steps.store, actor: steps.actor, logger: steps.logger, ...(steps.retainUntil ? { retainUntil: steps.retainUntil } : {}), tokenFor: collectorTokens(collectors, defaultAccessToken()) };
  });
ff.http('inventoryProject', lazy(() => inventoryProjectHandler(inventoryDeps('inventoryProject')())));
ff.cloudEvent('inventoryRequested', lazy(() => inventoryRequestedHandler(inventoryDeps('inventoryRequested')())));
