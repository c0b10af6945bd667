/**
 * The Glue shape of Amber's `cloudtrail` table, derived from athenaCloudTrailDdl (shared/query/tables/cloudtrail.ts)
 * so the Glue tables CloudFormation creates cannot drift from the DDL the embedded engine mirrors: the external
 * table's columns come from its CREATE TABLE, the view's SELECT from its CREATE VIEW. Athena views in Glue are
 * "Presto views": the SQL and column types travel base64-encoded in ViewOriginalText.
 */
import { athenaCloudTrailDdl } from '../../shared/query/tables/cloudtrail.ts';

/** A Glue column: name and Hive type as Glue stores it (`struct<type:string,...>`). */
export interface GlueColumn {
  readonly name: string;
  readonly type: string;
}

// Any valid values: only the column list and the view's SELECT are read from this DDL.
const REFERENCE = athenaCloudTrailDdl({
  location: 's3://reference-bucket/AWSLogs/',
  accounts: ['000000000000'],
  regions: ['us-east-1'],
  startDate: '2020/01/01',
  tableName: 'cloudtrail_files',
  viewName: 'cloudtrail',
});

/** Splits `text` on `separator` where it is not nested inside <...> or (...). */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '<' || ch === '(') depth += 1;
    if (ch === '>' || ch === ')') depth -= 1;
    if (ch === separator && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim() !== '') parts.push(current);
  return parts;
}

/** The record columns of the documented CloudTrail table, in order, with Glue (lower-case Hive) types. */
export function cloudTrailRecordColumns(): GlueColumn[] {
  const m = /^CREATE EXTERNAL TABLE \S+ \(\n([\s\S]*?)\n\)\nPARTITIONED BY/.exec(REFERENCE.table);
  if (!m?.[1]) throw new Error('athenaCloudTrailDdl changed shape: no column list before PARTITIONED BY; update infra/lib/athena-cloudtrail.ts');
  return splitTopLevel(m[1], ',').map((column) => {
    const t = column.trim();
    const space = t.indexOf(' ');
    return { name: t.slice(0, space), type: t.slice(space + 1).replace(/\s+/g, '').toLowerCase() };
  });
}

/** The view's SELECT over `table` (the record columns, evidence_key, evidence_record, account, region, timestamp), plus `extraColumns`. */
export function cloudTrailViewSql(table: string, extraColumns: readonly string[] = []): string {
  const m = /^CREATE OR REPLACE VIEW \S+ AS\n([\s\S]*)\nFROM cloudtrail_files$/.exec(REFERENCE.view);
  if (!m?.[1]) throw new Error('athenaCloudTrailDdl changed shape: the view is not "SELECT ... FROM <table>"; update infra/lib/athena-cloudtrail.ts');
  return `${m[1]}${extraColumns.map((c) => `, ${c}`).join('')}\nFROM ${table}`;
}

/** The columns the view returns (what CLOUDTRAIL_COLUMNS lists for DuckDB), with Hive types, plus `extra` string columns. */
export function cloudTrailViewColumns(extra: readonly string[] = []): GlueColumn[] {
  return [
    ...cloudTrailRecordColumns(),
    { name: 'evidence_key', type: 'string' },
    { name: 'evidence_record', type: 'int' },
    { name: 'account', type: 'string' },
    { name: 'region', type: 'string' },
    { name: 'timestamp', type: 'string' },
    ...extra.map((name) => ({ name, type: 'string' })),
  ];
}

/** A Hive type (`struct<a:string>`) as Presto/Trino writes it (`row(a varchar)`), for a view's column list. */
export function prestoType(hive: string): string {
  const t = hive.trim();
  if (t === 'string') return 'varchar';
  if (t === 'int') return 'integer';
  if (t === 'bigint' || t === 'boolean' || t === 'double') return t;
  const inner = (prefix: string): string | undefined => (t.startsWith(`${prefix}<`) && t.endsWith('>') ? t.slice(prefix.length + 1, -1) : undefined);
  const arr = inner('array');
  if (arr !== undefined) return `array(${prestoType(arr)})`;
  const map = inner('map');
  if (map !== undefined) {
    const [k, v] = splitTopLevel(map, ',');
    return `map(${prestoType(k ?? '')}, ${prestoType(v ?? '')})`;
  }
  const struct = inner('struct');
  if (struct !== undefined) {
    return `row(${splitTopLevel(struct, ',')
      .map((field) => {
        const colon = field.indexOf(':');
        return `${field.slice(0, colon)} ${prestoType(field.slice(colon + 1))}`;
      })
      .join(', ')})`;
  }
  throw new Error(`no Presto type for Hive type ${JSON.stringify(hive)}`);
}

/** ViewOriginalText of a Glue VIRTUAL_VIEW that Athena reads as its own view. */
export function prestoViewText(sql: string, database: string, columns: readonly GlueColumn[]): string {
  const view = { originalSql: sql, catalog: 'awsdatacatalog', schema: database, columns: columns.map((c) => ({ name: c.name, type: prestoType(c.type) })) };
  return `/* Presto View: ${Buffer.from(JSON.stringify(view), 'utf8').toString('base64')} */`;
}
