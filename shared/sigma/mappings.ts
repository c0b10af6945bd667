/**
 * Sigma logsources and fields -> Amber's tables and columns, in one place. A rule is untrusted input: the only
 * SQL identifiers a compiled rule can contain are the ones written here; a path into a JSON text column is
 * checked against a strict pattern and then passed as an escaped string literal, never spliced as SQL.
 */
import { AZURE_ACTIVITY_COLUMNS } from '../sources/azure-activity/index.ts';
import { ENTRA_AUDIT_COLUMNS } from '../sources/entra-audit/index.ts';
import { ENTRA_SIGNIN_COLUMNS } from '../sources/entra-signin/index.ts';
import { GCP_AUDIT_COLUMNS } from '../sources/gcp-audit/index.ts';
import { M365_AUDIT_COLUMNS } from '../sources/m365-audit/index.ts';

/** A Sigma field resolved to SQL: an expression over the table, always read as varchar text. */
export interface MappedField {
  readonly sql: string;
}

/** Why a field has no column: the exact reason a rule using it is `unsupported`. */
export interface UnmappedField {
  readonly reason: string;
}

/** How one Sigma logsource reads as one of Amber's tables. */
export interface LogsourceMapping {
  /** `product/service` as Sigma names it. */
  readonly logsource: string;
  readonly table: string;
  /** Resolves a Sigma field name to a column expression, or says why it cannot. */
  field(name: string): MappedField | UnmappedField;
  /** Text a keyword (a value bound to no field) is searched in: every text column of the table, joined. */
  readonly keywordText: string;
  /** The finding columns other than detail, evidence_key and evidence_record. */
  readonly output: { readonly eventTime: string; readonly actor: string; readonly sourceIp: string; readonly action: string; readonly target: string };
}

export const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** A JSON key a path may name: letters, digits, underscores. Anything else is refused rather than quoted. */
const JSON_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A column name, quoted: some (`authorization`) are reserved words in DuckDB. Names come from this file only. */
const ident = (column: string): string => `"${column}"`;
const asText = (column: string, type: string): string => (type === 'VARCHAR' ? ident(column) : `CAST(${ident(column)} AS varchar)`);

/** json_extract_scalar over a JSON text column, or the reason the path cannot be used. */
function jsonPath(column: string, segments: readonly string[], field: string): MappedField | UnmappedField {
  const bad = segments.find((s) => !JSON_KEY.test(s));
  if (bad !== undefined) return { reason: `field ${JSON.stringify(field)}: path segment ${JSON.stringify(bad)} is not a plain JSON key (letters, digits, _)` };
  return { sql: `json_extract_scalar(${ident(column)}, ${sqlString(`$.${segments.join('.')}`)})` };
}

/** Keyword text: the table's text columns joined by newlines, so a keyword (one line) matches inside one column. */
function keywordText(columns: ReadonlyArray<{ name: string; type: string }>): string {
  return columns
    .filter((c) => c.type === 'VARCHAR' && c.name !== 'source_shape' && c.name !== 'original_time')
    .map((c) => `coalesce(${ident(c.name)}, '')`)
    .join(` || chr(10) || `);
}

const unmapped = (logsource: string, field: string, table: string): UnmappedField => ({
  reason: `field ${JSON.stringify(field)} has no column in ${table} (logsource ${logsource}); add it to shared/sigma/mappings.ts if the source records it`,
});

// CloudTrail ---------------------------------------------------------------------------------------------------

/** CloudTrail's plain string columns: the record key lower-cased (Athena's CloudTrail table names). */
const CLOUDTRAIL_STRINGS = [
  'eventversion', 'eventtime', 'eventsource', 'eventname', 'awsregion', 'sourceipaddress', 'useragent', 'errorcode',
  'errormessage', 'requestid', 'eventid', 'readonly', 'eventtype', 'apiversion', 'recipientaccountid', 'sharedeventid',
  'vpcendpointid', 'vpcendpointaccountid', 'eventcategory', 'sessioncredentialfromconsole',
];
/** Free-form fields Athena declares STRING (JSON text): a Sigma path below them reads with json_extract_scalar. */
const CLOUDTRAIL_JSON = ['requestparameters', 'responseelements', 'additionaleventdata', 'serviceeventdetails', 'edgedevicedetails'];
/** Struct paths of the table (lower-case), as shared/query/tables/cloudtrail.ts declares them. */
const CLOUDTRAIL_STRUCT_PATHS = [
  'useridentity.type', 'useridentity.principalid', 'useridentity.arn', 'useridentity.accountid', 'useridentity.invokedby',
  'useridentity.accesskeyid', 'useridentity.username', 'useridentity.onbehalfof.userid', 'useridentity.onbehalfof.identitystorearn',
  'useridentity.sessioncontext.attributes.mfaauthenticated', 'useridentity.sessioncontext.attributes.creationdate',
  'useridentity.sessioncontext.sessionissuer.type', 'useridentity.sessioncontext.sessionissuer.principalid',
  'useridentity.sessioncontext.sessionissuer.arn', 'useridentity.sessioncontext.sessionissuer.accountid',
  'useridentity.sessioncontext.sessionissuer.username', 'useridentity.sessioncontext.ec2roledelivery',
  'useridentity.sessioncontext.webidfederationdata.federatedprovider', 'useridentity.sessioncontext.sourceidentity',
  'addendum.reason', 'addendum.updatedfields', 'addendum.originalrequestid', 'addendum.originaleventid',
  'tlsdetails.tlsversion', 'tlsdetails.ciphersuite', 'tlsdetails.clientprovidedhostheader',
];

const CLOUDTRAIL: LogsourceMapping = {
  logsource: 'aws/cloudtrail',
  table: 'cloudtrail',
  field(name) {
    const [head = '', ...rest] = name.split('.');
    const lower = name.toLowerCase();
    if (rest.length === 0 && CLOUDTRAIL_STRINGS.includes(lower)) return { sql: ident(lower) };
    if (CLOUDTRAIL_STRUCT_PATHS.includes(lower)) return { sql: lower };
    if (CLOUDTRAIL_JSON.includes(head.toLowerCase())) return rest.length === 0 ? { sql: ident(head.toLowerCase()) } : jsonPath(head.toLowerCase(), rest, name);
    return unmapped('aws/cloudtrail', name, 'cloudtrail');
  },
  keywordText: [...[...CLOUDTRAIL_STRINGS, ...CLOUDTRAIL_JSON].map(ident), 'useridentity.arn', 'useridentity.principalid', 'useridentity.username'].map((c) => `coalesce(${c}, '')`).join(' || chr(10) || '),
  output: {
    eventTime: 'eventtime',
    actor: "coalesce(useridentity.arn, useridentity.principalid, useridentity.type)",
    sourceIp: 'sourceipaddress',
    action: "eventsource || ':' || eventname",
    target: 'recipientaccountid',
  },
};

// Tables of the other sources ----------------------------------------------------------------------------------

interface Column {
  readonly name: string;
  readonly type: string;
}

/**
 * A mapping over a flat table: Sigma names (matched case-insensitively, as the SigmaHQ Azure rules spell one field
 * several ways) to columns; JSON text columns a path may go into; and an optional fallback for names the table keeps
 * only inside a whole-record JSON column.
 */
function flatMapping(options: {
  logsource: string;
  table: string;
  columns: readonly Column[];
  names: Readonly<Record<string, string>>;
  json?: Readonly<Record<string, { column: string; keys?: Readonly<Record<string, string>> }>>;
  /** Prefixes naming a list of objects: a field of its elements is not one value, so it is refused with this reason. */
  lists?: Readonly<Record<string, string>>;
  fallback?: (name: string) => MappedField | UnmappedField | undefined;
  output: LogsourceMapping['output'];
}): LogsourceMapping {
  const typeOf = new Map(options.columns.map((c) => [c.name, c.type]));
  const names = new Map(Object.entries(options.names).map(([k, v]) => [k.toLowerCase(), v]));
  const json = new Map(Object.entries(options.json ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    logsource: options.logsource,
    table: options.table,
    field(name) {
      const lower = name.toLowerCase();
      const column = names.get(lower) ?? (typeOf.has(lower) ? lower : undefined);
      if (column !== undefined) return { sql: asText(column, typeOf.get(column) ?? 'VARCHAR') };
      const list = Object.entries(options.lists ?? {}).find(([prefix]) => lower === prefix.toLowerCase() || lower.startsWith(`${prefix.toLowerCase()}.`));
      if (list) return { reason: `field ${JSON.stringify(name)}: ${list[0]} is a list; a field of its elements cannot be compared as one value (${options.table}.${list[1]} holds it as JSON text)` };
      // The longest JSON prefix wins: `DeviceDetail.trustType` goes into device_detail.
      const segments = name.split('.');
      for (let n = segments.length - 1; n >= 1; n--) {
        const target = json.get(segments.slice(0, n).join('.').toLowerCase());
        if (!target) continue;
        const rest = segments.slice(n);
        // JSON keys are case-sensitive; the rules are not consistent, so the source's own spelling is used when known.
        const fixed = rest.map((s) => target.keys?.[s.toLowerCase()] ?? s);
        return jsonPath(target.column, fixed, name);
      }
      return options.fallback?.(name) ?? unmapped(options.logsource, name, options.table);
    },
    keywordText: keywordText(options.columns),
    output: options.output,
  };
}

const AZURE_ACTIVITY: LogsourceMapping = flatMapping({
  logsource: 'azure/activitylogs',
  table: 'azure_activity',
  columns: AZURE_ACTIVITY_COLUMNS,
  // Azure Monitor's export names (operationName, resultType...) and Log Analytics' AzureActivity names (*Value).
  names: {
    operationName: 'operation_name', OperationNameValue: 'operation_name', CategoryValue: 'category', ResourceProviderValue: 'resource_provider',
    resourceProviderName: 'resource_provider', ResourceId: 'resource_id', resultType: 'result_type', ActivityStatusValue: 'result_type',
    resultSignature: 'result_signature', callerIpAddress: 'caller_ip', CallerIpAddress: 'caller_ip', correlationId: 'correlation_id',
    resourceGroupName: 'resource_group', subscriptionId: 'subscription_id', tenantId: 'tenant_id', eventDataId: 'event_data_id',
    'identity.authorization.action': 'authorization_action', 'identity.authorization.scope': 'authorization_scope',
  },
  json: { properties: { column: 'properties' }, 'identity.claims': { column: 'claims' }, httpRequest: { column: 'http_request' } },
  output: { eventTime: 'time', actor: 'coalesce(nullif(caller, \'\'), principal_id)', sourceIp: 'caller_ip', action: 'operation_name', target: 'resource_id' },
});

const DEVICE_KEYS = { iscompliant: 'isCompliant', trusttype: 'trustType', deviceid: 'deviceId', ismanaged: 'isManaged', operatingsystem: 'operatingSystem', browser: 'browser', displayname: 'displayName' };

const ENTRA_SIGNIN: LogsourceMapping = flatMapping({
  logsource: 'azure/signinlogs',
  table: 'entra_signin',
  columns: ENTRA_SIGNIN_COLUMNS,
  // Log Analytics SigninLogs names and the diagnostic-settings `properties.*` names; ResultType is Entra's error code.
  names: {
    ResultType: 'error_code', 'Status.errorCode': 'error_code', 'properties.status.errorCode': 'error_code', ResultDescription: 'failure_reason',
    'Status.failureReason': 'failure_reason', Location: 'location_country', IPAddress: 'ip_address', callerIpAddress: 'ip_address',
    UserPrincipalName: 'user_principal_name', Username: 'user_principal_name', userAgent: 'user_agent', AppId: 'app_id',
    AppDisplayName: 'app_display_name', ResourceDisplayName: 'resource_display_name', ClientAppUsed: 'client_app_used', ClientApp: 'client_app_used',
    conditionalAccessStatus: 'conditional_access_status', AuthenticationRequirement: 'authentication_requirement', RiskState: 'risk_state',
    RiskLevelDuringSignIn: 'risk_level_during_sign_in', RiskLevelAggregated: 'risk_level_aggregated', RiskDetail: 'risk_detail',
    homeTenantId: 'home_tenant_id', TenantId: 'tenant_id', UserType: 'user_type', CrossTenantAccessType: 'cross_tenant_access_type',
    'properties.appId': 'app_id', 'properties.authenticationRequirement': 'authentication_requirement', 'properties.userPrincipalName': 'user_principal_name',
    'properties.ipAddress': 'ip_address', 'properties.resultType': 'error_code', 'properties.riskState': 'risk_state',
  },
  json: {
    DeviceDetail: { column: 'device_detail', keys: DEVICE_KEYS },
    'properties.deviceDetail': { column: 'device_detail', keys: DEVICE_KEYS },
    Status: { column: 'status' },
  },
  output: {
    eventTime: 'time',
    actor: "coalesce(nullif(user_principal_name, ''), nullif(service_principal_name, ''), nullif(app_display_name, ''), user_id)",
    sourceIp: 'ip_address',
    action: "operation_name || ' (' || coalesce(sign_in_type, 'unknown type') || ')'",
    target: "coalesce(nullif(app_display_name, ''), app_id, resource_display_name)",
  },
});

const ENTRA_AUDIT: LogsourceMapping = flatMapping({
  logsource: 'azure/auditlogs',
  table: 'entra_audit',
  columns: ENTRA_AUDIT_COLUMNS,
  // SigmaHQ's audit-log rules put the activity in properties.message / OperationName / ActivityDisplayName.
  names: {
    'properties.message': 'activity_display_name', OperationName: 'activity_display_name', ActivityDisplayName: 'activity_display_name',
    Status: 'result', 'properties.result': 'result', Result: 'result', ResultReason: 'result_reason', Category: 'category',
    LoggedByService: 'logged_by_service', OperationType: 'operation_type', InitiatedBy: 'initiated_by', 'properties.initiatedBy': 'initiated_by',
    TargetResources: 'target_resources', 'properties.targetResources': 'target_resources', AdditionalDetails: 'additional_details',
    CorrelationId: 'correlation_id', TenantId: 'tenant_id', ActivityType: 'activity_display_name', failure_status_reason: 'result_reason',
    // The table describes the first target in target_* columns: for the usual one-target change that is the target.
    'TargetResources.type': 'target_type', 'TargetResources.displayName': 'target_display_name', 'TargetResources.id': 'target_id',
    'TargetResources.userPrincipalName': 'target_user_principal_name', Target: 'target_display_name',
  },
  lists: { 'TargetResources.modifiedProperties': 'target_resources', AdditionalDetails: 'additional_details' },
  json: { InitiatedBy: { column: 'initiated_by' }, 'properties.initiatedBy': { column: 'initiated_by' } },
  output: {
    eventTime: 'time',
    actor: "coalesce(nullif(initiated_by_user_upn, ''), nullif(initiated_by_app_display_name, ''), nullif(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id)",
    sourceIp: 'ip_address',
    action: 'activity_display_name',
    target: "coalesce(nullif(target_display_name, ''), target_user_principal_name, target_id)",
  },
});

/** LogEntry / AuditLog paths (with or without `data.` and `protoPayload.`) -> gcp_audit columns. */
const GCP_PATHS: Readonly<Record<string, string>> = {
  methodname: 'method_name', servicename: 'service_name', resourcename: 'resource_name', logname: 'log_name', 'resource.type': 'resource_type',
  'authenticationinfo.principalemail': 'principal_email', 'authenticationinfo.principalsubject': 'principal_subject',
  'authenticationinfo.serviceaccountkeyname': 'service_account_key_name', 'requestmetadata.callerip': 'caller_ip',
  'requestmetadata.callersupplieduseragent': 'caller_supplied_user_agent', 'status.code': 'status_code', 'status.message': 'status_message',
  severity: 'severity', insertid: 'insert_id',
};

const GCP_AUDIT: LogsourceMapping = flatMapping({
    logsource: 'gcp/gcp.audit',
    table: 'gcp_audit',
    columns: GCP_AUDIT_COLUMNS,
    // Elastic's ECS names, which the SigmaHQ GCP rules mostly use.
    names: { 'gcp.audit.method_name': 'method_name', 'gcp.audit.service_name': 'service_name', 'gcp.audit.resource_name': 'resource_name' },
    json: {},
    fallback(name) {
      const path = name.replace(/^data\./i, '').replace(/^protoPayload\./i, '');
      const column = GCP_PATHS[path.toLowerCase()];
      if (column) return { sql: asText(column, column === 'status_code' ? 'BIGINT' : 'VARCHAR') };
      const [head = '', ...rest] = path.split('.');
      const json = ({ request: 'request', response: 'response', servicedata: 'service_data', metadata: 'metadata' } as Record<string, string>)[head.toLowerCase()];
      if (json && rest.length > 0) return jsonPath(json, rest, name);
      if (head.toLowerCase() === 'authorizationinfo') {
        return { reason: `field ${JSON.stringify(name)}: authorizationInfo is a list; a field of its elements cannot be compared as one value (gcp_audit.authorization_info holds it as JSON text)` };
      }
      return undefined;
    },
    output: { eventTime: 'time', actor: "coalesce(nullif(principal_email, ''), principal_subject)", sourceIp: 'caller_ip', action: 'method_name', target: 'resource_name' },
});

/** Unified audit log fields kept as their own columns; every other PascalCase field is read from audit_data. */
const M365_NAMES: Readonly<Record<string, string>> = {
  CreationTime: 'time', Id: 'id', RecordType: 'record_type', Operation: 'operation', OrganizationId: 'organization_id', UserId: 'user_id',
  UserKey: 'user_key', UserType: 'user_type', Workload: 'workload', ClientIP: 'client_ip', ClientIPAddress: 'client_ip', ObjectId: 'object_id',
  ResultStatus: 'result_status', LogonError: 'logon_error', LogonType: 'logon_type', MailboxOwnerUPN: 'mailbox_owner_upn',
  ExternalAccess: 'external_access', ApplicationId: 'app_id', AppId: 'app_id', ClientAppId: 'client_app_id', UserAgent: 'user_agent',
  SiteUrl: 'site_url', SourceFileName: 'source_file_name', Parameters: 'parameters', OperationProperties: 'operation_properties',
  ExtendedProperties: 'extended_properties', ModifiedProperties: 'modified_properties',
};

function m365Mapping(logsource: string): LogsourceMapping {
  return flatMapping({
    logsource,
    table: 'm365_audit',
    columns: M365_AUDIT_COLUMNS,
    names: M365_NAMES,
    // The unified audit log's own fields are PascalCase; audit_data holds the whole record, so any of them is in
    // reach. Lower-case names (eventSource, eventName, status) are Defender for Cloud Apps alert fields, which the
    // unified audit log does not record: those stay unmapped rather than compile to a test that never matches.
    fallback: (name) =>
      /^[A-Z][A-Za-z0-9]*$/.test(name)
        ? jsonPath('audit_data', [name], name)
        : ['eventsource', 'eventname', 'status'].includes(name.toLowerCase())
          ? { reason: `field ${JSON.stringify(name)} is a Microsoft Defender for Cloud Apps alert field; the unified audit log (m365_audit) does not record it` }
          : undefined,
    output: {
      eventTime: 'time',
      actor: "coalesce(nullif(user_id, ''), user_key)",
      sourceIp: 'client_ip',
      action: 'operation',
      target: "coalesce(nullif(object_id, ''), mailbox_owner_upn, site_url)",
    },
  });
}

const MAPPINGS: readonly LogsourceMapping[] = [CLOUDTRAIL, AZURE_ACTIVITY, ENTRA_SIGNIN, ENTRA_AUDIT, GCP_AUDIT];

/** The mapping for a rule's logsource, or the reason there is none. */
export function mappingFor(logsource: { product?: unknown; service?: unknown; category?: unknown }): LogsourceMapping | UnmappedField {
  const product = typeof logsource.product === 'string' ? logsource.product.toLowerCase() : '';
  const service = typeof logsource.service === 'string' ? logsource.service.toLowerCase() : '';
  const name = `${product}/${service || (typeof logsource.category === 'string' ? logsource.category : '')}`;
  if (product === 'm365' && service) return m365Mapping(name);
  const found = MAPPINGS.find((m) => m.logsource === name);
  if (found) return found;
  return {
    reason: `logsource ${name} has no Amber table (supported: ${[...MAPPINGS.map((m) => m.logsource), 'm365/*'].join(', ')})`,
  };
}

/** Logsources with a table, for listings and tests. */
export const MAPPED_LOGSOURCES: readonly string[] = [...MAPPINGS.map((m) => m.logsource), 'm365/*'];
