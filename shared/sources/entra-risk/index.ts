/**
 * Microsoft Entra ID Protection (`entra-risk`): risk detections and risky users as Microsoft Graph returns them
 * (`GET /identityProtection/riskDetections`, `GET /identityProtection/riskyUsers`, `{"value":[...]}`; what
 * `amber collect --from api:entra-risk` preserves), into `entra_risk`, one row per detection or risky user:
 *
 * | record_type      | Graph resource  | time                         |
 * |------------------|-----------------|------------------------------|
 * | `risk-detection` | riskDetection   | `detectedDateTime`           |
 * | `risky-user`     | riskyUser       | `riskLastUpdatedDateTime`    |
 *
 * Levels and states are as Graph writes them (low/medium/high/hidden/none; atRisk, confirmedCompromised,
 * remediated, dismissed, confirmedSafe...); location and additional_info are kept as text.
 */
import type { LogSource, SourceParseResult } from '../log-source.ts';
import { boolean, first, isObject, pick, text, type JsonObject } from '../cloud-records/fields.ts';
import { columns, eventTime, parseJsonSource, sourceAthenaDdl, type RowResult, type SourceAthenaDdlOptions } from '../cloud-records/source-kit.ts';
import { classifyHead } from '../cloud-records/recognise.ts';

/** Columns of `entra_risk`. */
export const ENTRA_RISK_COLUMNS = columns([
  'time', 'original_time', 'record_type', 'id', 'user_id', 'user_principal_name', 'user_display_name', 'risk_event_type',
  'risk_level', 'risk_state', 'risk_detail', 'source', 'detection_timing_type', 'activity', 'activity_time', 'detected_time',
  'last_updated_time', 'token_issuer_type', 'ip_address', 'location_city', 'location_country', 'request_id',
  'correlation_id', ['is_deleted', 'BOOLEAN'], ['is_processing', 'BOOLEAN'], 'additional_info', 'source_shape',
]);

/** Reads one riskDetection or riskyUser. */
export function readEntraRisk(record: JsonObject): RowResult {
  const detection = pick(record, 'riskEventType') !== undefined || pick(record, 'detectedDateTime') !== undefined;
  const when = eventTime(detection ? first(record, 'detectedDateTime', 'activityDateTime') : pick(record, 'riskLastUpdatedDateTime'));
  if ('reason' in when) return { reason: `${detection ? 'a risk detection' : 'a risky user'} without a readable ${detection ? 'detectedDateTime' : 'riskLastUpdatedDateTime'}: ${when.reason}` };
  const location = pick(record, 'location');
  const row = {
    time: when.time,
    original_time: when.original,
    record_type: detection ? 'risk-detection' : 'risky-user',
    id: text(pick(record, 'id')),
    // A riskyUser's id is the user's object id.
    user_id: text(detection ? pick(record, 'userId') : pick(record, 'id')),
    user_principal_name: text(pick(record, 'userPrincipalName')),
    user_display_name: text(pick(record, 'userDisplayName')),
    risk_event_type: text(pick(record, 'riskEventType')),
    risk_level: text(pick(record, 'riskLevel')),
    risk_state: text(pick(record, 'riskState')),
    risk_detail: text(pick(record, 'riskDetail')),
    source: text(pick(record, 'source')),
    detection_timing_type: text(pick(record, 'detectionTimingType')),
    activity: text(pick(record, 'activity')),
    activity_time: text(pick(record, 'activityDateTime')),
    detected_time: text(pick(record, 'detectedDateTime')),
    last_updated_time: text(first(record, 'lastUpdatedDateTime', 'riskLastUpdatedDateTime')),
    token_issuer_type: text(pick(record, 'tokenIssuerType')),
    ip_address: text(pick(record, 'ipAddress')),
    location_city: isObject(location) ? text(pick(location, 'city')) : null,
    location_country: isObject(location) ? text(pick(location, 'countryOrRegion')) : null,
    request_id: text(pick(record, 'requestId')),
    correlation_id: text(pick(record, 'correlationId')),
    is_deleted: boolean(pick(record, 'isDeleted')),
    is_processing: boolean(pick(record, 'isProcessing')),
    additional_info: text(pick(record, 'additionalInfo')),
    source_shape: 'graph',
  };
  return { row, shape: detection ? 'graph-risk-detection' : 'graph-risky-user' };
}

/** Risk detections and risky-user updates on the cross-cloud timeline (Athena SQL). */
export const ENTRA_RISK_TIMELINE_SQL = `
SELECT
  CAST(time AS VARCHAR) AS time,
  CAST('azure' AS VARCHAR) AS cloud,
  CAST('entra-risk' AS VARCHAR) AS source,
  CAST(NULL AS VARCHAR) AS account,
  CAST(NULL AS VARCHAR) AS region,
  CAST(coalesce(nullif(user_principal_name, ''), user_id) AS VARCHAR) AS actor,
  CAST(CASE WHEN record_type = 'risk-detection'
    THEN 'Risk detected: ' || coalesce(risk_event_type, 'unknown') || ' (' || coalesce(risk_level, '?') || ', ' || coalesce(risk_state, '?') || ')'
    ELSE 'User risk ' || coalesce(risk_level, '?') || ', ' || coalesce(risk_state, '?') END AS VARCHAR) AS action,
  CAST('Microsoft Entra ID Protection' AS VARCHAR) AS service,
  CAST(coalesce(nullif(user_principal_name, ''), user_display_name, user_id) AS VARCHAR) AS target,
  CAST(ip_address AS VARCHAR) AS source_ip,
  CAST(NULL AS VARCHAR) AS user_agent,
  CAST('success' AS VARCHAR) AS outcome,
  CAST(NULL AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM entra_risk`;

/** Entra ID Protection risk detections and risky users (Graph). */
export const entraRiskSource: LogSource = {
  id: 'entra-risk',
  title: 'Microsoft Entra ID Protection risk detections and risky users',
  cloud: 'azure',
  table: 'entra_risk',
  timeColumn: 'time',
  columns: ENTRA_RISK_COLUMNS,
  sniff: (head, key) => classifyHead(head, key) === 'entra-risk',
  parse: (text, key): SourceParseResult => parseJsonSource(text, key, { id: 'entra-risk', containers: ['value'], read: readEntraRisk }),
  timelineSql: ENTRA_RISK_TIMELINE_SQL,
};

/** Athena DDL of `entra_risk` over Amber's derived rows (see sourceAthenaDdl). */
export function entraRiskAthenaDdl(options: SourceAthenaDdlOptions): string {
  return sourceAthenaDdl(entraRiskSource, options);
}
