/**
 * HTTP handler `runDetections`, called by Cloud Scheduler (OIDC token, internal ingress). Runs the selected
 * detections' BigQuery SQL (`query.bigquery.sql`) over the window before the scheduled time, writes the findings
 * write-once to the evidence store and records an `accessed` entry in each case they cite (the same use case the
 * AWS function runs). A detection without a BigQuery twin is refused by name, not silently skipped.
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import type { Detection } from '../../../shared/detections/catalogue.ts';
import { runScheduledDetections } from '../../../shared/detections/scheduled-run.ts';
import { InvalidInputError } from '../../../shared/errors.ts';
import type { Actor } from '../../../shared/evidence/model.ts';
import type { ObjectStore } from '../../../shared/ports/object-store.ts';
import type { QueryEngine } from '../../../shared/ports/query-engine.ts';
import { errorFields, type GcpLogger } from '../runtime.ts';

export interface RunDetectionsDeps {
  readonly engine: QueryEngine;
  readonly store: ObjectStore;
  readonly catalogue: readonly Detection[];
  /** `project.dataset` the detection tables live in. */
  readonly dataset: string;
  readonly actor: Actor;
  readonly logger: GcpLogger;
  readonly clock?: () => Date;
}

/** The catalogue as BigQuery runs it: each detection's SQL replaced by its BigQuery twin; others left out. */
export function bigqueryCatalogue(catalogue: readonly Detection[]): Detection[] {
  return catalogue.flatMap((d) => (d.bigquerySql === undefined ? [] : [{ ...d, sql: d.bigquerySql }]));
}

/**
 * A table limited to the hive partitions (`day`, the UTC day of each row's time) its window can touch: the external
 * tables require a partition filter, and it keeps BigQuery from reading (and billing) the other days' objects.
 * Rows without a readable time (`day=undated`) have no place in a window and are left out with the rest.
 */
export function partitionedTable(dataset: string, table: string, window: { readonly since: Date; readonly until: Date }): string {
  const day = (d: Date): string => d.toISOString().slice(0, 10);
  return `(SELECT * FROM \`${dataset}.${table}\` WHERE day BETWEEN '${day(window.since)}' AND '${day(window.until)}')`;
}

/** HTTP handler of the scheduled run: 200 with the run's summary, 400 naming a bad request. */
export function runDetectionsHandler(deps: RunDetectionsDeps): HttpFunction {
  const catalogue = bigqueryCatalogue(deps.catalogue);
  return async (req, res) => {
    try {
      const body = (req.body ?? {}) as { detections?: unknown; window?: unknown; scheduledTime?: unknown };
      const detections = Array.isArray(body.detections) ? body.detections.map(String) : [];
      const without = detections.filter((id) => !catalogue.some((d) => d.id === id));
      if (without.length > 0) {
        throw new InvalidInputError(`no BigQuery SQL for detection${without.length === 1 ? '' : 's'} ${without.join(', ')}`, {
          hint: `schedule only detections with a query.bigquery.sql: ${catalogue.map((d) => d.id).join(', ')}`,
        });
      }
      const tables = [...new Set(catalogue.map((d) => d.table))];
      const result = await runScheduledDetections(
        {
          engine: deps.engine,
          store: deps.store,
          catalogue,
          sources: (window) => Object.fromEntries(tables.map((t) => [t, partitionedTable(deps.dataset, t, window)])),
          actor: deps.actor,
          ...(deps.clock ? { clock: deps.clock } : {}),
        },
        { detections, window: String(body.window ?? ''), ...(typeof body.scheduledTime === 'string' ? { scheduledTime: body.scheduledTime } : {}) },
      );
      for (const e of result.errors) deps.logger.error('detection failed', { detection: e.detection, error: e.error });
      deps.logger.info('detections run', { runId: result.runId, findings: result.findings, findingsKey: result.findingsKey, cases: result.cases });
      res.status(200).json({ runId: result.runId, findingsKey: result.findingsKey, findingsSha256: result.findingsSha256, findings: result.findings, errors: result.errors, cases: result.cases });
    } catch (error) {
      deps.logger.error('detection run failed', errorFields(error));
      res.status(error instanceof InvalidInputError ? 400 : 500).json(errorFields(error));
    }
  };
}
