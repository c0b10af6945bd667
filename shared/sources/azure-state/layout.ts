/** How azure-state pages are recognised: Amber's key layout and Graph's @odata.context (no imports: the classifier reads it). */

/** The key's folder names and the kinds they hold. */
export const KINDS: Readonly<Record<string, string>> = {
  'oauth2-permission-grants': 'oauth2-permission-grant',
  applications: 'application',
  'service-principals': 'service-principal',
  'conditional-access-policies': 'conditional-access-policy',
  'authentication-methods-registration': 'authentication-methods-registration',
  users: 'user',
  'inbox-rules': 'inbox-rule',
  'mailbox-settings': 'mailbox-settings',
};

/** `@odata.context` endings (after `$metadata#`) and their kinds, most specific first. */
export const CONTEXTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/messagerules/i, 'inbox-rule'],
  [/mailboxsettings/i, 'mailbox-settings'],
  [/oauth2permissiongrants/i, 'oauth2-permission-grant'],
  [/conditionalaccess\/policies/i, 'conditional-access-policy'],
  [/userregistrationdetails/i, 'authentication-methods-registration'],
  [/serviceprincipals/i, 'service-principal'],
  [/applications/i, 'application'],
  [/#users(\(|$)/i, 'user'],
];

/** Amber's key of a state page: tenant, snapshot time, mailbox (for mailbox pages), folder. */
export const LAYOUT = /(?:^|\/)azure\/state\/([^/]+)\/(\d{8}T\d{6}(?:\.\d{3})?Z)\/(?:mailboxes\/([^/]+)\/)?([a-z0-9-]+)\/page-\d+\.json$/;

/** Whether an @odata.context names one of the state resources. */
export function isStateContext(context: string): boolean {
  return CONTEXTS.some(([re]) => re.test(context));
}

/** Whether a key is a page of Amber's azure-state layout. */
export function isStateKey(key: string): boolean {
  return LAYOUT.test(key) && KINDS[LAYOUT.exec(key)![4]!] !== undefined;
}

/** `20260301T120000Z` → `2026-03-01T12:00:00Z`. */
export function isoOfCompact(compact: string): string {
  return `${compact.slice(0, 4)}-${compact.slice(4, 6)}-${compact.slice(6, 8)}T${compact.slice(9, 11)}:${compact.slice(11, 13)}:${compact.slice(13, 15)}Z`;
}

