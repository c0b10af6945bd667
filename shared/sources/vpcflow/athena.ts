/**
 * Athena DDL for flow logs delivered to S3, after the AWS-documented table ("Create and query a table for
 * Amazon VPC flow logs using partition projection"): an external table over the space-delimited files, one
 * column per field of the flow log's format in the format's order (Athena reads the columns by position, so a
 * custom format needs its own field list), the header line skipped, and partition projection over account,
 * region and day of the `AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/` layout. Preserved keys keep
 * that layout under the case prefix, so the same DDL works on the evidence bucket.
 *
 * A view named `vpc_flow_logs` then gives detection SQL the embedded engine's table exactly: every column of
 * VPC_FLOW_COLUMNS (NULL where the format lacks the field, `-` turned into NULL), `time`, and Amber's
 * `evidence_key` (the object key, from `"$path"`) and `evidence_record`. Athena exposes no line number, so
 * `evidence_record` is NULL there; the record is found again by reading the object named by `evidence_key`
 * and matching the finding's fields (or by pointing Athena at the derived NDJSON, which carries both).
 *
 * Differences from the AWS example, on purpose: the partition columns are `accid`, `aws_region` and `day`
 * (`region` is also a flow log field from version 4, and one table cannot have both); and files of different
 * formats (a Transit Gateway flow log, a second custom format) need one table each, joined in one view by
 * vpcFlowLogsViewSql.
 */
import { InvalidInputError } from '../../errors.ts';
import { AWS_COMMERCIAL_REGIONS } from '../../query/tables/cloudtrail.ts';
import { FIELD_BY_NAME, V2_DEFAULT, VPC_FLOW_COLUMNS, type FlowField } from './fields.ts';

export interface VpcFlowLogsAthenaDdlOptions {
  /** Where the delivery layout starts: `s3://bucket[/prefix]/AWSLogs/`. */
  readonly location: string;
  /** Account ids of the `AWSLogs/<account>/` folders (enum projection). */
  readonly accounts: readonly string[];
  /** Regions of the `vpcflowlogs/<region>/` folders. @default every commercial region */
  readonly regions?: readonly string[];
  /** First day of the date projection, `yyyy/MM/dd`. */
  readonly startDate: string;
  /** The flow log's format: field names in order, as in its header line. @default the default format (version 2 fields) */
  readonly fields?: readonly string[];
  /** The external table over the files. @default 'vpc_flow_logs_files' */
  readonly tableName?: string;
  /** The view detection SQL reads. @default 'vpc_flow_logs' */
  readonly viewName?: string;
}

/** One external table of flow log files and its format, for a view over several. */
export interface VpcFlowLogsFilesTable {
  readonly tableName: string;
  readonly fields: readonly string[];
}

const HIVE_TYPE: Record<string, string> = { VARCHAR: 'string', INTEGER: 'int', BIGINT: 'bigint' };
const TRINO_TYPE: Record<string, string> = { VARCHAR: 'varchar', INTEGER: 'integer', BIGINT: 'bigint' };
const NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The fields of a format by name, or every problem with the names. */
function resolveFields(names: readonly string[], problems: string[]): FlowField[] {
  if (names.length === 0) problems.push('fields must name at least one flow log field');
  const fields: FlowField[] = [];
  for (const name of names) {
    const f = FIELD_BY_NAME.get(name);
    if (!f) problems.push(`unknown flow log field ${JSON.stringify(name)} (known: ${[...FIELD_BY_NAME.keys()].join(' ')})`);
    else fields.push(f);
  }
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  if (dup.length > 0) problems.push(`fields name ${[...new Set(dup)].join(', ')} more than once`);
  return fields;
}

/**
 * The CREATE EXTERNAL TABLE (with partition projection) and the CREATE VIEW, in run order (Athena runs one
 * statement per query). Throws InvalidInputError listing every bad option at once.
 */
export function vpcFlowLogsAthenaDdl(options: VpcFlowLogsAthenaDdlOptions): { readonly table: string; readonly view: string } {
  const problems: string[] = [];
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^'\\]*)?\/AWSLogs\/$/.test(options.location)) {
    problems.push(`location must be an s3:// URI ending with /AWSLogs/, got ${options.location}`);
  }
  if (options.accounts.length === 0) problems.push('accounts must list at least one account id');
  for (const a of options.accounts) if (!/^\d{12}$/.test(a)) problems.push(`account ids are 12 digits, got ${a}`);
  const regions = options.regions ?? AWS_COMMERCIAL_REGIONS;
  for (const r of regions) if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) problems.push(`not a region name: ${r}`);
  if (!/^\d{4}\/\d{2}\/\d{2}$/.test(options.startDate)) problems.push(`startDate must be yyyy/MM/dd, got ${options.startDate}`);
  const table = options.tableName ?? 'vpc_flow_logs_files';
  const view = options.viewName ?? 'vpc_flow_logs';
  for (const name of [table, view]) if (!NAME.test(name)) problems.push(`not a valid table name: ${name}`);
  const names = options.fields ?? V2_DEFAULT.fields.map((f) => f.name);
  const fields = resolveFields(names, problems);
  if (problems.length > 0) {
    throw new InvalidInputError(`cannot build the Athena VPC flow logs DDL:\n  ${problems.join('\n  ')}`, {
      hint: 'pass location as s3://bucket/prefix/AWSLogs/, 12-digit account ids, region names, startDate as yyyy/MM/dd and the flow log format\'s field names in order',
    });
  }
  const columns = fields.map((f) => `  \`${f.column}\` ${HIVE_TYPE[f.type]}`).join(',\n');
  const tableDdl = `CREATE EXTERNAL TABLE IF NOT EXISTS ${table} (
${columns}
)
PARTITIONED BY (accid string, aws_region string, day string)
ROW FORMAT DELIMITED
FIELDS TERMINATED BY ' '
LOCATION ${sqlString(options.location)}
TBLPROPERTIES (
  'skip.header.line.count'='1',
  'projection.enabled'='true',
  'projection.accid.type'='enum',
  'projection.accid.values'=${sqlString(options.accounts.join(','))},
  'projection.aws_region.type'='enum',
  'projection.aws_region.values'=${sqlString(regions.join(','))},
  'projection.day.type'='date',
  'projection.day.format'='yyyy/MM/dd',
  'projection.day.range'=${sqlString(`${options.startDate},NOW`)},
  'projection.day.interval'='1',
  'projection.day.interval.unit'='DAYS',
  'storage.location.template'=${sqlString(`${options.location}\${accid}/vpcflowlogs/\${aws_region}/\${day}`)}
)`;
  return { table: tableDdl, view: `CREATE OR REPLACE VIEW ${view} AS\n${vpcFlowLogsViewSql([{ tableName: table, fields: names }])}` };
}

/**
 * The SELECT of the `vpc_flow_logs` view over one or more files tables (one per format): the embedded table's
 * columns in its order, then evidence_key, evidence_record and the partition columns.
 */
export function vpcFlowLogsViewSql(tables: readonly VpcFlowLogsFilesTable[]): string {
  const problems: string[] = [];
  const parts = tables.map((t) => {
    if (!NAME.test(t.tableName)) problems.push(`not a valid table name: ${t.tableName}`);
    const present = new Set(resolveFields(t.fields, problems).map((f) => f.column));
    const select = VPC_FLOW_COLUMNS.map((c) => {
      const q = `"${c.name}"`;
      if (c.name === 'time') {
        const seconds = present.has('start') ? (present.has('end') ? 'coalesce("start", "end")' : '"start"') : present.has('end') ? '"end"' : undefined;
        return `  ${seconds ? `date_format(from_unixtime(${seconds}), '%Y-%m-%dT%H:%i:%sZ')` : 'CAST(NULL AS varchar)'} AS "time"`;
      }
      if (!present.has(c.name)) return `  CAST(NULL AS ${TRINO_TYPE[c.type]}) AS ${q}`;
      return c.type === 'VARCHAR' ? `  nullif(${q}, '-') AS ${q}` : `  ${q}`;
    });
    select.push(`  regexp_replace("$path", '^s3://[^/]+/', '') AS evidence_key`, '  CAST(NULL AS integer) AS evidence_record', '  accid', '  aws_region', '  day');
    return `SELECT\n${select.join(',\n')}\nFROM ${t.tableName}`;
  });
  if (tables.length === 0) problems.push('at least one files table is needed');
  if (problems.length > 0) throw new InvalidInputError(`cannot build the vpc_flow_logs view:\n  ${problems.join('\n  ')}`);
  return parts.join('\nUNION ALL\n');
}
