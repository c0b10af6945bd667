/**
 * The shape every log source other than CloudTrail plugs into (VPC Flow Logs, S3 access logs, Azure,
 * Entra ID, Microsoft 365, GCP, AWS IoT, MQTT brokers, ...). A source recognises its files by content,
 * parses them into rows of one table (named and shaped as its Athena/BigQuery table), and says how its rows
 * read on the cross-cloud timeline. Loading, derived copies, custody records and the timeline are generic
 * (shared/sources/case-tables.ts): a new source is one folder implementing this interface, registered in
 * shared/sources/registry.ts.
 */

/** One column of a source's table: lower-case name and DuckDB type (VARCHAR, BIGINT, DOUBLE, BOOLEAN, JSON...). */
export interface SourceColumn {
  readonly name: string;
  readonly type: string;
}

/** A parsed row, keyed by the table's column names, and its 0-based index in the evidence object. */
export interface SourceRow {
  readonly index: number;
  /** 1-based line in the original file, for line-oriented formats. */
  readonly line?: number;
  readonly row: Readonly<Record<string, unknown>>;
}

/** A record that could not be parsed: reported with its position, never dropped silently. */
export interface SourceProblem {
  readonly index?: number;
  readonly line?: number;
  readonly reason: string;
}

export interface SourceParseResult {
  /** The variant recognised (e.g. `v5`, `custom`, `cloudwatch-export`, `diagnostic-settings`). */
  readonly variant: string;
  readonly rows: readonly SourceRow[];
  readonly problems: readonly SourceProblem[];
}

export interface LogSource {
  /** Stable id, also the `--source` value: `vpcflow`, `s3access`, `azure-activity`, ... */
  readonly id: string;
  readonly title: string;
  readonly cloud: 'aws' | 'azure' | 'gcp' | 'm365' | 'iot';
  /** Table name in DuckDB and Athena/BigQuery (`vpc_flow_logs`). */
  readonly table: string;
  /**
   * The column holding each row's time as ISO-8601 UTC text (`YYYY-MM-DDTHH:MM:SSZ`), which scheduled runs
   * limit to their window, as `eventtime` in CloudTrail.
   */
  readonly timeColumn: string;
  /** The table's columns, without Amber's `evidence_key` / `evidence_record` (added by the loader). */
  readonly columns: readonly SourceColumn[];
  /**
   * True when the first bytes (already gunzipped when the object is gzip) and the key look like this source.
   * Must be cheap and specific: the registry asks every source and refuses ambiguous matches.
   */
  sniff(head: string, key: string): boolean;
  /** Parses a whole object (already gunzipped). Throws nothing for bad records: reports them in `problems`. */
  parse(text: string, key: string): SourceParseResult;
  /**
   * SELECT over the source's table (named by its `table`) returning the timeline columns
   * (time, cloud, source, account, region, actor, action, service, target, source_ip, user_agent, outcome,
   * error_code, evidence_key, evidence_record), in Athena SQL.
   */
  readonly timelineSql: string;
}
