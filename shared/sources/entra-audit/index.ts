/**
 * Microsoft Entra ID audit logs (`entra-audit`): directory changes (users, groups, roles, applications, policies)
 * from diagnostic settings, Microsoft Graph `directoryAudits` or Log Analytics (see parse.ts), into `entra_audit`.
 */
import type { LogSource, SourceParseResult } from '../log-source.ts';
import { columns, parseJsonSource, sourceAthenaDdl, type SourceAthenaDdlOptions } from '../cloud-records/source-kit.ts';
import { classifyHead } from '../cloud-records/recognise.ts';
import { readEntraAudit } from './parse.ts';

/**
 * Columns of `entra_audit`. activity_display_name is the operation ("Add member to role"); the initiator is split
 * into user and app fields; target_resources, initiated_by and additional_details are JSON text; target_* describe
 * the first target; role_name is derived for role changes (see parse.ts).
 */
export const ENTRA_AUDIT_COLUMNS = columns([
  'time', 'original_time', 'id', 'category', 'activity_display_name', 'operation_type', 'result', 'result_reason',
  'logged_by_service', 'correlation_id', 'tenant_id', 'initiated_by_user_upn', 'initiated_by_user_id',
  'initiated_by_user_display_name', 'initiated_by_app_id', 'initiated_by_app_display_name',
  'initiated_by_service_principal_id', 'initiated_by_service_principal_name', 'ip_address', 'user_agent',
  'target_display_name', 'target_id', 'target_type', 'target_user_principal_name', 'role_name', 'target_member', 'initiated_by',
  'target_resources', 'additional_details', 'source_shape',
]);

const FAILED = `lower(result) IN ('failure', 'timeout')`;

/** Directory changes on the cross-cloud timeline (Athena SQL). */
export const ENTRA_AUDIT_TIMELINE_SQL = `
SELECT
  CAST(time AS VARCHAR) AS time,
  CAST('azure' AS VARCHAR) AS cloud,
  CAST('entra-audit' AS VARCHAR) AS source,
  CAST(tenant_id AS VARCHAR) AS account,
  CAST(NULL AS VARCHAR) AS region,
  CAST(coalesce(nullif(initiated_by_user_upn, ''), nullif(initiated_by_app_display_name, ''), nullif(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id) AS VARCHAR) AS actor,
  CAST(activity_display_name AS VARCHAR) AS action,
  CAST(logged_by_service AS VARCHAR) AS service,
  CAST(coalesce(nullif(target_display_name, ''), target_user_principal_name, target_id) AS VARCHAR) AS target,
  CAST(ip_address AS VARCHAR) AS source_ip,
  CAST(user_agent AS VARCHAR) AS user_agent,
  CAST(CASE WHEN ${FAILED} THEN 'failure' ELSE 'success' END AS VARCHAR) AS outcome,
  CAST(CASE WHEN ${FAILED} THEN coalesce(nullif(result_reason, ''), result) END AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM entra_audit`;

/** Entra ID audit logs: diagnostic-settings AuditLogs, Graph `directoryAudits`, Log Analytics `AuditLogs` exports. */
export const entraAuditSource: LogSource = {
  id: 'entra-audit',
  title: 'Microsoft Entra ID audit logs',
  cloud: 'azure',
  table: 'entra_audit',
  timeColumn: 'time',
  columns: ENTRA_AUDIT_COLUMNS,
  sniff: (head, key) => classifyHead(head, key) === 'entra-audit',
  parse: (text, key): SourceParseResult => parseJsonSource(text, key, { id: 'entra-audit', containers: ['records', 'value'], read: readEntraAudit }),
  timelineSql: ENTRA_AUDIT_TIMELINE_SQL,
};

/** Athena DDL of `entra_audit` over Amber's derived rows (see sourceAthenaDdl). */
export function entraAuditAthenaDdl(options: SourceAthenaDdlOptions): string {
  return sourceAthenaDdl(entraAuditSource, options);
}
