/**
 * The `cloudtrail` table, named and shaped as AWS documents it for Athena ("Create the table for CloudTrail logs
 * in Athena using partition projection"), so the same detection SQL runs on Athena and on DuckDB.
 *
 * Columns, in order: the documented ones; Amber's `evidence_key` (the preserved object's key) and
 * `evidence_record` (0-based index of the record in that object's `Records` array); then the partition columns
 * `account`, `region`, `timestamp` ('yyyy/MM/dd', as the projection table's `timestamp`), taken from the key layout
 * `AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/` (NULL when a key does not follow it).
 * One addition to the documented shape: `useridentity.sessioncontext.sourceidentity`, a real CloudTrail field the
 * AWS example omits; athenaCloudTrailDdl declares it too, so both engines agree.
 *
 * DuckDB's read_json matches keys case-sensitively, so the reader declares the real CloudTrail keys
 * (`sourceIPAddress`, `requestID`, `resources[].ARN`) and a cast renames them: DuckDB casts structs by field name,
 * case-insensitively, filling absent fields with NULL and keeping a NULL struct NULL, which is exactly what Hive's
 * JsonSerDe gives Athena. Free-form fields (requestParameters, responseElements, additionalEventData,
 * serviceEventDetails, edgeDeviceDetails) are read as VARCHAR, which gives Athena's STRING semantics: an object or
 * array becomes its JSON text, a JSON string its unquoted value, a JSON null SQL NULL. `readOnly` (boolean in
 * CloudTrail, sometimes a string in exports) reads the same way and always comes out 'true'/'false'.
 */
import { basename } from 'node:path';
import type { DuckDbQueryEngine } from '../duckdb-engine.ts';
import { TableLoadError } from '../errors.ts';

/** A field of the CloudTrail record: its Athena (lower-case) name, its JSON key, and its type. */
interface Field {
  readonly name: string;
  readonly key: string;
  readonly type: FieldType;
}
type FieldType = 'string' | { readonly struct: readonly Field[] } | { readonly array: FieldType } | 'map<string,string>';

const s = (name: string, key: string): Field => ({ name, key, type: 'string' });
const struct = (name: string, key: string, fields: readonly Field[]): Field => ({ name, key, type: { struct: fields } });

/** The record shape: the AWS-documented Athena CloudTrail table (partition-projection example), in its order. */
const RECORD_FIELDS: readonly Field[] = [
  s('eventversion', 'eventVersion'),
  struct('useridentity', 'userIdentity', [
    s('type', 'type'),
    s('principalid', 'principalId'),
    s('arn', 'arn'),
    s('accountid', 'accountId'),
    s('invokedby', 'invokedBy'),
    s('accesskeyid', 'accessKeyId'),
    s('username', 'userName'),
    struct('onbehalfof', 'onBehalfOf', [s('userid', 'userId'), s('identitystorearn', 'identityStoreArn')]),
    struct('sessioncontext', 'sessionContext', [
      struct('attributes', 'attributes', [s('mfaauthenticated', 'mfaAuthenticated'), s('creationdate', 'creationDate')]),
      struct('sessionissuer', 'sessionIssuer', [
        s('type', 'type'),
        s('principalid', 'principalId'),
        s('arn', 'arn'),
        s('accountid', 'accountId'),
        s('username', 'userName'),
      ]),
      s('ec2roledelivery', 'ec2RoleDelivery'),
      struct('webidfederationdata', 'webIdFederationData', [
        s('federatedprovider', 'federatedProvider'),
        { name: 'attributes', key: 'attributes', type: 'map<string,string>' },
      ]),
      s('sourceidentity', 'sourceIdentity'),
    ]),
  ]),
  s('eventtime', 'eventTime'),
  s('eventsource', 'eventSource'),
  s('eventname', 'eventName'),
  s('awsregion', 'awsRegion'),
  s('sourceipaddress', 'sourceIPAddress'),
  s('useragent', 'userAgent'),
  s('errorcode', 'errorCode'),
  s('errormessage', 'errorMessage'),
  s('requestparameters', 'requestParameters'),
  s('responseelements', 'responseElements'),
  s('additionaleventdata', 'additionalEventData'),
  s('requestid', 'requestID'),
  s('eventid', 'eventID'),
  s('readonly', 'readOnly'),
  {
    name: 'resources',
    key: 'resources',
    type: { array: { struct: [s('arn', 'ARN'), s('accountid', 'accountId'), s('type', 'type')] } },
  },
  s('eventtype', 'eventType'),
  s('apiversion', 'apiVersion'),
  s('recipientaccountid', 'recipientAccountId'),
  s('serviceeventdetails', 'serviceEventDetails'),
  s('sharedeventid', 'sharedEventID'),
  s('vpcendpointid', 'vpcEndpointId'),
  s('vpcendpointaccountid', 'vpcEndpointAccountId'),
  s('eventcategory', 'eventCategory'),
  struct('addendum', 'addendum', [
    s('reason', 'reason'),
    s('updatedfields', 'updatedFields'),
    s('originalrequestid', 'originalRequestID'),
    s('originaleventid', 'originalEventID'),
  ]),
  s('sessioncredentialfromconsole', 'sessionCredentialFromConsole'),
  s('edgedevicedetails', 'edgeDeviceDetails'),
  struct('tlsdetails', 'tlsDetails', [
    s('tlsversion', 'tlsVersion'),
    s('ciphersuite', 'cipherSuite'),
    s('clientprovidedhostheader', 'clientProvidedHostHeader'),
  ]),
];

/** Columns Amber adds after the record's: where the record is preserved, then the partition columns. */
const AMBER_COLUMNS = [
  { name: 'evidence_key', duck: 'VARCHAR', hive: 'STRING' },
  { name: 'evidence_record', duck: 'INTEGER', hive: 'INT' },
] as const;
const PARTITION_COLUMNS = ['account', 'region', 'timestamp'] as const;

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** DuckDB type with the JSON keys, for read_json's `columns`. */
function readerType(type: FieldType): string {
  if (type === 'string') return 'VARCHAR';
  if (type === 'map<string,string>') return 'MAP(VARCHAR, VARCHAR)';
  if ('array' in type) return `${readerType(type.array)}[]`;
  return `STRUCT(${type.struct.map((f) => `${q(f.key)} ${readerType(f.type)}`).join(', ')})`;
}

/** DuckDB type with Athena's lower-case names, as the table declares it. */
function tableType(type: FieldType): string {
  if (type === 'string') return 'VARCHAR';
  if (type === 'map<string,string>') return 'MAP(VARCHAR, VARCHAR)';
  if ('array' in type) return `${tableType(type.array)}[]`;
  return `STRUCT(${type.struct.map((f) => `${q(f.name)} ${tableType(f.type)}`).join(', ')})`;
}

/** Hive type, as Athena's DDL declares it. */
function hiveType(type: FieldType, indent: string): string {
  if (type === 'string') return 'STRING';
  if (type === 'map<string,string>') return 'MAP<STRING,STRING>';
  if ('array' in type) return `ARRAY<${hiveType(type.array, indent)}>`;
  const inner = `${indent}  `;
  return `STRUCT<\n${type.struct.map((f) => `${inner}${f.name}: ${hiveType(f.type, inner)}`).join(',\n')}>`;
}

/** The read_json struct of one CloudTrail record, keyed as CloudTrail writes it. */
const RECORD_READER_TYPE = readerType({ struct: RECORD_FIELDS });

/** Projection of a record struct `r` to the table's record columns. */
function recordProjection(r: string): string {
  return RECORD_FIELDS.map((f) =>
    f.type === 'string' ? `${r}.${q(f.key)} AS ${q(f.name)}` : `CAST(${r}.${q(f.key)} AS ${tableType(f.type)}) AS ${q(f.name)}`,
  ).join(',\n  ');
}

/** The table's columns and DuckDB types, in order (what DESCRIBE cloudtrail shows). */
export const CLOUDTRAIL_COLUMNS: ReadonlyArray<{ readonly name: string; readonly type: string }> = [
  ...RECORD_FIELDS.map((f) => ({ name: f.name, type: tableType(f.type) })),
  ...AMBER_COLUMNS.map((c) => ({ name: c.name, type: c.duck })),
  ...PARTITION_COLUMNS.map((name) => ({ name, type: 'VARCHAR' })),
];

// Org trails insert the organisation id: AWSLogs/o-xxxx/<account>/CloudTrail/...
const KEY_LAYOUT = /(?:^|\/)AWSLogs\/(?:o-[a-z0-9]{10,32}\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\//;
const KEY_LAYOUT_SQL = String.raw`(?:^|/)AWSLogs/(?:o-[a-z0-9]{10,32}/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/`;

/** Partition values a key implies, or nulls when it does not follow the CloudTrail layout. */
export function cloudTrailPartition(key: string): { account: string | null; region: string | null; timestamp: string | null } {
  const m = KEY_LAYOUT.exec(key);
  if (!m) return { account: null, region: null, timestamp: null };
  return { account: m[1] as string, region: m[2] as string, timestamp: `${m[3]}/${m[4]}/${m[5]}` };
}

/** One evidence file to expose in the `cloudtrail` table. */
export interface CloudTrailInput {
  /** Local path DuckDB reads. */
  readonly path: string;
  /** Evidence key: for `records`, the preserved object's key (becomes evidence_key); for `ndjson`, the derived file's own key. */
  readonly key: string;
  /** `records`: a CloudTrail delivery `{"Records":[...]}` (.json or .json.gz); `ndjson`: the parser's derived lines. */
  readonly shape: 'records' | 'ndjson';
}

/** How loadCloudTrailTable exposes the files. */
export interface LoadCloudTrailOptions {
  /**
   * Copy the records into a DuckDB table in one scan, so every later query reads memory instead of re-parsing
   * gzip JSON. Without it, `cloudtrail` is a view that re-reads the files on each query; a filter on `timestamp`
   * then skips the files of other days (`records` inputs only).
   * @default true
   */
  readonly materialize?: boolean;
  /**
   * Largest single JSON document DuckDB accepts; a CloudTrail delivery file is one document. DuckDB's reader
   * allocates about twice this per thread inside the engine's memory_limit, so pass the size of the largest file
   * really read (loadCaseTables does) rather than a generous constant.
   * @default 64 MiB
   */
  readonly maximumObjectBytes?: number;
}

/** What was loaded. */
export interface LoadCloudTrailResult {
  readonly rows: number;
  readonly files: number;
  readonly materialized: boolean;
}

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * (Re)creates the `cloudtrail` table (or view) over exactly these files. Records files keep their array index
 * as evidence_record; ndjson files carry evidence_key/evidence_record on every line. Giving the same original
 * both as `records` and through a derived `ndjson` file would list its records twice: pass one or the other.
 */
export async function loadCloudTrailTable(
  engine: DuckDbQueryEngine,
  files: readonly CloudTrailInput[],
  options: LoadCloudTrailOptions = {},
): Promise<LoadCloudTrailResult> {
  const materialize = options.materialize ?? true;
  const maxObject = options.maximumObjectBytes ?? 64 * 1024 * 1024;
  validateInputs(files);
  // A path listed twice (with the same key) is read once.
  const unique = [...new Map(files.map((f) => [f.path, f])).values()];
  const records = unique.filter((f) => f.shape === 'records');
  const ndjson = unique.filter((f) => f.shape === 'ndjson');

  await dropCloudTrail(engine);

  const branches: string[] = [];
  if (materialize) {
    if (records.length > 0) branches.push(recordsSelect(records, maxObject));
  } else {
    // One branch per day with the day as a constant, so a filter on `timestamp` (the usual detection window)
    // removes whole branches, and their files, before anything is read. Days and not finer partitions: each branch
    // scans its files in parallel, and a branch per account and region left the threads idle.
    for (const group of groupByDay(records)) branches.push(recordsSelect(group, maxObject, cloudTrailPartition(group[0]?.key ?? '').timestamp));
  }
  if (ndjson.length > 0) branches.push(ndjsonSelect(ndjson.map((f) => f.path), maxObject));
  const select = branches.length > 0 ? branches.join('\nUNION ALL\n') : emptySelect();

  let rows: number;
  try {
    if (materialize) {
      await engine.exec(`CREATE TABLE cloudtrail (${CLOUDTRAIL_COLUMNS.map((c) => `${q(c.name)} ${c.type}`).join(', ')})`);
      await engine.exec(`INSERT INTO cloudtrail\n${select}`);
    } else {
      await engine.exec(`CREATE VIEW cloudtrail AS\n${select}`);
    }
    // For a view this is the first read of the files: an unreadable one fails here, not in a later detection.
    const [count] = await engine.query<{ n: number }>('SELECT count(*) AS n FROM cloudtrail');
    rows = count?.n ?? 0;
  } catch (cause) {
    await dropCloudTrail(engine).catch(() => undefined);
    throw await explainLoadFailure(engine, files, maxObject, cause);
  }
  return { rows, files: unique.length, materialized: materialize };
}

function validateInputs(files: readonly CloudTrailInput[]): void {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const f of files) {
    if (f.shape !== 'records' && f.shape !== 'ndjson') problems.push(`${f.path}: shape must be 'records' or 'ndjson', got ${String(f.shape)}`);
    // DuckDB expands glob characters in file names; such a path would read other files or none.
    if (GLOB_CHARS.test(f.path)) problems.push(`${f.path}: the path contains a glob character (* ? [ ] { })`);
    const previous = seen.get(f.path);
    if (previous !== undefined && previous !== f.key) problems.push(`${f.path}: given twice, with keys ${previous} and ${f.key}`);
    seen.set(f.path, f.key);
  }
  if (problems.length > 0) {
    throw new TableLoadError(`cannot load the cloudtrail table:\n  ${problems.join('\n  ')}`, files.map((f) => f.path), {
      hint: 'give each file once, with its shape; copy files whose path holds * ? [ ] { } to a plain path first',
    });
  }
}

function groupByDay(files: readonly CloudTrailInput[]): CloudTrailInput[][] {
  const groups = new Map<string | null, CloudTrailInput[]>();
  for (const f of files) {
    const day = cloudTrailPartition(f.key).timestamp;
    const group = groups.get(day) ?? [];
    group.push(f);
    groups.set(day, group);
  }
  return [...groups.values()];
}

function uniquePaths(paths: readonly string[]): string[] {
  return [...new Set(paths)];
}

function recordsSelect(files: readonly CloudTrailInput[], maxObject: number, constantDay?: string | null): string {
  const lit = (v: string | null): string => (v === null ? 'CAST(NULL AS VARCHAR)' : sqlString(v));
  const partition = `f.account, f.region, ${constantDay === undefined ? 'f."timestamp"' : `${lit(constantDay)} AS "timestamp"`}`;
  // The path -> key map is inlined (not a temp table) so a view over it stays valid in a file-backed database.
  const mapping = files.map((f) => {
    const p = cloudTrailPartition(f.key);
    return `(${[f.path, f.key, p.account, p.region, p.timestamp].map(lit).join(', ')})`;
  });
  // Two select-list unnests of equal length run in lockstep, giving each record its 0-based index. (UNNEST ...
  // WITH ORDINALITY gives the same numbers but made the same scan 2x slower on DuckDB 1.5.5, and
  // some plans over 20x slower on 1.5.6.)
  return `SELECT
  ${recordProjection('j.r')},
  f.key AS evidence_key,
  CAST(j.i AS INTEGER) AS evidence_record,
  ${partition}
FROM (SELECT filename, unnest(Records) AS r, unnest(range(len(Records))) AS i
  FROM read_json([${uniquePaths(files.map((f) => f.path)).map(sqlString).join(', ')}],
    columns := {Records: ${sqlString(`${RECORD_READER_TYPE}[]`)}},
    format := 'unstructured', filename := true, maximum_object_size := ${maxObject})) AS j
JOIN (VALUES ${mapping.join(',\n  ')}) AS f(path, key, account, region, "timestamp") ON f.path = j.filename`;
}

function ndjsonSelect(paths: readonly string[], maxObject: number): string {
  // regexp_extract is shadowed by the Athena layer; the built-in is called by its qualified name.
  const part = `system.main.regexp_extract(evidence_key, ${sqlString(KEY_LAYOUT_SQL)}, ['account', 'region', 'y', 'm', 'd'])`;
  return `SELECT
  ${recordProjection('j.record')},
  j.evidence_key AS evidence_key,
  j.evidence_record AS evidence_record,
  nullif(j.p.account, '') AS account,
  nullif(j.p.region, '') AS region,
  CASE WHEN j.p.y = '' THEN NULL ELSE j.p.y || '/' || j.p.m || '/' || j.p.d END AS "timestamp"
FROM (SELECT *, ${part} AS p FROM read_json([${uniquePaths(paths).map(sqlString).join(', ')}],
  columns := {evidence_key: 'VARCHAR', evidence_record: 'INTEGER', record: ${sqlString(RECORD_READER_TYPE)}},
  format := 'newline_delimited', maximum_object_size := ${maxObject})) AS j`;
}

function emptySelect(): string {
  return `SELECT ${CLOUDTRAIL_COLUMNS.map((c) => `CAST(NULL AS ${c.type}) AS ${q(c.name)}`).join(', ')} WHERE false`;
}

async function dropCloudTrail(engine: DuckDbQueryEngine): Promise<void> {
  const existing = await engine.query<{ table_type: string }>(
    `SELECT table_type FROM information_schema.tables WHERE table_name = 'cloudtrail' AND table_schema = 'main'`,
  );
  for (const row of existing) await engine.exec(row.table_type === 'VIEW' ? 'DROP VIEW cloudtrail' : 'DROP TABLE cloudtrail');
}

/** Finds which files DuckDB cannot read, so the error names them instead of the whole batch. */
async function explainLoadFailure(
  engine: DuckDbQueryEngine,
  files: readonly CloudTrailInput[],
  maxObject: number,
  cause: unknown,
): Promise<TableLoadError> {
  const bad: Array<{ path: string; line: string }> = [];
  for (const f of files) {
    const probe = f.shape === 'records'
      ? `SELECT count(*) FROM read_json(${sqlString(f.path)}, columns := {Records: ${sqlString(`${RECORD_READER_TYPE}[]`)}}, format := 'unstructured', maximum_object_size := ${maxObject})`
      : `SELECT count(*) FROM read_json(${sqlString(f.path)}, columns := {evidence_key: 'VARCHAR', evidence_record: 'INTEGER', record: ${sqlString(RECORD_READER_TYPE)}}, format := 'newline_delimited', maximum_object_size := ${maxObject})`;
    try {
      await engine.query(probe);
    } catch (err) {
      const message = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      bad.push({ path: f.path, line: `${basename(f.path)} (${f.key}): ${message.split('\n')[0]}` });
    }
  }
  const detail = bad.length > 0 ? bad.map((b) => b.line).join('\n  ') : (cause instanceof Error ? cause.message : String(cause));
  // `files` names the unreadable files when they could be isolated, so a caller can set them aside and reload.
  const culprits = bad.length > 0 ? bad.map((b) => b.path) : files.map((f) => f.path);
  return new TableLoadError(`cannot load the cloudtrail table from ${files.length} file(s):\n  ${detail}`, culprits, {
    cause,
    hint: 'the evidence stays preserved as it is; check the file is CloudTrail JSON ({"Records":[...]}) or the parser\'s NDJSON, and leave unreadable files out of the load',
  });
}

/** Where the Athena table reads the preserved CloudTrail, and which partitions it projects. */
export interface AthenaCloudTrailDdlOptions {
  /** S3 URI of the `AWSLogs/` prefix, e.g. `s3://evidence-bucket/cases/C-1/aws/cloudtrail/AWSLogs/`. */
  readonly location: string;
  /** Account ids projected into the `account` partition (Athena's enum projection needs the list). */
  readonly accounts: readonly string[];
  /** Regions projected into `region`. @default every commercial region CloudTrail writes to */
  readonly regions?: readonly string[];
  /** First day of the `timestamp` projection, `yyyy/MM/dd`; the range ends at NOW. */
  readonly startDate: string;
  /** Database-qualified or plain name of the external table under the `cloudtrail` view. @default 'cloudtrail_files' */
  readonly tableName?: string;
  /** Name of the view detections query. @default 'cloudtrail' */
  readonly viewName?: string;
}

/** Regions a multi-region trail writes to in the aws partition (the enum projection's default). */
export const AWS_COMMERCIAL_REGIONS: readonly string[] = [
  'af-south-1', 'ap-east-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7',
  'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1',
  'eu-west-2', 'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1', 'sa-east-1', 'us-east-1',
  'us-east-2', 'us-west-1', 'us-west-2',
];

/**
 * Athena DDL for the same table: the AWS-documented CloudTrail external table (CloudTrailInputFormat +
 * JsonSerDe) with partition projection over account, region and day, plus a view named `cloudtrail` that adds
 * Amber's two columns, so detection SQL is byte-identical on both engines. Returns the two statements in run
 * order (Athena runs one statement per query).
 *
 * How evidence_key and evidence_record map in Athena, and the limits of that mapping:
 * - evidence_key = `"$path"` (the S3 URI Athena read the row from) with `s3://<bucket>/` stripped; since preserved
 *   keys keep the original layout under the case prefix, it is the same key the local locker and the manifest use.
 * - evidence_record has no source: CloudTrail's SerDe exposes neither the line nor the position in `Records`, and
 *   Athena has no row-number pseudo-column. The view returns NULL rather than a guess. The exact index is
 *   recovered after the query from the preserved object itself: read the object named by evidence_key and find
 *   the record whose eventID equals the finding's `eventid` (unique per event). For findings to be resolvable
 *   this way, a detection must keep eventid reachable (select it into `detail`, or the runner re-joins on
 *   evidence_key + event time). The alternative with exact indexes is to point Athena at the parser's derived
 *   NDJSON, which carries evidence_key/evidence_record on every line.
 */
export function athenaCloudTrailDdl(options: AthenaCloudTrailDdlOptions): { readonly table: string; readonly view: string } {
  const problems: string[] = [];
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(options.location)) problems.push(`location must be an s3:// URI, got ${options.location}`);
  if (!/\/AWSLogs\/$/.test(options.location)) problems.push(`location must end with /AWSLogs/, got ${options.location}`);
  if (options.accounts.length === 0) problems.push('accounts must list at least one account id');
  for (const a of options.accounts) if (!/^\d{12}$/.test(a)) problems.push(`account ids are 12 digits, got ${a}`);
  const regions = options.regions ?? AWS_COMMERCIAL_REGIONS;
  for (const r of regions) if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) problems.push(`not a region name: ${r}`);
  if (!/^\d{4}\/\d{2}\/\d{2}$/.test(options.startDate)) problems.push(`startDate must be yyyy/MM/dd, got ${options.startDate}`);
  const table = options.tableName ?? 'cloudtrail_files';
  const view = options.viewName ?? 'cloudtrail';
  for (const name of [table, view]) if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(name)) problems.push(`not a valid table name: ${name}`);
  if (problems.length > 0) {
    throw new TableLoadError(`cannot build the Athena CloudTrail DDL:\n  ${problems.join('\n  ')}`, [], {
      hint: 'pass location as s3://bucket/prefix/AWSLogs/, 12-digit account ids, region names and startDate as yyyy/MM/dd',
    });
  }
  const columns = RECORD_FIELDS.map((f) => `  ${f.name} ${hiveType(f.type, '  ')}`).join(',\n');
  const tableDdl = `CREATE EXTERNAL TABLE ${table} (
${columns}
)
PARTITIONED BY (account STRING, region STRING, \`timestamp\` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '${options.location}'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.account.type'='enum',
  'projection.account.values'='${options.accounts.join(',')}',
  'projection.region.type'='enum',
  'projection.region.values'='${regions.join(',')}',
  'projection.timestamp.type'='date',
  'projection.timestamp.format'='yyyy/MM/dd',
  'projection.timestamp.range'='${options.startDate},NOW',
  'projection.timestamp.interval'='1',
  'projection.timestamp.interval.unit'='DAYS',
  'storage.location.template'='${options.location}\${account}/CloudTrail/\${region}/\${timestamp}'
)`;
  const recordColumns = RECORD_FIELDS.map((f) => f.name).join(', ');
  const viewDdl = `CREATE OR REPLACE VIEW ${view} AS
SELECT ${recordColumns},
  regexp_replace("$path", '^s3://[^/]+/', '') AS evidence_key,
  CAST(NULL AS INTEGER) AS evidence_record,
  account, region, "timestamp"
FROM ${table}`;
  return { table: tableDdl, view: viewDdl };
}

/**
 * Why a parsed record does not fit the table's declared types, or undefined when it does. DuckDB's typed
 * read_json refuses a whole file for one value of the wrong JSON type where a struct, an array or a map is
 * declared (checked on DuckDB 1.5.5: a string, number, boolean or array for a struct; anything but an array for
 * an array; anything but an object for a map); a string column takes any JSON value (as its text). The loader
 * sets such a record aside with this reason, so the file's other records still load.
 */
export function cloudTrailRecordProblem(record: Readonly<Record<string, unknown>>): string | undefined {
  return fieldsProblem(RECORD_FIELDS, record, '');
}

function fieldsProblem(fields: readonly Field[], value: Readonly<Record<string, unknown>>, path: string): string | undefined {
  for (const f of fields) {
    if (!Object.hasOwn(value, f.key)) continue;
    const problem = typeProblem(f.type, value[f.key], `${path}.${f.key}`);
    if (problem) return problem;
  }
  return undefined;
}

function typeProblem(type: FieldType, value: unknown, path: string): string | undefined {
  if (type === 'string' || value === null || value === undefined) return undefined;
  const kind = Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  if (type === 'map<string,string>') {
    return typeof value === 'object' && !Array.isArray(value) ? undefined : `${path} is ${kind}, where the table declares an object (map)`;
  }
  if ('array' in type) {
    if (!Array.isArray(value)) return `${path} is ${kind}, where the table declares an array`;
    for (const [i, element] of value.entries()) {
      const problem = typeProblem(type.array, element, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return `${path} is ${kind}, where the table declares an object`;
  return fieldsProblem(type.struct, value as Record<string, unknown>, path);
}
