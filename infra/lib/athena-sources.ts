/**
 * The Athena tables of every registered log source besides CloudTrail (LOG_SOURCES), as Glue tables over the
 * Parquet rows Amber derives from preserved evidence as it is preserved (shared/sources/derive-object.ts):
 * `cases/<case>/_amber/derived/parquet/<table>/<yyyy>/<MM>/<dd>/<scope>.<region>.<item>.<sha>.parquet`.
 *
 * Each table's columns, SerDe and formats are read from the DDL the source itself exports (azureActivityAthenaDdl,
 * athenaIotCoreDdl, ...; sourceAthenaDdl for VPC flow logs and S3 access logs, whose own raw-file DDL is not used
 * here, see below), so a Glue table is exactly the CREATE EXTERNAL TABLE the source documents, and the columns are
 * the embedded engine's: detection SQL runs unchanged on both engines.
 *
 * Why Glue tables (glue.CfnTable) and not named queries holding the CREATE TABLE text: a named query is only a
 * saved query, nothing creates the table until someone runs it, so the detections' named queries would fail;
 * a Glue table exists when the stack does, is updated with it, and needs no extra permission at query time.
 *
 * Why the derived rows for VPC flow logs and S3 access logs too, not their raw-file DDL: Athena reads flow log
 * files by column position, so one table fits one flow-log format only (a custom format or a Transit Gateway
 * log under the same case would be read into the wrong columns without an error); S3 access logs have no fixed
 * layout under a case (the target prefix is the bucket owner's choice, date-based partitioning needs every
 * source bucket enumerated), and reading a whole case prefix would apply the access-log regex to every other
 * object of the case. The derived rows are the same rows DuckDB loads, of every format, with the exact
 * `evidence_record` the raw tables cannot give (they return NULL), and each derived copy is itself preserved,
 * hashed and recorded in the ledger as `derived` from its original.
 *
 * Partitioning: `case_name` is an *injected* projected partition, as in `evidence_cloudtrail`: cases are
 * unknown at deploy time, and every query names its case (`WHERE case_name = ?`), reading only that case's
 * derived folder. The derived layout has no dates, so there is nothing else to project.
 */
import type { LogSource } from '../../shared/sources/log-source.ts';
import { LOG_SOURCES } from '../../shared/sources/registry.ts';
import { sourceAthenaDdl } from '../../shared/sources/cloud-records/source-kit.ts';
import { azureActivityAthenaDdl } from '../../shared/sources/azure-activity/index.ts';
import { entraAuditAthenaDdl } from '../../shared/sources/entra-audit/index.ts';
import { entraSignInAthenaDdl } from '../../shared/sources/entra-signin/index.ts';
import { gcpAuditAthenaDdl } from '../../shared/sources/gcp-audit/index.ts';
import { m365AuditAthenaDdl } from '../../shared/sources/m365-audit/index.ts';
import { athenaIotApiDdl } from '../../shared/sources/iot-api/index.ts';
import { athenaIotCoreDdl } from '../../shared/sources/iot-core/index.ts';
import { athenaIotShadowDdl } from '../../shared/sources/iot-shadow/index.ts';
import { athenaMqttDdl } from '../../shared/sources/mqtt/index.ts';
import type { GlueColumn } from './athena-cloudtrail.ts';

/** Each source's DDL over its derived rows, by source id. */
const DERIVED_DDL: Readonly<Record<string, (options: { location: string }) => string>> = {
  'azure-activity': azureActivityAthenaDdl,
  'entra-signin': entraSignInAthenaDdl,
  'entra-audit': entraAuditAthenaDdl,
  'm365-audit': m365AuditAthenaDdl,
  'gcp-audit': gcpAuditAthenaDdl,
  'iot-core': athenaIotCoreDdl,
  'iot-shadow': athenaIotShadowDdl,
  'iot-api': athenaIotApiDdl,
  mqtt: athenaMqttDdl,
};

/**
 * The columns are read from the DDL; the storage is Parquet (the DDL's JSON SerDe describes the NDJSON copies the CLI
 * used to write): Athena reads Parquet columns by name, and the DDL's types are the embedded engine's, which DuckDB
 * writes into the Parquet (VARCHAR/JSON string, BIGINT bigint, INTEGER int, DOUBLE double, BOOLEAN boolean).
 */
export const PARQUET_STORAGE = {
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
} as const;

/** A source's Glue table: what its DDL declares. */
export interface SourceGlueTable {
  readonly source: LogSource;
  /** Table name: the source's `table`, what detection SQL reads. */
  readonly name: string;
  /** Folder of the derived Parquet under a case folder: `_amber/derived/parquet/<table>/`. */
  readonly derivedFolder: string;
  readonly columns: readonly GlueColumn[];
  readonly serde: string;
  readonly serdeParameters: Readonly<Record<string, string>>;
  readonly inputFormat: string;
  readonly outputFormat: string;
}

// Any valid location: only the table's shape is read from the DDL; the stack sets the real location.
const REFERENCE_LOCATION = 's3://reference-bucket/cases/reference-case/_amber/derived/';

/** Parses a source's CREATE EXTERNAL TABLE (the shape sourceAthenaDdl and athenaDerivedTableDdl write). */
export function parseDerivedDdl(source: LogSource, ddl: string): SourceGlueTable {
  const fail = (what: string): never => {
    throw new Error(`the Athena DDL of ${source.id} changed shape (${what}); update infra/lib/athena-sources.ts`);
  };
  const m = /^CREATE EXTERNAL TABLE (\S+) \(\n([\s\S]*?)\n\)\nROW FORMAT SERDE '([^']+)'\n(?:WITH SERDEPROPERTIES \(([^)]*)\)\n)?STORED AS INPUTFORMAT '([^']+)'\nOUTPUTFORMAT '([^']+)'\nLOCATION '[^']*'$/.exec(ddl);
  if (!m) return fail('not CREATE EXTERNAL TABLE ... ROW FORMAT SERDE ... STORED AS ... LOCATION');
  const [, name, body, serde, props, inputFormat, outputFormat] = m as unknown as [string, string, string, string, string | undefined, string, string];
  if (name !== source.table) fail(`table ${name}, not ${source.table}`);
  const columns = body.split(',\n').map((line) => {
    const c = /^\s*`([a-z_][a-z0-9_]*)` ([A-Za-z]+)$/.exec(line);
    return c ? { name: c[1]!, type: c[2]!.toLowerCase() } : fail(`column line ${JSON.stringify(line)}`);
  });
  const serdeParameters: Record<string, string> = {};
  for (const p of (props ?? '').split(',').filter((s) => s.trim() !== '')) {
    const kv = /^\s*'([^']+)'='([^']*)'\s*$/.exec(p);
    if (!kv) return fail(`SerDe property ${JSON.stringify(p)}`);
    serdeParameters[kv[1]!] = kv[2]!;
  }
  return { source, name, derivedFolder: `_amber/derived/parquet/${name}/`, columns, serde, serdeParameters, inputFormat, outputFormat };
}

/** The DDL of a source's table over its derived rows at `location`. */
export function sourceDerivedDdl(source: LogSource, location: string): string {
  const ddl = DERIVED_DDL[source.id];
  return ddl ? ddl({ location }) : sourceAthenaDdl(source, { location });
}

/** The Glue table of every registered source, in LOG_SOURCES order. */
export function sourceGlueTables(sources: readonly LogSource[] = LOG_SOURCES): SourceGlueTable[] {
  return sources.map((s) => parseDerivedDdl(s, sourceDerivedDdl(s, `${REFERENCE_LOCATION}${s.id}/`)));
}
