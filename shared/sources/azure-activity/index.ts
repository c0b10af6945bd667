/**
 * Azure Activity Log (`azure-activity`): subscription-level control-plane events, in every shape they are exported
 * in (see parse.ts), into the `azure_activity` table.
 */
import type { LogSource, SourceParseResult } from '../log-source.ts';
import { columns, parseJsonSource, sourceAthenaDdl, type SourceAthenaDdlOptions } from '../cloud-records/source-kit.ts';
import { classifyHead } from '../cloud-records/recognise.ts';
import { readAzureActivity } from './parse.ts';

/**
 * Columns of `azure_activity`. `time` is the event time normalised to `YYYY-MM-DDTHH:MM:SSZ` (original_time keeps the
 * text as logged); `caller` is the UPN, SPN or application that acted; claims, authorization, properties and
 * http_request are JSON text, as Athena would hold them in STRING columns.
 */
export const AZURE_ACTIVITY_COLUMNS = columns([
  'time', 'original_time', 'category', 'operation_name', 'operation_name_localized', 'result_type', 'result_signature',
  'caller', 'caller_ip', 'correlation_id', 'event_data_id', 'operation_id', 'level', 'location', 'resource_id',
  'resource_group', 'resource_provider', 'resource_type', 'subscription_id', 'tenant_id', 'authorization_action',
  'authorization_scope', 'principal_id', 'principal_type', 'app_id', 'description', ['duration_ms', 'BIGINT'], 'claims',
  'authorization', 'properties', 'http_request', 'source_shape',
]);

const FAILED = `lower(result_type) IN ('failure', 'failed')`;

/** The Activity Log on the cross-cloud timeline (Athena SQL). */
export const AZURE_ACTIVITY_TIMELINE_SQL = `
SELECT
  CAST(time AS VARCHAR) AS time,
  CAST('azure' AS VARCHAR) AS cloud,
  CAST('azure-activity' AS VARCHAR) AS source,
  CAST(subscription_id AS VARCHAR) AS account,
  CAST(nullif(location, '') AS VARCHAR) AS region,
  CAST(coalesce(nullif(caller, ''), principal_id) AS VARCHAR) AS actor,
  CAST(operation_name AS VARCHAR) AS action,
  CAST(resource_provider AS VARCHAR) AS service,
  CAST(resource_id AS VARCHAR) AS target,
  CAST(caller_ip AS VARCHAR) AS source_ip,
  CAST(NULL AS VARCHAR) AS user_agent,
  CAST(CASE WHEN ${FAILED} THEN 'failure' ELSE 'success' END AS VARCHAR) AS outcome,
  CAST(CASE WHEN ${FAILED} THEN coalesce(json_extract_scalar(properties, '$.statusCode'), result_signature, result_type) END AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM azure_activity`;

/** Azure Activity Log: diagnostic-settings records (JSON Lines or `{"records":[...]}`), REST `{"value":[...]}`, arrays. */
export const azureActivitySource: LogSource = {
  id: 'azure-activity',
  title: 'Azure Activity Log',
  cloud: 'azure',
  table: 'azure_activity',
  timeColumn: 'time',
  columns: AZURE_ACTIVITY_COLUMNS,
  sniff: (head, key) => classifyHead(head, key) === 'azure-activity',
  parse: (text, key): SourceParseResult => parseJsonSource(text, key, { id: 'azure-activity', containers: ['records', 'value'], read: readAzureActivity }),
  timelineSql: AZURE_ACTIVITY_TIMELINE_SQL,
};

/** Athena DDL of `azure_activity` over Amber's derived rows (see sourceAthenaDdl). */
export function azureActivityAthenaDdl(options: SourceAthenaDdlOptions): string {
  return sourceAthenaDdl(azureActivitySource, options);
}
