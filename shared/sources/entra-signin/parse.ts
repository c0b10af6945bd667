/**
 * Microsoft Entra ID sign-in records into rows of `entra_signin`. Shapes, recognised per record:
 *
 * | shape                 | where it comes from                                                                 | fields under   |
 * |-----------------------|-------------------------------------------------------------------------------------|----------------|
 * | `diagnostic-settings` | storage account / Event Hubs export, categories SignInLogs, NonInteractiveUserSignInLogs, ServicePrincipalSignInLogs, ManagedIdentitySignInLogs, MicrosoftServicePrincipalSignInLogs | `properties` |
 * | `graph`               | Microsoft Graph `GET /auditLogs/signIns` (`{"value":[...]}`, v1.0 or beta)            | the record     |
 * | `log-analytics`       | Log Analytics `SigninLogs` / `AADNonInteractiveUserSignInLogs` / ... exports         | the record (PascalCase, nested values as JSON text) |
 *
 * `sign_in_type` says which of the four logs a record belongs to: the diagnostic category or Log Analytics table
 * when there is one, else Graph beta's `signInEventTypes`, else `isInteractive` (Graph v1.0 lists user sign-ins).
 */
import { at, boolean, first, isObject, parsedJson, pick, text, type JsonObject } from '../cloud-records/fields.ts';
import { SIGN_IN_CATEGORIES } from '../cloud-records/recognise.ts';
import { eventTime, type RowResult } from '../cloud-records/source-kit.ts';

const EVENT_TYPES: Readonly<Record<string, string>> = {
  interactiveuser: 'interactiveUser',
  noninteractiveuser: 'nonInteractiveUser',
  serviceprincipal: 'servicePrincipal',
  managedidentity: 'managedIdentity',
};

function signInType(record: JsonObject, p: unknown): string | null {
  const category = text(pick(record, 'category'))?.toLowerCase();
  const type = text(pick(record, 'Type'))?.toLowerCase();
  const fromCategory = (category && SIGN_IN_CATEGORIES[category]) || (type && SIGN_IN_CATEGORIES[type]);
  if (fromCategory) return fromCategory;
  const eventTypes = pick(p, 'signInEventTypes');
  if (Array.isArray(eventTypes) && typeof eventTypes[0] === 'string') return EVENT_TYPES[eventTypes[0].toLowerCase()] ?? eventTypes[0];
  const interactive = boolean(pick(p, 'isInteractive'));
  if (interactive === true) return 'interactiveUser';
  if (interactive === false) return text(pick(p, 'userPrincipalName')) ? 'nonInteractiveUser' : 'servicePrincipal';
  return null;
}

/** Reads one sign-in record. */
export function readEntraSignIn(record: JsonObject): RowResult {
  const diagnostic = isObject(pick(record, 'properties'));
  const shape = diagnostic ? 'diagnostic-settings' : pick(record, 'TimeGenerated') !== undefined ? 'log-analytics' : 'graph';
  const p: JsonObject = diagnostic ? (pick(record, 'properties') as JsonObject) : record;
  const when = eventTime(first(p, 'createdDateTime') ?? first(record, 'time', 'TimeGenerated'));
  if ('reason' in when) return when;
  const status = parsedJson(pick(p, 'status', 'Status'));
  const location = parsedJson(pick(p, 'location', 'LocationDetails'));
  const errorCode = first(status, 'errorCode') ?? pick(record, 'resultType', 'ResultType');
  const row: Record<string, unknown> = {
    time: when.time,
    original_time: when.original,
    category: text(pick(record, 'category')) ?? text(pick(record, 'Type')),
    sign_in_type: signInType(record, p),
    operation_name: text(pick(record, 'operationName', 'OperationName')) ?? 'Sign-in activity',
    id: text(pick(p, 'id', 'Id')),
    correlation_id: text(pick(p, 'correlationId')) ?? text(pick(record, 'correlationId')),
    tenant_id: text(first(record, 'tenantId', 'TenantId', 'AADTenantId')) ?? text(pick(p, 'resourceTenantId')),
    user_principal_name: text(pick(p, 'userPrincipalName')),
    user_id: text(pick(p, 'userId')),
    user_display_name: text(pick(p, 'userDisplayName')),
    user_type: text(pick(p, 'userType')),
    service_principal_id: text(pick(p, 'servicePrincipalId')),
    service_principal_name: text(pick(p, 'servicePrincipalName')),
    managed_identity_type: text(pick(p, 'managedIdentityType')),
    app_id: text(pick(p, 'appId')),
    app_display_name: text(pick(p, 'appDisplayName')),
    resource_display_name: text(pick(p, 'resourceDisplayName')),
    resource_id: diagnostic || shape === 'graph' ? text(pick(p, 'resourceId')) : text(pick(p, 'ResourceIdentity')),
    ip_address: text(pick(p, 'ipAddress')) ?? text(pick(record, 'callerIpAddress')),
    user_agent: text(pick(p, 'userAgent')),
    client_app_used: text(pick(p, 'clientAppUsed')),
    is_interactive: boolean(pick(p, 'isInteractive')),
    authentication_requirement: text(pick(p, 'authenticationRequirement')),
    authentication_protocol: text(pick(p, 'authenticationProtocol')),
    conditional_access_status: text(pick(p, 'conditionalAccessStatus')),
    risk_level_aggregated: text(pick(p, 'riskLevelAggregated')),
    risk_level_during_sign_in: text(pick(p, 'riskLevelDuringSignIn')),
    risk_state: text(pick(p, 'riskState')),
    risk_detail: text(pick(p, 'riskDetail')),
    risk_event_types: text(parsedJson(first(p, 'riskEventTypes_v2', 'riskEventTypes'))),
    error_code: text(errorCode),
    failure_reason: text(first(status, 'failureReason')) ?? text(pick(record, 'resultDescription', 'ResultDescription')),
    additional_details: text(first(status, 'additionalDetails')),
    token_issuer_type: text(pick(p, 'tokenIssuerType')),
    cross_tenant_access_type: text(pick(p, 'crossTenantAccessType')),
    home_tenant_id: text(pick(p, 'homeTenantId')),
    incoming_token_type: text(pick(p, 'incomingTokenType')),
    location_country: text(at(location, 'countryOrRegion')) ?? (typeof pick(record, 'location') === 'string' ? text(pick(record, 'location')) : null),
    location_city: text(at(location, 'city')),
    mfa_detail: text(parsedJson(pick(p, 'mfaDetail'))),
    authentication_details: text(parsedJson(pick(p, 'authenticationDetails'))),
    device_detail: text(parsedJson(pick(p, 'deviceDetail'))),
    applied_conditional_access_policies: text(parsedJson(pick(p, 'appliedConditionalAccessPolicies'))),
    status: text(status),
    source_shape: shape,
  };
  if (row.user_principal_name === null && row.service_principal_id === null && row.app_id === null && row.user_id === null) {
    return { reason: 'names no user, service principal or application (no userPrincipalName, userId, servicePrincipalId or appId)' };
  }
  return { row, shape };
}
