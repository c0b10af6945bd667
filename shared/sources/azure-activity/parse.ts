/**
 * Azure Activity Log records into rows of `azure_activity`. Three record shapes, recognised per record:
 *
 * | shape                 | where it comes from                                                   | time            | operation               |
 * |-----------------------|-----------------------------------------------------------------------|-----------------|-------------------------|
 * | `diagnostic-settings` | export to a storage account (`insights-activity-logs/...PT1H.json`, JSON Lines or `{"records":[...]}`) or Event Hubs | `time` | `operationName` (text) |
 * | `rest-api`            | `GET .../providers/Microsoft.Insights/eventtypes/management/values` (`{"value":[...]}`), `az monitor activity-log list` (JSON array) | `eventTimestamp` | `operationName.value` |
 * | `log-analytics`       | a Log Analytics `AzureActivity` export                                | `TimeGenerated` | `OperationNameValue`    |
 *
 * The diagnostic-settings shape has no `caller`: it is the UPN claim, else the name claim, else the application id
 * claim, else the principal of the authorisation evidence (the documented mapping between the shapes).
 */
import { at, first, integer, isObject, parsedJson, pick, text, valueText, type JsonObject } from '../cloud-records/fields.ts';
import { eventTime, type RowResult } from '../cloud-records/source-kit.ts';

const UPN_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn';
const NAME_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name';
const OID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const TENANT_CLAIM = 'http://schemas.microsoft.com/identity/claims/tenantid';

function shapeOf(record: JsonObject): 'diagnostic-settings' | 'rest-api' | 'log-analytics' {
  if (pick(record, 'TimeGenerated') !== undefined || pick(record, 'OperationNameValue') !== undefined) return 'log-analytics';
  if (pick(record, 'eventTimestamp') !== undefined || isObject(pick(record, 'operationName')) || pick(record, 'eventDataId') !== undefined) return 'rest-api';
  return 'diagnostic-settings';
}

/** The claim value by its full URI or short name (claims are keyed either way; URIs hold dots, so no paths). */
function claim(claims: unknown, ...names: string[]): unknown {
  for (const name of names) {
    const v = pick(claims, name);
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/** Reads one Activity Log record. */
export function readAzureActivity(record: JsonObject): RowResult {
  const shape = shapeOf(record);
  const when = eventTime(first(record, shape === 'rest-api' ? 'eventTimestamp' : shape === 'log-analytics' ? 'TimeGenerated' : 'time', 'eventTimestamp', 'time', 'TimeGenerated'));
  if ('reason' in when) return when;
  const operation = valueText(first(record, 'OperationNameValue', 'operationName'));
  if (operation === null || operation === '') return { reason: 'has no operationName' };

  const identity = parsedJson(pick(record, 'identity'));
  const claims = parsedJson(first(record, 'claims', 'Claims')) ?? at(identity, 'claims');
  const authorization = parsedJson(first(record, 'authorization', 'Authorization')) ?? at(identity, 'authorization');
  const properties = parsedJson(first(record, 'properties', 'Properties'));
  const httpRequest = parsedJson(first(record, 'httpRequest', 'HTTPRequest'));
  const resourceId = text(first(record, 'resourceId', '_ResourceId', 'ResourceId'));
  const fromId = (re: RegExp): string | null => (resourceId === null ? null : (re.exec(resourceId)?.[1] ?? null));

  const caller = text(pick(record, 'caller', 'Caller'))
    ?? text(claim(claims, UPN_CLAIM, 'upn'))
    ?? text(claim(claims, NAME_CLAIM, 'name', 'unique_name'))
    ?? text(claim(claims, 'appid'))
    ?? text(at(authorization, 'evidence.principalId'));

  const row: Record<string, unknown> = {
    time: when.time,
    original_time: when.original,
    category: valueText(first(record, 'CategoryValue', 'category')),
    operation_name: operation,
    operation_name_localized: shape === 'rest-api' ? text(at(record, 'operationName.localizedValue')) : shape === 'log-analytics' ? text(pick(record, 'OperationName')) : null,
    result_type: valueText(first(record, 'ActivityStatusValue', 'resultType', 'status')),
    result_signature: valueText(first(record, 'ActivitySubstatusValue', 'resultSignature', 'subStatus')),
    caller,
    caller_ip: text(first(record, 'callerIpAddress', 'httpRequest.clientIpAddress', 'CallerIpAddress')) ?? text(at(httpRequest, 'clientIpAddress')),
    correlation_id: text(pick(record, 'correlationId')),
    event_data_id: text(pick(record, 'eventDataId')),
    operation_id: text(pick(record, 'operationId')),
    level: valueText(pick(record, 'level')),
    location: text(pick(record, 'location')),
    resource_id: resourceId,
    resource_group: text(first(record, 'resourceGroupName', 'ResourceGroup')) ?? fromId(/\/resourceGroups\/([^/]+)/i),
    resource_provider: valueText(first(record, 'resourceProviderName', 'ResourceProviderValue')) ?? (operation.includes('/') ? operation.slice(0, operation.indexOf('/')) : null),
    resource_type: valueText(pick(record, 'resourceType')),
    subscription_id: text(first(record, 'subscriptionId', 'SubscriptionId')) ?? fromId(/^\/subscriptions\/([^/]+)/i),
    tenant_id: text(first(record, 'tenantId', 'TenantId')) ?? text(claim(claims, TENANT_CLAIM, 'tid')),
    authorization_action: text(at(authorization, 'action')),
    authorization_scope: text(at(authorization, 'scope')),
    principal_id: text(claim(claims, OID_CLAIM, 'oid')) ?? text(at(authorization, 'evidence.principalId')),
    principal_type: text(at(authorization, 'evidence.principalType')),
    app_id: text(claim(claims, 'appid')),
    description: text(pick(record, 'description')),
    duration_ms: integer(pick(record, 'durationMs')),
    claims: text(claims),
    authorization: text(authorization),
    properties: text(properties),
    http_request: text(httpRequest),
    source_shape: shape,
  };
  return { row, shape };
}
