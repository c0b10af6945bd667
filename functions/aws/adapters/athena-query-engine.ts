/**
 * The QueryEngine port on Athena: StartQueryExecution in a workgroup (its result location and limits apply),
 * positional parameters as ExecutionParameters, GetQueryExecution polled with a growing delay until the
 * query ends, then every page of GetQueryResults converted to plain JS values by each column's type, as the
 * port's contract states (so a finding reads the same whether DuckDB or Athena produced it).
 *
 * Limits of Athena's text results, stated rather than guessed around: arrays, maps and rows arrive as Trino's
 * display text (`[a, b]`, `{k=v}`); they are split into arrays and objects, but their leaves stay strings (the
 * result metadata gives no element types, and a string containing `, ` cannot be told from two elements).
 * Queries that need exact nested values select `CAST(x AS JSON)`, which arrives as a JSON string.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type ColumnInfo,
  type QueryExecution,
} from '@aws-sdk/client-athena';
import { InvalidInputError } from '../../../shared/errors.ts';
import type { QueryEngine, QueryParam, QueryRow, QueryValue } from '../../../shared/ports/query-engine.ts';
import { QueryError } from '../../../shared/query/errors.ts';
import { sdkClientConfig, type AwsClientConfig } from './aws-client.ts';
import { awsErrorInfo, awsHint } from './aws-errors.ts';

export interface AthenaQueryEngineOptions {
  /** Workgroup the queries run in (its output location and data limits apply). */
  readonly workgroup: string;
  /** Glue database unqualified table names resolve in. */
  readonly database: string;
  /** @default 'AwsDataCatalog' */
  readonly catalog?: string;
  /**
   * The Athena client.
   * @default new AthenaClient(sdkClientConfig(clientConfig)), built only when none is given
   */
  readonly client?: AthenaClient;
  /** Used only when `client` is not given. @default {} */
  readonly clientConfig?: AwsClientConfig;
  /** First delay between GetQueryExecution calls; it grows by half each time. @default 250 ms */
  readonly pollIntervalMs?: number;
  /** @default 2 000 ms */
  readonly maxPollIntervalMs?: number;
  /** A query still running after this long is stopped and fails. @default 10 minutes */
  readonly timeoutMs?: number;
  /** Rows per GetQueryResults page (Athena allows 1000). @default 1000 */
  readonly pageSize?: number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default () => Date.now() */
  readonly now?: () => number;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** Athena as the QueryEngine: Athena-dialect SQL in a workgroup, plain JS rows back. */
export class AthenaQueryEngine implements QueryEngine {
  private readonly client: AthenaClient;
  private closed = false;

  constructor(private readonly options: AthenaQueryEngineOptions) {
    if (!options.workgroup || !options.database) {
      throw new InvalidInputError('the Athena engine needs a workgroup and a database', { hint: 'set ATHENA_WORKGROUP and ATHENA_DATABASE' });
    }
    this.client = options.client ?? new AthenaClient(sdkClientConfig(options.clientConfig));
  }

  async query<T = QueryRow>(sql: string, params: readonly QueryParam[] = []): Promise<T[]> {
    if (this.closed) throw new QueryError('the Athena engine is closed', sql, { hint: 'create a new AthenaQueryEngine' });
    const id = await this.start(sql, params);
    const execution = await this.waitFor(id, sql);
    return (await this.results(id, sql, execution)) as T[];
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async start(sql: string, params: readonly QueryParam[]): Promise<string> {
    try {
      const out = await this.client.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          WorkGroup: this.options.workgroup,
          QueryExecutionContext: { Database: this.options.database, Catalog: this.options.catalog ?? 'AwsDataCatalog' },
          ...(params.length > 0 ? { ExecutionParameters: params.map(sqlLiteral) } : {}),
        }),
      );
      if (!out.QueryExecutionId) throw new Error('StartQueryExecution returned no QueryExecutionId');
      return out.QueryExecutionId;
    } catch (err) {
      throw this.callError(err, 'start', sql, undefined);
    }
  }

  private async waitFor(id: string, sql: string): Promise<QueryExecution> {
    const now = this.options.now ?? (() => Date.now());
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const deadline = now() + (this.options.timeoutMs ?? 10 * 60_000);
    let delay = this.options.pollIntervalMs ?? 250;
    for (;;) {
      let execution: QueryExecution | undefined;
      try {
        execution = (await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
      } catch (err) {
        throw this.callError(err, 'check', sql, id);
      }
      const state = execution?.Status?.State;
      if (execution && state && TERMINAL.has(state)) {
        if (state === 'SUCCEEDED') return execution;
        const reason = execution.Status?.AthenaError?.ErrorMessage ?? execution.Status?.StateChangeReason ?? 'Athena gave no reason';
        const type = execution.Status?.AthenaError?.ErrorType;
        throw new QueryError(`Athena query ${id} ${state === 'FAILED' ? 'failed' : 'was cancelled'}: ${reason} (${firstLine(sql)})`, sql, {
          hint:
            state === 'CANCELLED'
              ? 'someone (or the workgroup\'s data limit) stopped the query; run it again or raise the limit'
              : type === 1002 || /SYNTAX_ERROR|TABLE_NOT_FOUND|COLUMN_NOT_FOUND/.test(reason)
                ? 'fix the query or the table it reads (Athena dialect: Trino)'
                : 'see the reason; transient Athena failures pass when the query runs again',
        });
      }
      if (now() >= deadline) {
        await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
        throw new QueryError(`Athena query ${id} was still ${state ?? 'unknown'} after ${Math.round((this.options.timeoutMs ?? 600_000) / 1000)} s and was stopped (${firstLine(sql)})`, sql, {
          hint: 'narrow the window (partition pruning on "timestamp") or raise the engine\'s timeoutMs',
        });
      }
      await sleep(delay);
      delay = Math.min(Math.ceil(delay * 1.5), this.options.maxPollIntervalMs ?? 2_000);
    }
  }

  private async results(id: string, sql: string, execution: QueryExecution): Promise<QueryRow[]> {
    const rows: QueryRow[] = [];
    let columns: ColumnInfo[] | undefined;
    let token: string | undefined;
    let first = true;
    do {
      let page;
      try {
        page = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: this.options.pageSize ?? 1000 }));
      } catch (err) {
        throw this.callError(err, 'read the results of', sql, id);
      }
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const data = page.ResultSet?.Rows ?? [];
      // SELECT results repeat the column names as their first row; DDL and utility statements do not.
      const skip = first && execution.StatementType === 'DML' ? 1 : 0;
      for (const row of data.slice(skip)) {
        const out: QueryRow = {};
        columns.forEach((col, i) => {
          out[col.Name ?? `_col${i}`] = athenaValue(col.Type ?? 'varchar', row.Data?.[i]?.VarCharValue);
        });
        rows.push(out);
      }
      first = false;
      token = page.NextToken;
    } while (token);
    return rows;
  }

  private callError(err: unknown, action: string, sql: string, id: string | undefined): QueryError {
    if (err instanceof QueryError) return err;
    const info = awsErrorInfo(err);
    const which = id === undefined ? 'an Athena query' : `Athena query ${id}`;
    return new QueryError(`cannot ${action} ${which} in workgroup ${this.options.workgroup}: ${info.name}${info.status === undefined ? '' : ` (HTTP ${info.status})`}: ${info.message} (${firstLine(sql)})`, sql, {
      hint: awsHint(err, `athena:${action === 'start' ? 'StartQueryExecution' : action === 'check' ? 'GetQueryExecution' : 'GetQueryResults'}`, `workgroup ${this.options.workgroup}`),
      cause: err,
    });
  }
}

/** A positional parameter as the SQL literal Athena's ExecutionParameters take. */
export function sqlLiteral(value: QueryParam): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError(`cannot pass ${value} as an Athena parameter`, { hint: 'pass a finite number, or the text as a string' });
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/** Converts one Athena result value (text, or undefined for NULL) by its column type, as the QueryEngine contract states. */
export function athenaValue(type: string, text: string | undefined): QueryValue {
  if (text === undefined) return null;
  const base = type.toLowerCase().replace(/\(.*?\)/g, '').trim();
  switch (base) {
    case 'boolean':
      return text === 'true';
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint': {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
      return Number(text);
    case 'date':
      return text;
    case 'timestamp':
      return isoTimestamp(text, 'UTC');
    case 'timestamp with time zone': {
      const m = /^(\S+ \S+) (\S+)$/.exec(text);
      return m ? isoTimestamp(m[1]!, m[2]!) : text;
    }
    case 'varbinary':
      return Uint8Array.from(text.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));
    case 'array':
    case 'map':
    case 'row':
      return parseDisplay(text);
    default:
      return text;
  }
}

const WALL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/** `YYYY-MM-DD HH:mm:ss[.f]` in a zone (`UTC`, `+02:00`, `Europe/Paris`) as ISO-8601 UTC; the text unchanged if unreadable. */
function isoTimestamp(text: string, zone: string): string {
  const m = WALL.exec(text);
  if (!m) return text;
  const fraction = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(fraction.slice(0, 3)));
  const offset = zoneOffsetMs(zone, wall);
  if (offset === undefined) return text;
  const iso = new Date(wall - offset).toISOString();
  const micros = fraction.slice(3);
  return micros === '000' ? iso : `${iso.slice(0, -1)}${micros}Z`;
}

/** Offset of a zone from UTC at (about) a wall-clock time, in milliseconds; undefined for an unknown zone. */
function zoneOffsetMs(zone: string, wall: number): number | undefined {
  if (zone === 'UTC' || zone === 'Z' || zone === 'GMT' || zone === 'Etc/UTC') return 0;
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000;
  try {
    const at = (t: number): number => {
      const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(t));
      const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
      return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(t / 1000) * 1000;
    };
    // The offset at the wall time read as UTC, corrected once for a change (daylight saving) in between.
    const first = at(wall);
    const second = at(wall - first);
    return second;
  } catch {
    return undefined;
  }
}

/** Splits Trino's display text of arrays (`[a, b]`), maps and rows (`{k=v, k2=v2}`); leaves stay strings. */
function parseDisplay(text: string): QueryValue {
  const t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) {
    const inner = t.slice(1, -1);
    return inner.trim() === '' ? [] : splitTop(inner).map(parseDisplay);
  }
  if (t.startsWith('{') && t.endsWith('}')) {
    const inner = t.slice(1, -1);
    const out: Record<string, QueryValue> = {};
    if (inner.trim() === '') return out;
    for (const part of splitTop(inner)) {
      const eq = part.indexOf('=');
      if (eq < 0) return text; // not key=value: keep the display text
      out[part.slice(0, eq).trim()] = parseDisplay(part.slice(eq + 1));
    }
    return out;
  }
  return t === 'null' ? null : t;
}

/** Splits on `, ` at bracket depth zero. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0 && text[i + 1] === ' ') {
      out.push(text.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  out.push(text.slice(start));
  return out;
}

function firstLine(sql: string): string {
  const line = sql.trim().split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('--')) ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
