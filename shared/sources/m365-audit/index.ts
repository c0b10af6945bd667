/**
 * Microsoft 365 unified audit log (`m365-audit`): Exchange, SharePoint, OneDrive, Entra ID (via Office 365),
 * Teams, eDiscovery... from the Management Activity API, Search-UnifiedAuditLog / Purview CSV exports or Log
 * Analytics `OfficeActivity` (see parse.ts), into `m365_audit`.
 */
import type { LogSource } from '../log-source.ts';
import { columns, sourceAthenaDdl, type SourceAthenaDdlOptions } from '../cloud-records/source-kit.ts';
import { classifyHead } from '../cloud-records/recognise.ts';
import { parseM365Audit } from './parse.ts';

/**
 * Columns of `m365_audit`: the common schema (operation, user_id, workload, record_type, result_status, client_ip
 * without its port...), the Exchange fields detections need (logon_type and logon_type_name, mailbox_owner_upn,
 * parameters, forward_recipients), and the whole record as JSON text in audit_data (the exact AuditData cell for
 * CSV exports), so nothing the record says is out of reach of SQL.
 */
export const M365_AUDIT_COLUMNS = columns([
  'time', 'original_time', 'id', 'record_type', 'operation', 'organization_id', 'user_id', 'user_key', 'user_type',
  'workload', 'client_ip', 'object_id', 'result_status', 'logon_error', 'logon_type', 'logon_type_name',
  'mailbox_owner_upn', 'external_access', 'app_id', 'client_app_id', 'user_agent', 'site_url', 'source_file_name',
  'forward_recipients', 'parameters', 'operation_properties', 'extended_properties', 'modified_properties', 'audit_data',
  'source_shape',
]);

const FAILED = `lower(result_status) IN ('failed', 'failure', 'false')`;

/** Microsoft 365 activity on the cross-cloud timeline (Athena SQL). */
export const M365_AUDIT_TIMELINE_SQL = `
SELECT
  CAST(time AS VARCHAR) AS time,
  CAST('m365' AS VARCHAR) AS cloud,
  CAST('m365-audit' AS VARCHAR) AS source,
  CAST(organization_id AS VARCHAR) AS account,
  CAST(NULL AS VARCHAR) AS region,
  CAST(coalesce(nullif(user_id, ''), user_key) AS VARCHAR) AS actor,
  CAST(operation AS VARCHAR) AS action,
  CAST(workload AS VARCHAR) AS service,
  CAST(coalesce(nullif(object_id, ''), mailbox_owner_upn, site_url) AS VARCHAR) AS target,
  CAST(client_ip AS VARCHAR) AS source_ip,
  CAST(user_agent AS VARCHAR) AS user_agent,
  CAST(CASE WHEN ${FAILED} THEN 'failure' ELSE 'success' END AS VARCHAR) AS outcome,
  CAST(CASE WHEN ${FAILED} THEN coalesce(nullif(logon_error, ''), result_status) END AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM m365_audit`;

/** Microsoft 365 unified audit log: Management Activity API JSON, Search-UnifiedAuditLog CSV, OfficeActivity. */
export const m365AuditSource: LogSource = {
  id: 'm365-audit',
  title: 'Microsoft 365 unified audit log',
  cloud: 'm365',
  table: 'm365_audit',
  timeColumn: 'time',
  columns: M365_AUDIT_COLUMNS,
  sniff: (head, key) => classifyHead(head, key) === 'm365-audit',
  parse: parseM365Audit,
  timelineSql: M365_AUDIT_TIMELINE_SQL,
};

/** Athena DDL of `m365_audit` over Amber's derived rows (see sourceAthenaDdl). */
export function m365AuditAthenaDdl(options: SourceAthenaDdlOptions): string {
  return sourceAthenaDdl(m365AuditSource, options);
}
