/**
 * Google Cloud Audit Logs (`gcp-audit`): Admin Activity, Data Access, System Event and Policy Denied entries, as
 * LogEntry JSON or BigQuery log-sink rows (see parse.ts), into `gcp_audit`.
 */
import { InvalidInputError } from '../../errors.ts';
import type { LogSource, SourceParseResult } from '../log-source.ts';
import { columns, parseJsonSource, sourceAthenaDdl, type SourceAthenaDdlOptions } from '../cloud-records/source-kit.ts';
import { classifyHead } from '../cloud-records/recognise.ts';
import { readGcpAudit } from './parse.ts';

/**
 * Columns of `gcp_audit`. The AuditLog fields are flattened (method_name, service_name, resource_name,
 * principal_email, caller_ip, status_code...); request, response, service_data and metadata are JSON text, as the
 * BigQuery sink's requestJson/responseJson/serviceDataJson/metadataJson columns are; status_code is NULL or 0 for
 * a call that succeeded (google.rpc.Code).
 */
export const GCP_AUDIT_COLUMNS = columns([
  'time', 'original_time', 'receive_timestamp', 'insert_id', 'log_name', 'log_type', 'log_parent', 'project_id', 'location',
  'resource_type', 'resource_labels', 'severity', 'service_name', 'method_name', 'resource_name', 'principal_email',
  'principal_subject', 'service_account_key_name', 'service_account_delegation_info', 'caller_ip',
  'caller_supplied_user_agent', ['status_code', 'BIGINT'], 'status_message', 'authorization_info', 'request', 'response',
  'service_data', 'metadata', 'resource_location', 'operation', 'labels', 'source_shape',
]);

const FAILED = `coalesce(status_code, 0) <> 0`;

/** Audit log entries on the cross-cloud timeline (Athena SQL). */
export const GCP_AUDIT_TIMELINE_SQL = `
SELECT
  CAST(time AS VARCHAR) AS time,
  CAST('gcp' AS VARCHAR) AS cloud,
  CAST('gcp-audit' AS VARCHAR) AS source,
  CAST(coalesce(project_id, log_parent) AS VARCHAR) AS account,
  CAST(location AS VARCHAR) AS region,
  CAST(coalesce(nullif(principal_email, ''), principal_subject) AS VARCHAR) AS actor,
  CAST(method_name AS VARCHAR) AS action,
  CAST(service_name AS VARCHAR) AS service,
  CAST(resource_name AS VARCHAR) AS target,
  CAST(caller_ip AS VARCHAR) AS source_ip,
  CAST(caller_supplied_user_agent AS VARCHAR) AS user_agent,
  CAST(CASE WHEN ${FAILED} THEN 'failure' ELSE 'success' END AS VARCHAR) AS outcome,
  CAST(CASE WHEN ${FAILED} THEN coalesce(nullif(status_message, ''), CAST(status_code AS VARCHAR)) END AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM gcp_audit`;

/** Google Cloud Audit Logs: LogEntry JSON Lines or arrays, and BigQuery sink rows. */
export const gcpAuditSource: LogSource = {
  id: 'gcp-audit',
  title: 'Google Cloud Audit Logs',
  cloud: 'gcp',
  table: 'gcp_audit',
  timeColumn: 'time',
  columns: GCP_AUDIT_COLUMNS,
  sniff: (head, key) => classifyHead(head, key) === 'gcp-audit',
  parse: (text, key): SourceParseResult => parseJsonSource(text, key, { id: 'gcp-audit', containers: ['entries', 'records', 'value'], read: readGcpAudit }),
  timelineSql: GCP_AUDIT_TIMELINE_SQL,
};

/** Athena DDL of `gcp_audit` over Amber's derived rows (see sourceAthenaDdl). */
export function gcpAuditAthenaDdl(options: SourceAthenaDdlOptions): string {
  return sourceAthenaDdl(gcpAuditSource, options);
}

/** Where a BigQuery log sink writes the audit logs, for gcpAuditBigQueryViewSql. */
export interface GcpAuditBigQueryOptions {
  /** Project holding the sink's dataset. */
  readonly project: string;
  /** The sink's dataset. */
  readonly dataset: string;
  /**
   * Tables to read, the sink's own names: `cloudaudit_googleapis_com_activity`, `..._data_access`, `..._system_event`,
   * `..._policy` (partitioned tables), or a wildcard such as `cloudaudit_googleapis_com_*` for date-sharded ones.
   * @default all four partitioned tables
   */
  readonly tables?: readonly string[];
  /** Name of the view to create in the dataset. @default 'gcp_audit' */
  readonly viewName?: string;
}

/**
 * How each `gcp_audit` column reads from a BigQuery log-sink row, as BigQuery Standard SQL expressions (the sink's
 * table is the source of truth there; no copy is made). `time` uses the same `YYYY-MM-DDTHH:MM:SSZ` text as offline.
 */
export const GCP_AUDIT_BIGQUERY_COLUMNS: Readonly<Record<string, string>> = {
  time: "FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', timestamp, 'UTC')",
  original_time: "FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E*SZ', timestamp, 'UTC')",
  receive_timestamp: "FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E*SZ', receiveTimestamp, 'UTC')",
  insert_id: 'insertId',
  log_name: 'logName',
  log_type: "LOWER(REGEXP_EXTRACT(logName, r'cloudaudit\\.googleapis\\.com%2F([a-z_]+)$'))",
  log_parent: "REGEXP_EXTRACT(logName, r'^((?:projects|organizations|folders|billingAccounts)/[^/]+)/logs/')",
  project_id: "COALESCE(resource.labels.project_id, REGEXP_EXTRACT(logName, r'^projects/([^/]+)/logs/'))",
  location: 'COALESCE(resource.labels.location, resource.labels.zone, resource.labels.region, protopayload_auditlog.resourceLocation.currentLocations[SAFE_OFFSET(0)])',
  resource_type: 'resource.type',
  resource_labels: 'TO_JSON_STRING(resource.labels)',
  severity: 'severity',
  service_name: 'protopayload_auditlog.serviceName',
  method_name: 'protopayload_auditlog.methodName',
  resource_name: 'protopayload_auditlog.resourceName',
  principal_email: 'protopayload_auditlog.authenticationInfo.principalEmail',
  principal_subject: 'protopayload_auditlog.authenticationInfo.principalSubject',
  service_account_key_name: 'protopayload_auditlog.authenticationInfo.serviceAccountKeyName',
  service_account_delegation_info: 'TO_JSON_STRING(protopayload_auditlog.authenticationInfo.serviceAccountDelegationInfo)',
  caller_ip: 'protopayload_auditlog.requestMetadata.callerIp',
  caller_supplied_user_agent: 'protopayload_auditlog.requestMetadata.callerSuppliedUserAgent',
  status_code: 'protopayload_auditlog.status.code',
  status_message: 'protopayload_auditlog.status.message',
  authorization_info: 'TO_JSON_STRING(protopayload_auditlog.authorizationInfo)',
  request: 'protopayload_auditlog.requestJson',
  response: 'protopayload_auditlog.responseJson',
  service_data: 'protopayload_auditlog.serviceDataJson',
  metadata: 'protopayload_auditlog.metadataJson',
  resource_location: 'TO_JSON_STRING(protopayload_auditlog.resourceLocation)',
  operation: 'TO_JSON_STRING(operation)',
  labels: 'TO_JSON_STRING(labels)',
  source_shape: "'bigquery-sink'",
};

const BQ_NAME = /^[A-Za-z0-9_-]+$/;
const BQ_TABLE = /^[A-Za-z0-9_]+\*?$/;

/**
 * A BigQuery view giving the sink's audit log tables the `gcp_audit` shape, so a detection's `query.bigquery.sql`
 * reads the same columns as its Athena SQL. evidence_key names the sink table the row came from; evidence_record is
 * NULL (a BigQuery row has no position; `insert_id` identifies the entry instead).
 */
export function gcpAuditBigQueryViewSql(options: GcpAuditBigQueryOptions): string {
  const tables = options.tables ?? ['cloudaudit_googleapis_com_activity', 'cloudaudit_googleapis_com_data_access', 'cloudaudit_googleapis_com_system_event', 'cloudaudit_googleapis_com_policy'];
  const view = options.viewName ?? 'gcp_audit';
  const problems = [
    ...(BQ_NAME.test(options.project) ? [] : [`not a project id: ${options.project}`]),
    ...(BQ_NAME.test(options.dataset) ? [] : [`not a dataset name: ${options.dataset}`]),
    ...(BQ_NAME.test(view) ? [] : [`not a view name: ${view}`]),
    ...tables.filter((t) => !BQ_TABLE.test(t)).map((t) => `not a table name: ${t}`),
    ...(tables.length === 0 ? ['tables must name at least one sink table'] : []),
  ];
  if (problems.length > 0) throw new InvalidInputError(`cannot build the BigQuery gcp_audit view:\n  ${problems.join('\n  ')}`, { hint: 'pass the sink project and dataset and its cloudaudit_googleapis_com_* table names' });
  const select = GCP_AUDIT_COLUMNS.map((c) => `  ${GCP_AUDIT_BIGQUERY_COLUMNS[c.name]} AS ${c.name}`).join(',\n');
  const parts = tables.map((t) => {
    const key = t.endsWith('*') ? `CONCAT('bigquery://${options.project}/${options.dataset}/${t.slice(0, -1)}', _TABLE_SUFFIX)` : `'bigquery://${options.project}/${options.dataset}/${t}'`;
    return `SELECT\n${select},\n  ${key} AS evidence_key,\n  CAST(NULL AS INT64) AS evidence_record\nFROM \`${options.project}.${options.dataset}.${t}\``;
  });
  return `CREATE OR REPLACE VIEW \`${options.project}.${options.dataset}.${view}\` AS\n${parts.join('\nUNION ALL\n')}`;
}
