/**
 * Microsoft Entra ID sign-in logs (`entra-signin`): interactive, non-interactive, service principal and managed
 * identity sign-ins, from diagnostic settings, Microsoft Graph or Log Analytics (see parse.ts), into `entra_signin`.
 */
import type { LogSource, SourceParseResult } from '../log-source.ts';
import { columns, parseJsonSource, sourceAthenaDdl, type SourceAthenaDdlOptions } from '../cloud-records/source-kit.ts';
import { classifyHead } from '../cloud-records/recognise.ts';
import { readEntraSignIn } from './parse.ts';

/**
 * Columns of `entra_signin`. error_code is `0` for a sign-in that succeeded (Entra's own convention); risk and MFA
 * fields are as Entra writes them (`riskLevelDuringSignIn` -> risk_level_during_sign_in, values none/low/medium/high/
 * hidden); nested details (mfa_detail, authentication_details, device_detail, status...) are JSON text.
 */
export const ENTRA_SIGNIN_COLUMNS = columns([
  'time', 'original_time', 'category', 'sign_in_type', 'operation_name', 'id', 'correlation_id', 'tenant_id',
  'user_principal_name', 'user_id', 'user_display_name', 'user_type', 'service_principal_id', 'service_principal_name',
  'managed_identity_type', 'app_id', 'app_display_name', 'resource_display_name', 'resource_id', 'ip_address', 'user_agent',
  'client_app_used', ['is_interactive', 'BOOLEAN'], 'authentication_requirement', 'authentication_protocol',
  'conditional_access_status', 'risk_level_aggregated', 'risk_level_during_sign_in', 'risk_state', 'risk_detail',
  'risk_event_types', 'error_code', 'failure_reason', 'additional_details', 'token_issuer_type', 'cross_tenant_access_type',
  'home_tenant_id', 'incoming_token_type', 'location_country', 'location_city', 'mfa_detail', 'authentication_details',
  'device_detail', 'applied_conditional_access_policies', 'status', 'source_shape',
]);

const SUCCEEDED = `coalesce(error_code, '0') = '0'`;

/** Sign-ins on the cross-cloud timeline (Athena SQL): actor is the user, else the service principal or app. */
export const ENTRA_SIGNIN_TIMELINE_SQL = `
SELECT
  CAST(time AS VARCHAR) AS time,
  CAST('azure' AS VARCHAR) AS cloud,
  CAST('entra-signin' AS VARCHAR) AS source,
  CAST(tenant_id AS VARCHAR) AS account,
  CAST(NULL AS VARCHAR) AS region,
  CAST(coalesce(nullif(user_principal_name, ''), nullif(service_principal_name, ''), nullif(app_display_name, ''), nullif(service_principal_id, ''), app_id, user_id) AS VARCHAR) AS actor,
  CAST(operation_name || ' (' || coalesce(sign_in_type, 'unknown type') || ')' AS VARCHAR) AS action,
  CAST('Microsoft Entra ID' AS VARCHAR) AS service,
  CAST(coalesce(nullif(app_display_name, ''), app_id, resource_display_name) AS VARCHAR) AS target,
  CAST(ip_address AS VARCHAR) AS source_ip,
  CAST(user_agent AS VARCHAR) AS user_agent,
  CAST(CASE WHEN ${SUCCEEDED} THEN 'success' ELSE 'failure' END AS VARCHAR) AS outcome,
  CAST(CASE WHEN ${SUCCEEDED} THEN NULL ELSE error_code END AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM entra_signin`;

/** Entra ID sign-in logs: the four diagnostic categories, Graph `signIns`, Log Analytics exports. */
export const entraSignInSource: LogSource = {
  id: 'entra-signin',
  title: 'Microsoft Entra ID sign-in logs',
  cloud: 'azure',
  table: 'entra_signin',
  timeColumn: 'time',
  columns: ENTRA_SIGNIN_COLUMNS,
  sniff: (head, key) => classifyHead(head, key) === 'entra-signin',
  parse: (text, key): SourceParseResult => parseJsonSource(text, key, { id: 'entra-signin', containers: ['records', 'value'], read: readEntraSignIn }),
  timelineSql: ENTRA_SIGNIN_TIMELINE_SQL,
};

/** Athena DDL of `entra_signin` over Amber's derived rows (see sourceAthenaDdl). */
export function entraSignInAthenaDdl(options: SourceAthenaDdlOptions): string {
  return sourceAthenaDdl(entraSignInSource, options);
}
