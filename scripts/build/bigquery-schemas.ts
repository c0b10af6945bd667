/**
 * The BigQuery schemas of the detection tables (infra/gcp/modules/evidence/schemas/<table>.json), made from each
 * log source's declared columns, so the external tables hold exactly what the derive function writes:
 * `evidence_key`, `evidence_record`, then the source's columns (VARCHAR -> STRING, INTEGER/BIGINT -> INT64,
 * DOUBLE -> FLOAT64, BOOLEAN -> BOOL).
 *
 *   npm run build:bigquery-schemas        rewrites the schema files (test/infra/gcp-terraform.test.ts checks them)
 *
 * CloudTrail rows are not derived in the cloud (see shared/sources/derive-rows.ts). `inventory` declares a column
 * `account`, the name of the tables' hive partition key: its schema leaves the column out and the partition, which
 * the derive function fills from that very column (ACCOUNT_COLUMNS), answers for it with the same value.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogSource } from '../../shared/sources/log-source.ts';
import { LOG_SOURCES } from '../../shared/sources/registry.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Where the evidence module keeps the schema files. */
export const SCHEMA_DIR = join(ROOT, 'infra', 'gcp', 'modules', 'evidence', 'schemas');

/** Sources with a BigQuery table, by table name. */
export const BIGQUERY_SOURCES: readonly LogSource[] = LOG_SOURCES;

/** Columns a table's hive partition keys provide (a schema field of the same name would clash with them). */
const PARTITION_KEYS = new Set(['case', 'account', 'day']);

const TYPES: Record<string, string> = { VARCHAR: 'STRING', INTEGER: 'INT64', BIGINT: 'INT64', DOUBLE: 'FLOAT64', BOOLEAN: 'BOOL' };

/** One BigQuery schema field. */
export interface BigQueryField {
  readonly name: string;
  readonly type: string;
  readonly mode: 'REQUIRED' | 'NULLABLE';
}

/** The schema of a source's table; an undeclared DuckDB type is an error naming the column. */
export function bigquerySchema(source: LogSource): BigQueryField[] {
  return [
    { name: 'evidence_key', type: 'STRING', mode: 'REQUIRED' },
    { name: 'evidence_record', type: 'INT64', mode: 'REQUIRED' },
    ...source.columns.filter((c) => !PARTITION_KEYS.has(c.name)).map((c): BigQueryField => {
      const type = TYPES[c.type.toUpperCase()];
      if (!type) throw new Error(`${source.table}.${c.name} has type ${c.type}, which has no BigQuery mapping here; add it to TYPES`);
      return { name: c.name, type, mode: 'NULLABLE' };
    }),
  ];
}

/** The schema file's exact text. */
export function schemaText(source: LogSource): string {
  return `${JSON.stringify(bigquerySchema(source), null, 2)}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const source of BIGQUERY_SOURCES) {
    await writeFile(join(SCHEMA_DIR, `${source.table}.json`), schemaText(source));
    process.stdout.write(`wrote schemas/${source.table}.json\n`);
  }
}
