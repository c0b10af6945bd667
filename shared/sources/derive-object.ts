/**
 * Derive in the cloud: one preserved object of a case becomes typed Parquet rows, as soon as it is preserved, with
 * the same recognition and parsers the CLI uses (recogniseSource, parseCloudTrail, each LogSource's `parse`) and the
 * same table shapes (loadCloudTrailTable, loadSourceTable), so a detection reads the same rows in Athena as in the
 * embedded engine.
 *
 * - Verified first: the object's custody record (its ledger item) names its SHA-256; the bytes read are hashed and a
 *   mismatch is an integrity failure recorded in the ledger (`verified`, with the failure), nothing is derived. An
 *   object the ledger does not know yet is refused with a retryable error (NotRecordedError): its custody record may
 *   still be on its way (a collect appends after it uploads), and an object nobody recorded is not evidence to derive.
 * - Layout (read by the Glue tables of infra/lib/athena-sources.ts and by the local engine, derivedParquetPaths):
 *   `cases/<case>/_amber/derived/parquet/<table>/<yyyy>/<MM>/<dd>/<scope>.<region>.<input sha256>.parquet`, where the
 *   date is the rows' event day (`undated` for rows without a readable time), the scope the account, tenant or
 *   project and the region the row's own (`unknown` when the source has none). Case and day are folders because they
 *   are what Athena prunes on (the case injected, the day projected as a date); scope and region are in the name, not
 *   folders, because their values are unknown at deploy time (tenants, projects), so no projection could list them.
 * - Every row keeps evidence_key (the original's key) and evidence_record (its index in the original), in that order,
 *   so a finding cites the original record exactly as a local one does.
 * - Each Parquet file is an evidence item: hashed as stored, write-once (Object Lock in S3), recorded in one
 *   `derived` ledger entry with the input's key, version and SHA-256. Records that could not be parsed are listed in
 *   that entry and in a problems sidecar (`.../parquet/_problems/<input item id>.<input sha256, 16>.json`, also an item) with the object
 *   and position, as the local loader reports them; the original stays preserved whatever happens.
 * - Idempotent: the keys are fixed by the input's key and SHA-256 (two objects with the same bytes hold different
 *   evidence keys, so they never share a derived key) and the bytes by the input (one DuckDB thread, rows in
 *   evidence order), so a second derivation finds the entry recorded and returns it, and one interrupted between
 *   storing and recording stores the same bytes again (write-once: already there with the same hash is done) and
 *   records them once (recordCustody's idempotency key).
 * - An index object per event day and case (`derived-index/<yyyy>/<MM>/<dd>/<case>`) tells the scheduled detections
 *   which cases hold rows of a day without listing every case.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmberError, IntegrityError, isAmberError, NotRecordedError } from '../errors.ts';
import { CustodyLedger } from '../evidence/ledger.ts';
import type { Actor, EvidenceItem, LedgerEntry } from '../evidence/model.ts';
import { amberPrefix, casePrefix, validateCaseName } from '../evidence/names.ts';
import { itemId } from '../evidence/collect.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';
import { recordCustody } from '../preservation/custody.ts';
import { DERIVED_INDEX_PREFIX } from './derived-index.ts';
import { DuckDbQueryEngine } from '../query/duckdb-engine.ts';
import { cloudTrailRecordProblem, loadCloudTrailTable } from '../query/tables/cloudtrail.ts';
import { parseCloudTrail, sniffCloudTrail, toNdjsonLines } from './cloudtrail/index.ts';
import { decodeUtf8, inflateGzip, isGzip } from './cloudtrail/bytes.ts';
import { dayExpression } from './columnar.ts';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from './input-scan.ts';
import type { LogSource } from './log-source.ts';
import { headText, RECOGNITION_BYTES } from './recognise.ts';
import { detectSource, LOG_SOURCES, sourceById } from './registry.ts';
import { loadSourceTable, sourceRowLine, sourceRowProblem } from './source-table.ts';

/** Version of the derived Parquet layout; recorded in each entry's detail as `parquet`. */
export const DERIVED_PARQUET_FORMAT = 1;

/** Folder of a case's derived Parquet, under its `_amber/` prefix. */
export const DERIVED_PARQUET_FOLDER = 'derived/parquet/';


/**
 * Which columns hold a table's scope (account, tenant or project) and region, first match wins. A source without
 * either is partitioned under `unknown` (its rows still carry every column).
 */
export const PARTITION_COLUMNS: Readonly<Record<string, { readonly scope: readonly string[]; readonly region: readonly string[] }>> = {
  cloudtrail: { scope: ['account', 'recipientaccountid'], region: ['region', 'awsregion'] },
  vpc_flow_logs: { scope: ['account_id'], region: ['region'] },
  s3_access_logs: { scope: [], region: [] },
  azure_activity: { scope: ['tenant_id', 'subscription_id'], region: ['location'] },
  entra_signin: { scope: ['tenant_id'], region: [] },
  entra_audit: { scope: ['tenant_id'], region: [] },
  m365_audit: { scope: ['organization_id'], region: [] },
  gcp_audit: { scope: ['project_id'], region: ['location'] },
  iot_core_logs: { scope: ['accountid'], region: [] },
  inventory: { scope: ['account'], region: ['region'] },
};

/** What to derive: one preserved object of a case. */
export interface DeriveObjectInput {
  readonly case: string;
  readonly key: string;
  /** The S3 version preserved; @default the version the custody record names, else the current one */
  readonly versionId?: string;
  /** The SHA-256 the caller was told (a copy step's output); checked against the custody record too. */
  readonly sha256?: string;
}

export interface DeriveObjectOptions {
  readonly store: ObjectStore;
  readonly actor: Actor;
  /** Signs the checkpoints of the entries appended (a keyed case refuses unsigned entries). @default - unsigned */
  readonly signer?: Signer;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** @default every registered source */
  readonly logSources?: readonly LogSource[];
  /** @default DEFAULT_INPUT_LIMITS */
  readonly limits?: Partial<InputLimits>;
  /** Opens the engine that writes the Parquet. @default one DuckDB thread (deterministic bytes), 512 MB */
  readonly openEngine?: () => Promise<DuckDbQueryEngine>;
}

/** One Parquet file written. */
export interface DerivedFile {
  readonly table: string;
  readonly day: string;
  readonly scope: string;
  readonly region: string;
  readonly key: string;
  readonly rows: number;
  readonly sha256: string;
}

/** A record set aside, with its object and position (0-based record, 1-based line when the format has lines). */
export interface DeriveProblem {
  readonly key: string;
  readonly record?: number;
  readonly reason: string;
}

export interface DeriveObjectResult {
  /**
   * `derived`: written and recorded now; `already-derived`: the ledger holds this input's entry; `integrity-failure`:
   * the bytes do not match the custody record (recorded, nothing derived); `not-events`: a CloudTrail digest file
   * (validated by validate-logs); `unrecognised` / `unparsable`: nothing to derive (recorded with the reason).
   */
  readonly status: 'derived' | 'already-derived' | 'integrity-failure' | 'not-events' | 'unrecognised' | 'unparsable';
  readonly case: string;
  readonly key: string;
  readonly sha256: string;
  readonly source?: string;
  readonly files: readonly DerivedFile[];
  readonly problems: readonly DeriveProblem[];
  /** The ledger entry recording the derivation (or the refusal). */
  readonly entry?: number;
  readonly reason?: string;
}

/** The Parquet prefix of one table of a case. */
export function derivedParquetPrefix(caseName: string, table: string): string {
  return `${amberPrefix(caseName)}${DERIVED_PARQUET_FOLDER}${table}/`;
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const safe = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'unknown';
const MAX_PROBLEMS_IN_ENTRY = 100;

/** The latest `derived` entry recording Parquet of this input (key and SHA-256), if any. */
export function findDerivedEntry(ledger: CustodyLedger, key: string, sha256: string): LedgerEntry | undefined {
  return ledger.entries.findLast((e) => e.action === 'derived' && e.detail?.parquet === DERIVED_PARQUET_FORMAT && e.detail.from === key && e.detail.fromSha256 === sha256);
}

/** Reads, verifies, recognises and derives one preserved object; see the module comment. */
export async function deriveObject(options: DeriveObjectOptions, input: DeriveObjectInput): Promise<DeriveObjectResult> {
  const caseName = validateCaseName(input.case);
  const { store, actor } = options;
  const clock = options.clock ?? (() => new Date());
  const limits: InputLimits = { ...DEFAULT_INPUT_LIMITS, ...options.limits };
  const logSources = options.logSources ?? LOG_SOURCES;
  if (!input.key.startsWith(casePrefix(caseName)) || input.key.startsWith(amberPrefix(caseName))) {
    throw new AmberError(`${input.key} is not a preserved object of case ${caseName}`, { hint: `derive objects under ${casePrefix(caseName)}, outside Amber's own ${amberPrefix(caseName)}` });
  }
  const ledger = await CustodyLedger.open(store, caseName);
  const item = ledger.items().get(input.key);
  if (!item || item.derivedFrom) {
    throw new NotRecordedError(`${input.key} has no custody record in case ${caseName}'s ledger, so it cannot be checked and nothing was derived`, {
      hint: 'if it was just preserved, its record is on its way: retry; an object put into the bucket by other means is not evidence until collected (amber collect --locker s3://...)',
    });
  }
  const base = { case: caseName, key: item.key, sha256: item.sha256 };
  const done = findDerivedEntry(ledger, item.key, item.sha256);
  if (done) return { ...base, status: 'already-derived', files: filesOf(done), problems: [], entry: done.seq, ...(typeof done.detail?.parser === 'string' ? { source: done.detail.parser } : {}) };

  const record = async (action: 'derived' | 'verified', batch: { items?: EvidenceItem[]; failures?: { origin: string; reason: string }[]; detail: Record<string, unknown> }): Promise<number> => {
    const recorded = await recordCustody(
      { store, actor, clock, ...(options.signer ? { signer: options.signer } : {}) },
      { case: caseName, requestId: `derive-${item.id}-${item.sha256.slice(0, 16)}`, step: 'derive-object', action, batches: [batch] },
    );
    return recorded.ledgerHead.seq;
  };

  // Hash the bytes as they are read; parse nothing before they match the custody record.
  const versionId = input.versionId ?? item.versionId;
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(item.key, versionId)) {
    const b = Buffer.from(chunk as Uint8Array);
    hash.update(b);
    chunks.push(b);
  }
  const bytes = Buffer.concat(chunks);
  const actual = hash.digest('hex');
  const claimed = input.sha256 !== undefined && input.sha256 !== item.sha256 ? input.sha256 : undefined;
  if (actual !== item.sha256 || claimed !== undefined) {
    const reason = claimed !== undefined
      ? `the caller's SHA-256 ${claimed} is not the custody record's ${item.sha256}`
      : `read ${actual}, the custody record says ${item.sha256}`;
    const entry = await record('verified', {
      failures: [{ origin: item.key, reason: `integrity failure before derivation: ${reason}; nothing was derived` }],
      detail: { check: 'derive-object', key: item.key, ...(versionId ? { versionId } : {}), expectedSha256: item.sha256, actualSha256: actual, result: 'integrity-failure' },
    });
    return { ...base, status: 'integrity-failure', files: [], problems: [], entry, reason };
  }

  // Recognise, as the loader does: a source recorded at collection wins, else the content decides.
  const head = bytes.subarray(0, RECOGNITION_BYTES);
  const forced = item.source && item.source !== 'cloudtrail' ? sourceById(item.source, logSources) : undefined;
  const shape = forced ? undefined : sniffCloudTrail(head, item.key).shape;
  const found = shape || forced ? undefined : detectSource(headText(head), item.key, logSources);
  const source = forced ?? found?.source;
  const sourceId = shape ? 'cloudtrail' : source?.id;
  const from = { from: item.key, fromSha256: item.sha256, ...(versionId ? { fromVersionId: versionId } : {}) };
  if (shape === 'digest') return { ...base, status: 'not-events', source: 'cloudtrail', files: [], problems: [], reason: 'a CloudTrail digest file: checked by amber validate-logs, not events' };
  if (!sourceId) {
    const reason = found?.reason ?? 'not a format Amber parses yet';
    const entry = await record('derived', { detail: { ...from, parquet: DERIVED_PARQUET_FORMAT, unrecognised: reason, rows: 0 } });
    return { ...base, status: 'unrecognised', files: [], problems: [], entry, reason };
  }

  const problems: DeriveProblem[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'amber-derive-'));
  await chmod(dir, 0o700);
  const engine = await (options.openEngine ?? (() => DuckDbQueryEngine.create({ threads: 1, memoryLimit: '512MB' })))();
  try {
    const rowsPath = join(dir, 'rows.ndjson');
    let table: string;
    let timeColumn: string;
    let variant: string | undefined;
    let kept = 0;
    if (source === undefined) {
      table = 'cloudtrail';
      timeColumn = 'eventtime';
      let result;
      try {
        result = parseCloudTrail(bytes, item.key, { maxRecordBytes: limits.maxRecordBytes, maxInflatedBytes: limits.maxInflatedBytes });
      } catch (error) {
        problems.push({ key: item.key, reason: isAmberError(error) || error instanceof Error ? error.message : String(error) });
        result = undefined;
      }
      if (result) {
        variant = result.shape;
        for (const e of result.errors) problems.push({ key: item.key, reason: e.message });
        for (const r of result.rejected) problems.push({ key: item.key, record: r.index, reason: `${r.locator}: ${r.reason}` });
        const good = result.records.filter((r) => {
          const problem = cloudTrailRecordProblem(r.record);
          if (problem) problems.push({ key: item.key, record: r.index, reason: `${problem}; the record was set aside, the file's other records are derived` });
          return !problem;
        });
        kept = good.length;
        await writeFile(rowsPath, toNdjsonLines({ records: good }, item.key));
        if (kept > 0) await loadCloudTrailTable(engine, [{ path: rowsPath, key: item.key, shape: 'ndjson' }]);
      }
    } else {
      table = source.table;
      timeColumn = source.timeColumn;
      let raw: Uint8Array = bytes;
      if (isGzip(bytes)) {
        const inflated = inflateGzip(bytes, limits.maxInflatedBytes);
        raw = inflated.data;
        if (inflated.damage !== undefined) problems.push({ key: item.key, reason: `${inflated.damage}; rows before the damage are kept` });
      }
      const { text, invalidAt } = decodeUtf8(raw);
      if (invalidAt >= 0) problems.push({ key: item.key, reason: `invalid UTF-8 at byte ${invalidAt}; replaced with U+FFFD for parsing (the preserved bytes are unchanged)` });
      let result;
      try {
        result = source.parse(text, item.key);
      } catch (error) {
        problems.push({ key: item.key, reason: `the ${source.id} parser failed on this object (${error instanceof Error ? error.message : String(error)}); it was not derived` });
      }
      if (result) {
        variant = result.variant;
        for (const p of result.problems) problems.push({ key: item.key, ...(p.index === undefined ? {} : { record: p.index }), reason: `${p.line !== undefined ? `line ${p.line}: ` : ''}${p.reason}` });
        const good = result.rows.filter((r) => {
          const problem = sourceRowProblem(source.columns, r.row);
          if (problem) problems.push({ key: item.key, record: r.index, reason: `${problem}; the record was set aside, the file's other records are derived` });
          return !problem;
        });
        kept = good.length;
        await writeFile(rowsPath, good.map((r) => `${sourceRowLine(item.key, r.index, r.row)}\n`).join(''));
        if (kept > 0) await loadSourceTable(engine, source, [rowsPath], 2 * limits.maxRecordBytes + 64 * 1024);
      }
    }

    const acquiredAt = clock().toISOString();
    const retainUntil = item.retainUntil !== null && Date.parse(item.retainUntil) > clock().getTime() ? item.retainUntil : null;
    const putOptions = (mediaType: string) => ({ mediaType, ...(retainUntil ? { retainUntil: new Date(retainUntil) } : {}) });
    const derivedItem = (key: string, stored: { size: number; sha256: string }, origin: string, mediaType: string): EvidenceItem => ({
      id: itemId(key),
      case: caseName,
      origin,
      key,
      size: stored.size,
      sha256: stored.sha256,
      acquiredAt,
      acquiredBy: actor.principal,
      retainUntil,
      mediaType,
      derivedFrom: item.id,
    });
    const items: EvidenceItem[] = [];
    const files: DerivedFile[] = [];
    if (kept > 0) {
      const columns = new Set((await engine.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = ${lit(table)}`)).map((c) => c.column_name));
      const pick = (names: readonly string[]): string => {
        const present = names.filter((n) => columns.has(n)).map((n) => `nullif(CAST(${q(n)} AS VARCHAR), '')`);
        return present.length > 0 ? `coalesce(${present.join(', ')}, 'unknown')` : `'unknown'`;
      };
      const layout = PARTITION_COLUMNS[table] ?? { scope: [], region: [] };
      const day = dayExpression(timeColumn);
      const scope = pick(layout.scope);
      const region = pick(layout.region);
      const groups = await engine.query<{ day: string; scope: string; region: string; rows: number }>(
        `SELECT ${day} AS day, ${scope} AS scope, ${region} AS region, count(*) AS rows FROM ${q(table)} GROUP BY ALL ORDER BY ALL`,
      );
      const prefix = derivedParquetPrefix(caseName, table);
      const inputName = `${item.id}.${item.sha256.slice(0, 16)}`;
      const names = new Set<string>();
      for (const [n, g] of groups.entries()) {
        const folder = g.day === 'undated' ? 'undated' : g.day.replace(/-/g, '/');
        let name = `${safe(g.scope)}.${safe(g.region)}.${inputName}`;
        // Two raw values can make one safe name; the group's order (ORDER BY ALL) makes the suffix deterministic.
        if (names.has(`${folder}/${name}`)) name = `${name}-${n}`;
        names.add(`${folder}/${name}`);
        const key = `${prefix}${folder}/${name}.parquet`;
        const path = join(dir, `p${n}.parquet`);
        await engine.exec(
          `COPY (SELECT * FROM ${q(table)} WHERE ${day} = ${lit(g.day)} AND ${scope} = ${lit(g.scope)} AND ${region} = ${lit(g.region)} ORDER BY evidence_key, evidence_record) TO ${lit(path)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        const stored = await store.putImmutable(key, createReadStream(path), putOptions('application/vnd.apache.parquet'));
        items.push(derivedItem(key, stored, `amber:derive?from=${encodeURIComponent(item.key)}&parser=${sourceId}&table=${table}&day=${g.day}`, 'application/vnd.apache.parquet'));
        files.push({ table, day: g.day, scope: g.scope, region: g.region, key, rows: Number(g.rows), sha256: stored.sha256 });
        await rm(path);
      }
    }
    if (problems.length > 0) {
      const key = `${amberPrefix(caseName)}${DERIVED_PARQUET_FOLDER}_problems/${item.id}.${item.sha256.slice(0, 16)}.json`;
      const body = Buffer.from(`${JSON.stringify({ from: item.key, fromSha256: item.sha256, parser: sourceId, problems }, null, 2)}\n`, 'utf8');
      const stored = await store.putImmutable(key, body, putOptions('application/json'));
      items.push(derivedItem(key, stored, `amber:derive?from=${encodeURIComponent(item.key)}&parser=${sourceId}&problems`, 'application/json'));
    }
    const status = kept > 0 ? 'derived' : 'unparsable';
    const entry = await record('derived', {
      items,
      detail: {
        ...from,
        parquet: DERIVED_PARQUET_FORMAT,
        parser: sourceId,
        ...(variant ? { variant } : {}),
        rows: kept,
        files: files.map((f) => ({ table: f.table, day: f.day, scope: f.scope, region: f.region, rows: f.rows })),
        problems: problems.length,
        ...(problems.length > 0 ? { problemList: problems.slice(0, MAX_PROBLEMS_IN_ENTRY) } : {}),
      },
    });
    // The index the scheduled detections list: which cases have rows on which day. Write-once and empty, so writing
    // it again is a no-op; written after the entry, so a listed case always has its rows recorded.
    for (const d of [...new Set(files.map((f) => f.day))].filter((d) => d !== 'undated').sort()) {
      await store.putImmutable(`${DERIVED_INDEX_PREFIX}${d.replace(/-/g, '/')}/${caseName}`, Buffer.alloc(0), { mediaType: 'application/octet-stream' });
    }
    return { ...base, status, source: sourceId, files, problems, entry, ...(status === 'unparsable' ? { reason: 'no record could be read; see problems' } : {}) };
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The files a recorded derivation wrote, from its entry. */
function filesOf(entry: LedgerEntry): DerivedFile[] {
  const described = (entry.detail?.files ?? []) as { table: string; day: string; scope: string; region: string; rows: number }[];
  const parquet = (entry.items ?? []).filter((i) => i.key.endsWith('.parquet'));
  return described.map((f, n) => ({ ...f, key: parquet[n]?.key ?? '', sha256: parquet[n]?.sha256 ?? '' }));
}

/** Thrown by callers that want a mismatch to stop them rather than be recorded and returned. */
export function integrityErrorOf(result: DeriveObjectResult): IntegrityError | undefined {
  return result.status === 'integrity-failure'
    ? new IntegrityError(`${result.key} (case ${result.case}): ${result.reason}; nothing was derived`, { hint: 'run `amber verify --locker s3://<bucket> --case <case>` for the full integrity report' })
    : undefined;
}
