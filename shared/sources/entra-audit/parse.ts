/**
 * Microsoft Entra ID audit records (directory changes) into rows of `entra_audit`. Shapes, recognised per record:
 *
 * | shape                 | where it comes from                                                   | fields under |
 * |-----------------------|-----------------------------------------------------------------------|--------------|
 * | `diagnostic-settings` | storage account / Event Hubs export, category AuditLogs               | `properties` |
 * | `graph`               | Microsoft Graph `GET /auditLogs/directoryAudits` (`{"value":[...]}`)   | the record   |
 * | `log-analytics`       | Log Analytics `AuditLogs` exports (Sentinel); InitiatedBy, TargetResources and AdditionalDetails are JSON text | the record |
 *
 * role_name is derived for role changes: the display name of the target of type Role, else the new value of the
 * `Role.DisplayName` modified property (how "Add member to role" names the role). target_member is the first target
 * that can be a member (a user, service principal, group or device): its UPN, else display name, else id.
 */
import { first, isObject, parsedJson, pick, text, type JsonObject } from '../cloud-records/fields.ts';
import { eventTime, type RowResult } from '../cloud-records/source-kit.ts';

/** Target types that can be made a member of a role or group. */
const MEMBER_TYPES = new Set(['user', 'serviceprincipal', 'group', 'device']);

/** A modified property's value is JSON text (`"\"Global Administrator\""`); its string when it is one. */
function unquoted(value: unknown): string | null {
  if (typeof value !== 'string') return text(value);
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed === 'string') return parsed;
  } catch {
    // not JSON: the value as logged
  }
  return value;
}

function roleName(targets: unknown): string | null {
  if (!Array.isArray(targets)) return null;
  const role = targets.find((t) => isObject(t) && String(pick(t, 'type') ?? '').toLowerCase() === 'role' && text(pick(t, 'displayName')));
  if (role) return text(pick(role, 'displayName'));
  for (const t of targets) {
    const props = pick(t, 'modifiedProperties');
    if (!Array.isArray(props)) continue;
    const p = props.find((m) => isObject(m) && pick(m, 'displayName') === 'Role.DisplayName');
    if (p) return unquoted(pick(p, 'newValue'));
  }
  return null;
}

function userAgent(details: unknown): string | null {
  if (!Array.isArray(details)) return null;
  const ua = details.find((d) => isObject(d) && String(pick(d, 'key') ?? '').toLowerCase() === 'user-agent');
  return ua ? text(pick(ua, 'value')) : null;
}

/** Reads one directory audit record. */
export function readEntraAudit(record: JsonObject): RowResult {
  const diagnostic = isObject(pick(record, 'properties'));
  const shape = diagnostic ? 'diagnostic-settings' : pick(record, 'TimeGenerated') !== undefined ? 'log-analytics' : 'graph';
  const p: JsonObject = diagnostic ? (pick(record, 'properties') as JsonObject) : record;
  const when = eventTime(first(p, 'activityDateTime') ?? first(record, 'time', 'TimeGenerated'));
  if ('reason' in when) return when;
  const activity = text(pick(p, 'activityDisplayName')) ?? text(pick(record, 'operationName', 'OperationName'));
  if (activity === null) return { reason: 'has no activityDisplayName or operationName' };
  const initiatedBy = parsedJson(pick(p, 'initiatedBy'));
  const targets = parsedJson(pick(p, 'targetResources'));
  const details = parsedJson(pick(p, 'additionalDetails'));
  const firstTarget = Array.isArray(targets) ? targets.find(isObject) : undefined;
  const userTarget = Array.isArray(targets) ? targets.find((t) => isObject(t) && text(pick(t, 'userPrincipalName'))) : undefined;
  const member = Array.isArray(targets) ? targets.find((t) => isObject(t) && MEMBER_TYPES.has(String(pick(t, 'type') ?? '').toLowerCase())) : undefined;
  const row: Record<string, unknown> = {
    time: when.time,
    original_time: when.original,
    id: text(pick(p, 'id', 'Id')),
    category: text(diagnostic ? pick(p, 'category') : pick(record, 'category', 'Category')),
    activity_display_name: activity,
    operation_type: text(pick(p, 'operationType', 'AADOperationType')),
    result: text(pick(p, 'result', 'Result')),
    result_reason: text(pick(p, 'resultReason')),
    logged_by_service: text(pick(p, 'loggedByService')),
    correlation_id: text(pick(p, 'correlationId')) ?? text(pick(record, 'correlationId')),
    tenant_id: text(first(record, 'tenantId', 'AADTenantId', 'TenantId')),
    initiated_by_user_upn: text(first(initiatedBy, 'user.userPrincipalName')),
    initiated_by_user_id: text(first(initiatedBy, 'user.id')),
    initiated_by_user_display_name: text(first(initiatedBy, 'user.displayName')),
    initiated_by_app_id: text(first(initiatedBy, 'app.appId')),
    initiated_by_app_display_name: text(first(initiatedBy, 'app.displayName')),
    initiated_by_service_principal_id: text(first(initiatedBy, 'app.servicePrincipalId')),
    initiated_by_service_principal_name: text(first(initiatedBy, 'app.servicePrincipalName')),
    ip_address: text(first(initiatedBy, 'user.ipAddress', 'app.ipAddress')) ?? text(pick(record, 'callerIpAddress')),
    user_agent: userAgent(details) ?? text(pick(record, 'UserAgent')),
    target_display_name: text(pick(firstTarget, 'displayName')) ?? text(pick(firstTarget, 'userPrincipalName')),
    target_id: text(pick(firstTarget, 'id')),
    target_type: text(pick(firstTarget, 'type')),
    target_user_principal_name: text(pick(userTarget, 'userPrincipalName')),
    role_name: roleName(targets),
    target_member: text(pick(member, 'userPrincipalName')) ?? text(pick(member, 'displayName')) ?? text(pick(member, 'id')),
    initiated_by: text(initiatedBy),
    target_resources: text(targets),
    additional_details: text(details),
    source_shape: shape,
  };
  return { row, shape };
}
