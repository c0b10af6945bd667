/**
 * The QueryEngine port on BigQuery (bigquery/v2 REST): jobs.insert with a deterministic job id, then
 * jobs.getQueryResults, whose `timeoutMs` makes BigQuery itself wait for the job (a long poll, not a sleep loop
 * here), page by page until the last. The SQL is BigQuery Standard SQL (a detection's `query.bigquery.sql`), not
 * Athena's: this engine is the one adapter of the port that speaks another dialect, and the GCP detection run
 * hands it only detections that have a BigQuery twin.
 *
 * Values follow the port's contract: INT64 -> number when safe, else its decimal string; FLOAT64/NUMERIC ->
 * number; BOOL -> boolean; TIMESTAMP (seconds since the epoch in the REST answer) -> ISO-8601 UTC; REPEATED ->
 * arrays; RECORD -> objects; NULL -> null.
 */
import { InvalidInputError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import type { QueryEngine, QueryParam, QueryRow, QueryValue } from '../../../shared/ports/query-engine.ts';
import { QueryError } from '../../../shared/query/errors.ts';
import { GoogleCallError, GoogleRest, type GoogleRestOptions } from './google-rest.ts';

const BIGQUERY = 'https://bigquery.googleapis.com/bigquery/v2';

/** A column of the result schema (TableFieldSchema). */
export interface BqField {
  readonly name: string;
  readonly type: string;
  readonly mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  readonly fields?: readonly BqField[];
}

/** A cell (`{v}`) of a result row (`{f: [...]}`), as the REST API returns it. */
type BqCell = { readonly v: unknown };

interface QueryResults {
  readonly jobComplete?: boolean;
  readonly schema?: { readonly fields?: readonly BqField[] };
  readonly rows?: readonly { readonly f: readonly BqCell[] }[];
  readonly pageToken?: string;
  readonly errors?: readonly { readonly message?: string; readonly reason?: string }[];
  readonly jobReference?: { readonly jobId?: string };
}

export interface BigQueryQueryEngineOptions extends GoogleRestOptions {
  /** Project the jobs run (and are billed) in. */
  readonly project: string;
  /** Dataset unqualified table names resolve in (`gcp_audit`). */
  readonly dataset: string;
  /** Location of the dataset (EU, US, europe-west1). */
  readonly location: string;
  /** Bytes a query may bill before BigQuery refuses it (a cost guard). @default 10 GiB */
  readonly maximumBytesBilled?: number;
  /** How long one getQueryResults call waits for the job. @default 10 000 ms */
  readonly waitMs?: number;
  /** Give up after this many getQueryResults calls that found the job still running. @default 60 */
  readonly maxWaits?: number;
  readonly rest?: GoogleRest;
  /** Job id prefix; the rest is a hash of the statement and parameters and the time. @default 'amber' */
  readonly jobPrefix?: string;
  /** @default () => Date.now() */
  readonly now?: () => number;
}

/** BigQuery as the QueryEngine, for BigQuery Standard SQL. */
export class BigQueryQueryEngine implements QueryEngine {
  private readonly rest: GoogleRest;
  private closed = false;

  constructor(private readonly options: BigQueryQueryEngineOptions) {
    if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(options.project)) throw new InvalidInputError(`not a Google Cloud project id: ${JSON.stringify(options.project)}`, { hint: 'set BIGQUERY_PROJECT' });
    if (!/^[A-Za-z0-9_]{1,1024}$/.test(options.dataset)) throw new InvalidInputError(`not a BigQuery dataset name: ${JSON.stringify(options.dataset)}`, { hint: 'set BIGQUERY_DATASET (letters, digits, underscores)' });
    this.rest = options.rest ?? new GoogleRest(options);
  }

  async query<T = QueryRow>(sql: string, params: readonly QueryParam[] = []): Promise<T[]> {
    if (this.closed) throw new QueryError('the BigQuery engine is closed', sql);
    const { project, location } = this.options;
    const now = (this.options.now ?? Date.now)();
    const jobId = `${this.options.jobPrefix ?? 'amber'}_${sha256Hex(`${sql}\n${JSON.stringify(params)}\n${now}`).slice(0, 32)}`;
    try {
      await this.rest.call(`${BIGQUERY}/projects/${project}/jobs`, {
        call: 'bigquery.jobs.insert',
        resource: `projects/${project}/jobs/${jobId}`,
        method: 'POST',
        // 409: the same job id inserted by an earlier attempt of this call, whose answer was lost: read its results.
        accept: [409],
        body: {
          jobReference: { projectId: project, jobId, location },
          configuration: {
            query: {
              query: sql,
              useLegacySql: false,
              defaultDataset: { projectId: project, datasetId: this.options.dataset },
              maximumBytesBilled: String(this.options.maximumBytesBilled ?? 10 * 1024 ** 3),
              ...(params.length > 0 ? { parameterMode: 'POSITIONAL', queryParameters: params.map(toParameter) } : {}),
            },
          },
        },
      });
      const rows: T[] = [];
      let pageToken: string | undefined;
      let waits = 0;
      let fields: readonly BqField[] = [];
      for (;;) {
        const query = new URLSearchParams({ location, timeoutMs: String(this.options.waitMs ?? 10_000), ...(pageToken ? { pageToken } : {}) });
        const page = (await this.rest.call<QueryResults>(`${BIGQUERY}/projects/${project}/queries/${jobId}?${query.toString()}`, { call: 'bigquery.jobs.getQueryResults', resource: `projects/${project}/jobs/${jobId}` })).body;
        if (page.errors && page.errors.length > 0) throw new QueryError(`BigQuery job ${jobId} failed: ${page.errors.map((e) => e.message).join('; ')}`, sql);
        if (page.jobComplete === false) {
          if (++waits >= (this.options.maxWaits ?? 60)) throw new QueryError(`BigQuery job ${jobId} still running after ${waits} waits`, sql, { hint: 'narrow the window or raise maxWaits' });
          continue;
        }
        fields = page.schema?.fields ?? fields;
        for (const row of page.rows ?? []) rows.push(rowOf(fields, row.f) as T);
        pageToken = page.pageToken;
        if (!pageToken) return rows;
      }
    } catch (error) {
      if (error instanceof QueryError) throw error;
      if (error instanceof GoogleCallError) throw new QueryError(`query failed on BigQuery: ${error.message}`, sql, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function toParameter(value: QueryParam): unknown {
  if (value === null) return { parameterType: { type: 'STRING' }, parameterValue: {} };
  if (typeof value === 'boolean') return { parameterType: { type: 'BOOL' }, parameterValue: { value: String(value) } };
  if (typeof value === 'number') return { parameterType: { type: Number.isInteger(value) ? 'INT64' : 'FLOAT64' }, parameterValue: { value: String(value) } };
  return { parameterType: { type: 'STRING' }, parameterValue: { value } };
}

/** One REST row as a plain object keyed by column name, in column order. */
export function rowOf(fields: readonly BqField[], cells: readonly BqCell[]): QueryRow {
  const out: QueryRow = {};
  fields.forEach((field, i) => {
    out[field.name] = valueOf(field, cells[i]?.v);
  });
  return out;
}

function valueOf(field: BqField, v: unknown): QueryValue {
  if (v === null || v === undefined) return field.mode === 'REPEATED' ? [] : null;
  if (field.mode === 'REPEATED') return (v as BqCell[]).map((c) => valueOf({ ...field, mode: 'NULLABLE' }, c.v));
  switch (field.type) {
    case 'RECORD':
    case 'STRUCT':
      return rowOf(field.fields ?? [], (v as { f: BqCell[] }).f);
    case 'INTEGER':
    case 'INT64': {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : String(v);
    }
    case 'FLOAT':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return Number(v);
    case 'BOOLEAN':
    case 'BOOL':
      return v === 'true' || v === true;
    case 'TIMESTAMP': {
      const micros = BigInt(Math.round(Number(v) * 1e6));
      const ms = Number(micros / 1000n);
      const iso = new Date(ms).toISOString();
      const rest = Number(micros % 1000n);
      return rest === 0 ? iso : `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
    }
    case 'BYTES':
      return Uint8Array.from(Buffer.from(String(v), 'base64'));
    default:
      return String(v);
  }
}
