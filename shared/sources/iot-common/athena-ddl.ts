/**
 * Athena DDL for an IoT source's table over Amber's derived copies: the NDJSON its parser wrote for every
 * preserved object (`cases/<case>/_amber/derived/<source-id>/<item>.ndjson.gz`, one row a line, with
 * `evidence_key` and `evidence_record`). That copy is the one shape every variant of a source shares (a
 * Mosquitto text log, a CloudWatch export and a shadow document cannot be read by one SerDe), it is itself
 * preserved and hashed, and it gives Athena the exact record index that the raw files cannot. The layout has
 * no dates, so there is no partition projection: a case's derived copies are small and read whole.
 */
import { InvalidInputError } from '../../errors.ts';
import { amberPrefix } from '../../evidence/names.ts';
import type { LogSource, SourceColumn } from '../log-source.ts';

/** Where an IoT table's derived copies are and what to call the table. */
export interface AthenaDerivedDdlOptions {
  /** S3 URI of the source's derived copies, ending with `/`: see derivedLocation. */
  readonly location: string;
  /** Plain or database-qualified name of the table. @default the source's table name */
  readonly tableName?: string;
}

/** `s3://<bucket>/cases/<case>/_amber/derived/<source-id>/`: where Amber keeps a source's derived copies. */
export function derivedLocation(bucket: string, caseName: string, sourceId: string): string {
  return `s3://${bucket}/${amberPrefix(caseName)}derived/${sourceId}/`;
}

/** The Hive type of a DuckDB column type in an IoT table. */
export function hiveType(duckType: string): string {
  const map: Record<string, string> = { VARCHAR: 'STRING', BIGINT: 'BIGINT', INTEGER: 'INT', DOUBLE: 'DOUBLE', BOOLEAN: 'BOOLEAN' };
  const hive = map[duckType.toUpperCase()];
  if (!hive) throw new InvalidInputError(`no Hive type for the DuckDB column type ${duckType}`, { hint: 'IoT tables use VARCHAR, BIGINT, INTEGER, DOUBLE and BOOLEAN columns' });
  return hive;
}

/** Problems with an S3 location and a table name, each naming the bad value (empty when both are fine). */
export function locationProblems(location: string, tableName: string): string[] {
  const problems: string[] = [];
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^']*)?$/.test(location)) problems.push(`location must be an s3:// URI without quotes, got ${location}`);
  if (!location.endsWith('/')) problems.push(`location must end with /, got ${location}`);
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(tableName)) problems.push(`not a valid table name: ${tableName}`);
  return problems;
}

/** Column list of a CREATE EXTERNAL TABLE, every name back-quoted (`time` and `timestamp` are Hive keywords). */
export function hiveColumns(columns: readonly SourceColumn[]): string {
  return columns.map((c) => `  \`${c.name}\` ${hiveType(c.type)}`).join(',\n');
}

/**
 * CREATE EXTERNAL TABLE for `source`'s table over its derived NDJSON copies, with the same columns and
 * types as the embedded engine's table plus `evidence_key` and `evidence_record`, so detection SQL runs
 * unchanged. Gzip copies are read by the text input format by their `.gz` suffix.
 */
export function athenaDerivedTableDdl(source: Pick<LogSource, 'id' | 'table' | 'columns'>, options: AthenaDerivedDdlOptions): string {
  const tableName = options.tableName ?? source.table;
  const problems = locationProblems(options.location, tableName);
  if (problems.length > 0) {
    throw new InvalidInputError(`cannot build the Athena DDL for ${source.table}:\n  ${problems.join('\n  ')}`, {
      hint: `pass location as derivedLocation(bucket, case, '${source.id}') and a table name of letters, digits and underscores`,
    });
  }
  const columns = [...source.columns, { name: 'evidence_key', type: 'VARCHAR' }, { name: 'evidence_record', type: 'INTEGER' }];
  return `CREATE EXTERNAL TABLE ${tableName} (
${hiveColumns(columns)}
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json'='false')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '${options.location}'`;
}
