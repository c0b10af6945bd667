/**
 * Google Cloud Audit Logs entries into rows of `gcp_audit`. Shapes, recognised per record:
 *
 * | shape           | where it comes from                                                                  | payload                  |
 * |-----------------|--------------------------------------------------------------------------------------|--------------------------|
 * | `log-entry`     | Cloud Logging LogEntry JSON: `gcloud logging read --format=json` (array), Cloud Storage sink files (JSON Lines), Pub/Sub exports | `protoPayload` (AuditLog) |
 * | `bigquery-sink` | rows of a BigQuery log sink table (`cloudaudit_googleapis_com_activity`...), exported as JSON | `protopayload_auditlog`, with `requestJson`, `responseJson`, `serviceDataJson`, `metadataJson` as JSON text |
 *
 * All four audit logs are read: Admin Activity, Data Access, System Event and Policy Denied; log_type says which
 * (from `logName`, `.../logs/cloudaudit.googleapis.com%2Factivity`).
 */
import { at, first, integer, isObject, parsedJson, pick, text, type JsonObject } from '../cloud-records/fields.ts';
import { eventTime, type RowResult } from '../cloud-records/source-kit.ts';

const AUDIT_LOG_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';

/** Reads one audit log entry. */
export function readGcpAudit(record: JsonObject): RowResult {
  const bigquery = pick(record, 'protopayload_auditlog') !== undefined;
  const shape = bigquery ? 'bigquery-sink' : 'log-entry';
  const payload = parsedJson(bigquery ? pick(record, 'protopayload_auditlog') : pick(record, 'protoPayload'));
  if (!isObject(payload)) return { reason: 'has no protoPayload object: it is not a Cloud Audit Logs entry' };
  const payloadType = text(pick(payload, '@type'));
  if (payloadType !== null && payloadType !== AUDIT_LOG_TYPE) return { reason: `has a protoPayload of type ${payloadType}, not ${AUDIT_LOG_TYPE}` };
  const when = eventTime(pick(record, 'timestamp'));
  if ('reason' in when) return when;
  const method = text(pick(payload, 'methodName'));
  if (method === null || method === '') return { reason: 'has no protoPayload.methodName' };
  const logName = text(pick(record, 'logName'));
  const resource = parsedJson(pick(record, 'resource'));
  const labels = at(resource, 'labels');
  const status = parsedJson(pick(payload, 'status'));
  const locations = at(payload, 'resourceLocation.currentLocations');
  const row: Record<string, unknown> = {
    time: when.time,
    original_time: when.original,
    receive_timestamp: text(pick(record, 'receiveTimestamp')),
    insert_id: text(pick(record, 'insertId')),
    log_name: logName,
    log_type: logName === null ? null : (/cloudaudit\.googleapis\.com(?:%2F|\/)([a-z_]+)$/i.exec(logName)?.[1]?.toLowerCase() ?? null),
    log_parent: logName === null ? null : (/^((?:projects|organizations|folders|billingAccounts)\/[^/]+)\/logs\//.exec(logName)?.[1] ?? null),
    project_id: text(at(labels, 'project_id')) ?? (logName === null ? null : (/^projects\/([^/]+)\/logs\//.exec(logName)?.[1] ?? null)),
    location: text(first(labels, 'location', 'zone', 'region')) ?? (Array.isArray(locations) ? text(locations[0]) : null),
    resource_type: text(at(resource, 'type')),
    resource_labels: text(labels),
    severity: text(pick(record, 'severity')),
    service_name: text(pick(payload, 'serviceName')),
    method_name: method,
    resource_name: text(pick(payload, 'resourceName')),
    principal_email: text(at(payload, 'authenticationInfo.principalEmail')),
    principal_subject: text(at(payload, 'authenticationInfo.principalSubject')),
    service_account_key_name: text(at(payload, 'authenticationInfo.serviceAccountKeyName')),
    service_account_delegation_info: text(at(payload, 'authenticationInfo.serviceAccountDelegationInfo')),
    caller_ip: text(at(payload, 'requestMetadata.callerIp')),
    caller_supplied_user_agent: text(at(payload, 'requestMetadata.callerSuppliedUserAgent')),
    status_code: integer(at(status, 'code')),
    status_message: text(at(status, 'message')),
    authorization_info: text(pick(payload, 'authorizationInfo')),
    request: text(bigquery ? pick(payload, 'requestJson') : pick(payload, 'request')),
    response: text(bigquery ? pick(payload, 'responseJson') : pick(payload, 'response')),
    service_data: text(bigquery ? pick(payload, 'serviceDataJson') : pick(payload, 'serviceData')),
    metadata: text(bigquery ? pick(payload, 'metadataJson') : pick(payload, 'metadata')),
    resource_location: text(pick(payload, 'resourceLocation')),
    operation: text(pick(record, 'operation')),
    labels: text(pick(record, 'labels')),
    source_shape: shape,
  };
  return { row, shape };
}
