/**
 * The embedded query engine: DuckDB speaking Athena's dialect. One instance, one connection, statements run one at a
 * time (DuckDB parallelises inside a statement; interleaving statements on one connection gains nothing).
 *
 * The connection is Athena-flavoured for its whole life: the compatibility layer (athena-compat.ts) shadows some
 * DuckDB function names with their Trino meaning, so DuckDB-dialect SQL sent through `exec` sees the Trino meaning
 * of `regexp_replace`, `split_part`, `date_diff`... too. Loaders write their SQL with that in mind.
 */
import {
  DuckDBArrayValue,
  DuckDBBitValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBIntervalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeTZValue,
  DuckDBTimeValue,
  DuckDBUnionValue,
  DuckDBUUIDValue,
  StatementType,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueryEngine, QueryParam, QueryRow, QueryValue } from '../ports/query-engine.ts';
import { ATHENA_UNSUPPORTED, athenaCompatStatements } from './athena-compat.ts';
import { QueryError } from './errors.ts';

/** How to open the embedded engine. */
export interface DuckDbQueryEngineOptions {
  /**
   * Database file. A file keeps materialised tables across runs.
   * @default in memory
   */
  readonly path?: string;
  /**
   * Worker threads inside one statement.
   * @default DuckDB's default (the number of cores)
   */
  readonly threads?: number;
  /**
   * Most memory DuckDB may hold (DuckDB's syntax: `1GB`, `512MB`); past it, operators spill to `tempDirectory`.
   * @default '1GB', so a case of any size loads in bounded memory
   */
  readonly memoryLimit?: string;
  /**
   * Where DuckDB spills. A folder the engine creates for itself (mode 0700, removed by `close`) unless given.
   * @default a private folder under the OS temp directory
   */
  readonly tempDirectory?: string;
  /**
   * Without `path`: keep the tables in a database file in the engine's private spill folder (removed by `close`)
   * instead of in memory. DuckDB stores a file database compressed and evicts its blocks under `memoryLimit`, so a
   * case of millions of events (its loaded tables, the timeline) costs disk, not memory; an in-memory database
   * holds them uncompressed. Case sessions use it; small engines (fixtures, tests) need not.
   * @default false
   */
  readonly scratchFile?: boolean;
}

/** DuckDB's memory_limit syntax, checked before DuckDB sees it (it would otherwise fail with a parser message). */
const MEMORY_SIZE = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

/** The default memory_limit of the embedded engine. */
export const DEFAULT_MEMORY_LIMIT = '1GB';

/** The Athena-dialect QueryEngine over embedded DuckDB. */
export class DuckDbQueryEngine implements QueryEngine {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Run by `close` after DuckDB is closed, newest first (private folders the engine's views read). */
  private readonly closers: Array<() => Promise<void>> = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens DuckDB (in memory unless `path` is given), sets UTC and installs the Athena compatibility layer. */
  static async create(options: DuckDbQueryEngineOptions = {}): Promise<DuckDbQueryEngine> {
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
      throw new QueryError(`threads must be a positive integer, got ${options.threads}`, '', {
        hint: 'pass threads: 1 or more, or leave it out to use every core',
      });
    }
    const config: Record<string, string> = {
      // Tests and offline cases never reach the network: json, parquet and icu are built into the bindings.
      autoinstall_known_extensions: 'false',
    };
    if (options.threads !== undefined) config.threads = String(options.threads);
    const memoryLimit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
    if (!MEMORY_SIZE.test(memoryLimit)) {
      throw new QueryError(`memory limit must be a size such as 1GB or 512MB, got ${JSON.stringify(memoryLimit)}`, '', {
        hint: 'give a number and a unit (KB, MB, GB, TB, or KiB, MiB, GiB, TiB), for example AMBER_DUCKDB_MEMORY=2GB',
      });
    }
    config.memory_limit = memoryLimit;
    // Spilled blocks hold evidence rows: they go to a folder only this process can read, removed on close.
    const spill = options.tempDirectory ?? (await mkdtemp(join(tmpdir(), 'amber-spill-')));
    if (options.tempDirectory === undefined) await chmod(spill, 0o700);
    config.temp_directory = spill;
    // The scratch database lives beside the spilled blocks, in a folder only this process reads (it holds evidence
    // rows too); a folder made for it when the caller chose where to spill.
    const scratch = options.path === undefined && options.scratchFile ? (options.tempDirectory === undefined ? spill : await mkdtemp(join(tmpdir(), 'amber-db-'))) : undefined;
    if (scratch !== undefined && scratch !== spill) await chmod(scratch, 0o700);
    const path = options.path ?? (scratch !== undefined ? join(scratch, 'case.duckdb') : ':memory:');
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, config);
    } catch (cause) {
      if (options.tempDirectory === undefined) await rm(spill, { recursive: true, force: true });
      if (scratch !== undefined && scratch !== spill) await rm(scratch, { recursive: true, force: true });
      throw new QueryError(`cannot open DuckDB database ${path}: ${messageOf(cause)}`, '', {
        cause,
        hint: 'check that the directory exists and no other process holds the database file open',
      });
    }
    const connection = await instance.connect();
    const engine = new DuckDbQueryEngine(instance, connection);
    if (options.tempDirectory === undefined) engine.onClose(() => rm(spill, { recursive: true, force: true }));
    if (scratch !== undefined && scratch !== spill) engine.onClose(() => rm(scratch, { recursive: true, force: true }));
    for (const statement of athenaCompatStatements()) await engine.exec(statement);
    return engine;
  }

  /** Runs one Athena-dialect statement and returns its rows as plain JS values (see the QueryEngine contract). */
  async query<T = QueryRow>(sql: string, params: readonly QueryParam[] = []): Promise<T[]> {
    return this.serialised(async () => {
      const reader = await this.connection.runAndReadAll(sql, params.map(toDuckDbParam));
      const names = reader.columnNames();
      const rows = reader.getRows();
      return plainRows<T>(names, rows);
    }, sql);
  }

  /**
   * Runs one Athena-dialect statement and yields its rows in chunks (DuckDB's vectors, 2,048 rows at most), as
   * `query` converts them, so a result of millions of rows is never in memory at once. The connection is held
   * until the iteration ends (or is left early); other statements wait their turn.
   */
  async *stream<T = QueryRow>(sql: string, params: readonly QueryParam[] = []): AsyncGenerator<T[]> {
    if (this.closed) throw new QueryError(`query engine is closed: ${firstLine(sql)}`, sql, { hint: 'create a new DuckDbQueryEngine; close() releases it for good' });
    let release!: () => void;
    const turn = this.queue;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    try {
      await turn;
      let result;
      try {
        result = await this.connection.stream(sql, params.map(toDuckDbParam));
      } catch (cause) {
        throw toQueryError(cause, sql);
      }
      const names = result.columnNames();
      for (;;) {
        let chunk;
        try {
          chunk = await result.fetchChunk();
        } catch (cause) {
          throw toQueryError(cause, sql);
        }
        if (!chunk || chunk.rowCount === 0) return;
        yield plainRows<T>(names, chunk.getRows());
      }
    } finally {
      release();
    }
  }

  /** Runs a DuckDB-dialect statement for its effect (DDL, loads); for adapters and loaders, not detections. */
  async exec(sql: string, params: readonly QueryParam[] = []): Promise<void> {
    await this.serialised(() => this.connection.run(sql, params.map(toDuckDbParam)), sql);
  }

  /**
   * Whether `sql` is exactly one statement DuckDB itself types as SELECT (a WITH ... SELECT is one), prepared but
   * not run: its column names when it is, else what it is (`2 statements`, `COPY`, `ATTACH`...). A statement that
   * cannot be prepared throws a QueryError.
   */
  async selectColumns(sql: string): Promise<{ columns: string[] } | { refused: string }> {
    return this.serialised(async () => {
      const extracted = await this.connection.extractStatements(sql);
      if (extracted.count !== 1) return { refused: `${extracted.count} statements` };
      const prepared = await extracted.prepare(0);
      const type = prepared.statementType;
      if (type !== StatementType.SELECT) return { refused: `a ${StatementType[type] ?? `type ${type}`} statement` };
      return { columns: Array.from({ length: prepared.columnCount }, (_, i) => prepared.columnName(i)) };
    }, sql);
  }

  /**
   * From now on the engine touches no file but `readable` (read only: DuckDB's allowed_paths with external
   * access off), loads and installs nothing, and its settings cannot be changed back (lock_configuration).
   */
  async lockDown(readable: readonly string[]): Promise<void> {
    const lit = (v: string): string => `'${v.replaceAll("'", "''")}'`;
    await this.exec(`SET allowed_paths = [${readable.map(lit).join(', ')}]`);
    await this.exec('SET enable_external_access = false');
    await this.exec('SET lock_configuration = true');
  }

  /** Files the database's views read (the verified copies they were made over), sorted. */
  async viewFiles(): Promise<string[]> {
    const rows = await this.query<{ sql: string }>('SELECT sql FROM duckdb_views() WHERE NOT internal ORDER BY view_name');
    const files = new Set<string>();
    // Views are Amber's own (CREATE VIEW ... read_parquet([...])): their path literals are the files they read.
    for (const r of rows) for (const m of r.sql.matchAll(/'((?:[^']|'')+)'/g)) if (m[1]!.startsWith('/')) files.add(m[1]!.replaceAll("''", "'"));
    return [...files].sort();
  }

  /** Closes the connection and the database, then removes what `onClose` registered. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    this.connection.closeSync();
    this.instance.closeSync();
    for (const closer of this.closers.reverse()) await closer();
  }

  /** Runs `closer` when the engine closes: for files its views read (they must outlive every query). */
  onClose(closer: () => Promise<void>): void {
    this.closers.push(closer);
  }

  private serialised<R>(work: () => Promise<R>, sql: string): Promise<R> {
    if (this.closed) {
      return Promise.reject(new QueryError(`query engine is closed: ${firstLine(sql)}`, sql, {
        hint: 'create a new DuckDbQueryEngine; close() releases it for good',
      }));
    }
    const run = this.queue.then(work).catch((cause: unknown) => {
      throw cause instanceof QueryError ? cause : toQueryError(cause, sql);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function toDuckDbParam(value: QueryParam): DuckDBValue {
  // Integral numbers bind as BIGINT so `LIMIT ?` and integer comparisons keep integer semantics, as in Athena.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return value;
}

function toQueryError(cause: unknown, sql: string): QueryError {
  const message = messageOf(cause);
  const missing = /with name (\w+) does not exist/i.exec(message)?.[1]?.toLowerCase();
  const gap = missing === undefined ? undefined : ATHENA_UNSUPPORTED.find((g) => g.feature.split(/[^a-z0-9_]+/).includes(missing));
  const hint = gap
    ? `${missing} is not available offline: ${gap.reason}. Instead: ${gap.instead}`
    : 'detection SQL must be Athena (Trino) SQL within the subset listed in shared/query/athena-compat.ts';
  return new QueryError(`query failed: ${message.split('\n')[0]}\n  in: ${firstLine(sql)}`, sql, { cause, hint });
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

function firstLine(sql: string): string {
  const line = sql.trim().split('\n')[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function bigintToPlain(n: bigint): number | string {
  return n <= MAX_SAFE && n >= -MAX_SAFE ? Number(n) : n.toString();
}

/** ISO-8601 UTC from microseconds since the epoch: milliseconds always, microseconds only when present. */
function microsToIso(micros: bigint): string {
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const subMillis = Number(micros - millis * 1000n);
  const iso = new Date(Number(millis)).toISOString();
  return subMillis === 0 ? iso : `${iso.slice(0, -1)}${String(subMillis).padStart(3, '0')}Z`;
}

function timestampToPlain(value: { isFinite: boolean; toString(): string }, micros: () => bigint): string {
  return value.isFinite ? microsToIso(micros()) : value.toString();
}

/** Converts one DuckDB value to the plain JS value the QueryEngine contract promises. */
export function toPlain(value: DuckDBValue): QueryValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return bigintToPlain(value);
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map(toPlain);
  if (value instanceof DuckDBStructValue) {
    const out: Record<string, QueryValue> = {};
    for (const [k, v] of Object.entries(value.entries)) out[k] = toPlain(v);
    return out;
  }
  if (value instanceof DuckDBMapValue) {
    const out: Record<string, QueryValue> = {};
    for (const { key, value: v } of value.entries) out[String(toPlain(key))] = toPlain(v);
    return out;
  }
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) {
    return timestampToPlain(value, () => value.micros);
  }
  if (value instanceof DuckDBTimestampMillisecondsValue) return timestampToPlain(value, () => value.millis * 1000n);
  if (value instanceof DuckDBTimestampSecondsValue) return timestampToPlain(value, () => value.seconds * 1_000_000n);
  if (value instanceof DuckDBTimestampNanosecondsValue) return timestampToPlain(value, () => value.nanos / 1000n);
  if (value instanceof DuckDBDateValue) return value.toString();
  if (value instanceof DuckDBDecimalValue) return value.toDouble();
  if (value instanceof DuckDBBlobValue) return value.bytes;
  if (value instanceof DuckDBBitValue || value instanceof DuckDBUUIDValue) return value.toString();
  if (value instanceof DuckDBTimeValue || value instanceof DuckDBTimeTZValue) return value.toString();
  if (value instanceof DuckDBIntervalValue) {
    return { months: value.months, days: value.days, micros: bigintToPlain(value.micros) };
  }
  if (value instanceof DuckDBUnionValue) return toPlain(value.value);
  return String(value);
}

/** DuckDB rows as objects keyed by column name, each value as the QueryEngine contract gives it. */
function plainRows<T>(names: readonly string[], rows: readonly (readonly DuckDBValue[])[]): T[] {
  return rows.map((row) => {
    const out: Record<string, QueryValue> = {};
    names.forEach((name, i) => {
      out[name] = toPlain(row[i] ?? null);
    });
    return out as T;
  });
}
