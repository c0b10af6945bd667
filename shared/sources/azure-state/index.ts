/**
 * Current Entra ID and mailbox state (`azure-state`): what `amber collect --from api:azure-state` preserves from
 * Microsoft Graph, one row per object in `azure_state`. Rows are state, not events: the table's time is
 * `observed_at`, when the snapshot was taken, read from the key Amber stores the page under
 * (`.../azure/state/<tenant>/<yyyymmddThhmmssZ>/<what>/page-NNNNN.json`, mailboxes under
 * `.../mailboxes/<user>/<what>/...`); a page kept elsewhere is read when its objects carry a creation time.
 *
 * | kind                                  | Graph                                                   |
 * |---------------------------------------|---------------------------------------------------------|
 * | `oauth2-permission-grant`             | `oauth2PermissionGrants` (delegated consents)           |
 * | `application`, `service-principal`    | `applications`, `servicePrincipals` (credential metadata) |
 * | `conditional-access-policy`           | `identity/conditionalAccess/policies`                   |
 * | `authentication-methods-registration` | `reports/authenticationMethods/userRegistrationDetails` |
 * | `user`                                | `users`                                                 |
 * | `inbox-rule`, `mailbox-settings`      | `users/{id}/mailFolders/inbox/messageRules`, `users/{id}/mailboxSettings` |
 *
 * The kind comes from the key's folder, else from the page's `@odata.context`. Inbox rules' forwarding targets
 * (forwardTo, forwardAsAttachmentTo, redirectTo) are flattened into `forwards_to`; `attributes` keeps the object.
 */
import type { LogSource, SourceParseResult } from '../log-source.ts';
import { boolean, first, isObject, pick, text, type JsonObject } from '../cloud-records/fields.ts';
import { columns, eventTime, parseJsonSource, sourceAthenaDdl, type RowResult, type SourceAthenaDdlOptions } from '../cloud-records/source-kit.ts';
import { classifyHead } from '../cloud-records/recognise.ts';
import { canonicalJson } from '../../evidence/canonical-json.ts';
import { CONTEXTS, isoOfCompact, KINDS, LAYOUT } from './layout.ts';

export { isStateContext, isStateKey } from './layout.ts';

/** Columns of `azure_state`. */
export const AZURE_STATE_COLUMNS = columns([
  'observed_at', 'tenant', 'kind', 'mailbox', 'id', 'name', 'user_principal_name', 'app_id', 'created_at', 'state',
  ['enabled', 'BOOLEAN'], 'consent_type', 'client_id', 'resource_id', 'principal_id', 'scope', 'forwards_to',
  ['deletes', 'BOOLEAN'], ['credentials', 'INTEGER'], 'latest_credential_end', ['mfa_registered', 'BOOLEAN'], ['is_admin', 'BOOLEAN'],
  'attributes', 'source_shape',
]);

/** A key segment as written (Amber keeps ids as they are; a stray `%` is not an escape). */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function addresses(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((r) => {
    const address = isObject(r) ? text(pick(pick(r, 'emailAddress'), 'address')) : null;
    return address ? [address.toLowerCase()] : [];
  });
}

/** Reads one state object. */
export function readAzureState(record: JsonObject, context: { readonly wrapper?: JsonObject; readonly key: string }): RowResult {
  const layout = LAYOUT.exec(context.key);
  const odata = String(pick(context.wrapper, '@odata.context') ?? pick(record, '@odata.context') ?? '');
  const kind = (layout ? KINDS[layout[4]!] : undefined) ?? CONTEXTS.find(([re]) => re.test(odata))?.[1];
  if (kind === undefined) return { reason: 'is not an object of a state page Amber reads (its key and @odata.context name none of the azure-state resources)' };
  const created = text(first(record, 'createdDateTime', 'createdAt'));
  const observed = layout ? isoOfCompact(layout[2]!) : created;
  const when = eventTime(observed);
  if ('reason' in when) return { reason: `has no time: it is not under Amber's azure/state/<tenant>/<time>/ layout and carries no createdDateTime (${when.reason})` };
  const actions = pick(record, 'actions');
  const forwards = [...addresses(pick(actions, 'forwardTo')), ...addresses(pick(actions, 'forwardAsAttachmentTo')), ...addresses(pick(actions, 'redirectTo'))];
  const creds = [...(Array.isArray(pick(record, 'keyCredentials')) ? (pick(record, 'keyCredentials') as unknown[]) : []), ...(Array.isArray(pick(record, 'passwordCredentials')) ? (pick(record, 'passwordCredentials') as unknown[]) : [])];
  const ends = creds.flatMap((c) => (isObject(c) && typeof pick(c, 'endDateTime') === 'string' ? [pick(c, 'endDateTime') as string] : [])).sort();
  const { ['@odata.context']: _context, ...attributes } = record;
  const row = {
    observed_at: when.time,
    tenant: layout ? decoded(layout[1]!) : null,
    kind,
    mailbox: layout?.[3] ? decoded(layout[3]) : (/users\('([^']+)'\)/i.exec(odata)?.[1] ? decoded(/users\('([^']+)'\)/i.exec(odata)![1]!) : null),
    id: text(pick(record, 'id')),
    name: text(first(record, 'displayName', 'userDisplayName')),
    user_principal_name: text(pick(record, 'userPrincipalName')),
    app_id: text(pick(record, 'appId')),
    created_at: created,
    state: text(pick(record, 'state')),
    enabled: boolean(first(record, 'isEnabled', 'accountEnabled')),
    consent_type: text(pick(record, 'consentType')),
    client_id: text(pick(record, 'clientId')),
    resource_id: text(pick(record, 'resourceId')),
    principal_id: text(pick(record, 'principalId')),
    scope: text(pick(record, 'scope')),
    forwards_to: forwards.length > 0 ? forwards.join(', ') : null,
    deletes: isObject(actions) ? pick(actions, 'delete') === true || pick(actions, 'permanentDelete') === true : null,
    credentials: kind === 'application' || kind === 'service-principal' ? creds.length : null,
    latest_credential_end: ends.at(-1) ?? null,
    mfa_registered: boolean(pick(record, 'isMfaRegistered')),
    is_admin: boolean(pick(record, 'isAdmin')),
    attributes: canonicalJson(attributes),
    source_shape: 'graph',
  };
  return { row, shape: `graph-${kind}` };
}

/** State on the timeline: at its creation time when the object gives one, else at the snapshot's time. */
export const AZURE_STATE_TIMELINE_SQL = `
SELECT
  CAST(coalesce(created_at, observed_at) AS VARCHAR) AS time,
  CAST('azure' AS VARCHAR) AS cloud,
  CAST('azure-state' AS VARCHAR) AS source,
  CAST(tenant AS VARCHAR) AS account,
  CAST(NULL AS VARCHAR) AS region,
  CAST(mailbox AS VARCHAR) AS actor,
  CAST(CASE WHEN created_at IS NULL THEN 'Observed ' ELSE 'Created ' END || kind AS VARCHAR) AS action,
  CAST('Microsoft Entra ID / Exchange Online' AS VARCHAR) AS service,
  CAST(coalesce(nullif(name, ''), user_principal_name, app_id, id) AS VARCHAR) AS target,
  CAST(NULL AS VARCHAR) AS source_ip,
  CAST(NULL AS VARCHAR) AS user_agent,
  CAST('success' AS VARCHAR) AS outcome,
  CAST(NULL AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM azure_state`;

/** Entra ID and mailbox state from Graph (api:azure-state). */
export const azureStateSource: LogSource = {
  id: 'azure-state',
  title: 'Microsoft Entra ID and mailbox state (grants, apps, conditional access, MFA registration, inbox rules)',
  cloud: 'azure',
  table: 'azure_state',
  timeColumn: 'observed_at',
  columns: AZURE_STATE_COLUMNS,
  sniff: (head, key) => classifyHead(head, key) === 'azure-state',
  parse: (text, key): SourceParseResult => parseJsonSource(text, key, { id: 'azure-state', containers: ['value'], read: readAzureState }),
  timelineSql: AZURE_STATE_TIMELINE_SQL,
};

/** Athena DDL of `azure_state` over Amber's derived rows (see sourceAthenaDdl). */
export function azureStateAthenaDdl(options: SourceAthenaDdlOptions): string {
  return sourceAthenaDdl(azureStateSource, options);
}
