/**
 * Microsoft Graph sources, every page `{"@odata.context","value":[...],"@odata.nextLink"}` preserved as received,
 * following `@odata.nextLink`:
 *
 * | spec                  | endpoint                                                                                   |
 * |-----------------------|--------------------------------------------------------------------------------------------|
 * | `api:entra-signins`   | interactive user sign-ins: v1.0 `auditLogs/signIns` (v1.0 lists interactive sign-ins only); non-interactive user, service principal and managed identity sign-ins: beta `auditLogs/signIns` with `signInEventTypes/any(t: t eq '<type>')` (the type filter exists only in beta) |
 * | `api:entra-audits`    | v1.0 `auditLogs/directoryAudits` filtered on `activityDateTime`                            |
 * | `api:entra-risk`      | v1.0 `identityProtection/riskDetections` (on `detectedDateTime`) and `identityProtection/riskyUsers` (on `riskLastUpdatedDateTime`) |
 * | `api:azure-state`     | current state, a snapshot: v1.0 `oauth2PermissionGrants`, `applications`, `servicePrincipals` (with keyCredentials and passwordCredentials metadata), `identity/conditionalAccess/policies`, `reports/authenticationMethods/userRegistrationDetails`, `users`, and per user `mailFolders/inbox/messageRules` and `mailboxSettings` |
 *
 * Windowed sources filter on the window; a re-run of the same window resumes after the last preserved page.
 * `api:azure-state` has no window: each run is a new snapshot under its own time.
 */
import { AcquisitionError } from '../../../shared/errors.ts';
import type { SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { AzureApiSource, compactTime, filterTime, problemOf, segment, type SourcePart } from './azure-api-source.ts';
import type { AzureHttp } from './azure-http.ts';
import { readStream, type PageStream, type PreservedPages } from './azure-pages.ts';

export const SIGNINS_SPEC = 'api:entra-signins';
export const AUDITS_SPEC = 'api:entra-audits';
export const RISK_SPEC = 'api:entra-risk';
export const STATE_SPEC = 'api:azure-state';

/** The sign-in logs beside the interactive one, each read from Graph beta with its `signInEventTypes` filter. */
export const BETA_SIGN_IN_TYPES = ['nonInteractiveUser', 'servicePrincipal', 'managedIdentity'] as const;

/** Exchange transport (mail flow) rules: refused, not faked. */
export const TRANSPORT_RULES_NOTE =
  'Exchange transport (mail flow) rules are not collected: Microsoft Graph has no API for them; export them with Exchange Online PowerShell (Get-TransportRule | ConvertTo-Json -Depth 10 > transport-rules.json) and collect that file with --from';

export interface GraphWindowOptions {
  /** Graph base URL, e.g. https://graph.microsoft.com. */
  readonly graphUrl: string;
  /** Tenant named in the keys, so two tenants' pages never collide in one case. */
  readonly tenant: string;
  readonly since: Date;
  readonly until: Date;
  readonly http: AzureHttp;
  readonly preserved?: PreservedPages;
}

function graphStream(spec: string, graphUrl: string, folder: string, label: string, path: string, filter?: string): PageStream {
  const base = graphUrl.replace(/\/+$/, '');
  const url = `${base}/${path}${filter === undefined ? '' : `${path.includes('?') ? '&' : '?'}$filter=${encodeURIComponent(filter)}`}`;
  return { spec, folder, label, first: { api: 'graph', method: 'GET', url }, continuation: { kind: 'body', key: '@odata.nextLink' } };
}

function windowed(o: GraphWindowOptions): { range: (field: string) => string; folder: (what: string) => string } {
  return {
    range: (field) => `${field} ge ${filterTime(o.since)} and ${field} le ${filterTime(o.until)}`,
    folder: (what) => `azure/entra/${segment(o.tenant)}/${what}/${compactTime(o.since)}_${compactTime(o.until)}`,
  };
}

/** The Graph streams of a windowed source (exported for tests and for the Azure Functions). */
export function graphWindowStreams(spec: string, o: GraphWindowOptions): PageStream[] {
  const w = windowed(o);
  switch (spec) {
    case SIGNINS_SPEC:
      return [
        graphStream(spec, o.graphUrl, w.folder('signins/interactiveUser'), 'interactive user sign-ins (v1.0)', 'v1.0/auditLogs/signIns', w.range('createdDateTime')),
        ...BETA_SIGN_IN_TYPES.map((type) =>
          graphStream(spec, o.graphUrl, w.folder(`signins/${type}`), `${type} sign-ins (beta)`, 'beta/auditLogs/signIns', `${w.range('createdDateTime')} and signInEventTypes/any(t: t eq '${type}')`)),
      ];
    case AUDITS_SPEC:
      return [graphStream(spec, o.graphUrl, w.folder('directory-audits'), 'directory audits', 'v1.0/auditLogs/directoryAudits', w.range('activityDateTime'))];
    case RISK_SPEC:
      return [
        graphStream(spec, o.graphUrl, w.folder('risk-detections'), 'risk detections', 'v1.0/identityProtection/riskDetections', w.range('detectedDateTime')),
        graphStream(spec, o.graphUrl, w.folder('risky-users'), 'risky users', 'v1.0/identityProtection/riskyUsers', w.range('riskLastUpdatedDateTime')),
      ];
    default:
      throw new Error(`not a windowed Graph source: ${spec}`);
  }
}

/** A windowed Graph source: one part per stream. */
export function graphWindowSource(spec: string, o: GraphWindowOptions): AzureApiSource {
  const parts: SourcePart[] = graphWindowStreams(spec, o).map((stream) => ({ origin: `${spec}?stream=${encodeURIComponent(stream.label)}`, run: () => readStream(stream, o.http, o.preserved) }));
  return new AzureApiSource(spec, parts);
}

export interface GraphStateOptions {
  readonly graphUrl: string;
  readonly tenant: string;
  /** When the snapshot is taken: names its folder. */
  readonly at: Date;
  /** Users whose mailbox rules and settings are read (ids or user principal names); empty: every user listed. */
  readonly users: readonly string[];
  readonly http: AzureHttp;
}

/** `api:azure-state`: the directory and mailbox state a log window may predate; see the table at the top. */
export function graphStateSource(o: GraphStateOptions): AzureApiSource {
  const root = `azure/state/${segment(o.tenant)}/${compactTime(o.at)}`;
  const stream = (what: string, label: string, path: string): PageStream => graphStream(STATE_SPEC, o.graphUrl, `${root}/${what}`, label, path);
  const directory = [
    stream('oauth2-permission-grants', 'OAuth2 permission grants', 'v1.0/oauth2PermissionGrants'),
    stream('applications', 'app registrations (with key and password credential metadata)', 'v1.0/applications'),
    stream('service-principals', 'service principals (with key and password credential metadata)', 'v1.0/servicePrincipals'),
    stream('conditional-access-policies', 'conditional access policies', 'v1.0/identity/conditionalAccess/policies'),
    stream('authentication-methods-registration', 'authentication methods registration (MFA)', 'v1.0/reports/authenticationMethods/userRegistrationDetails'),
  ];
  const parts: SourcePart[] = directory.map((s) => ({ origin: `${STATE_SPEC}?stream=${encodeURIComponent(s.label)}`, run: () => readStream(s, o.http, undefined) }));
  const source = new AzureApiSource(STATE_SPEC, parts);
  const note = (text: string): void => {
    source.notes.push(text);
  };
  parts.push({ origin: `${STATE_SPEC}?stream=mailboxes`, run: (onProblem) => mailboxes(o, root, stream, onProblem, note) });
  note(TRANSPORT_RULES_NOTE);
  return source;
}

/** The users' inbox rules and mailbox settings: the users named, else every user the `users` pages list. */
async function* mailboxes(
  o: GraphStateOptions,
  root: string,
  stream: (what: string, label: string, path: string) => PageStream,
  onProblem: (problem: SourceProblem) => void,
  note: (text: string) => void,
): AsyncGenerator<SourceObject, void> {
  let users = [...o.users];
  if (users.length === 0) {
    const listing = readStream(stream('users', 'users', 'v1.0/users?$select=id,userPrincipalName,mail'), o.http, undefined);
    const bodies: Buffer[] = [];
    for (;;) {
      const step = await listing.next();
      if (step.done) break;
      bodies.push(await bytesOf(step.value));
      yield step.value;
    }
    users = bodies.flatMap((b, i) => idsOf(b, i + 1));
  }
  for (const user of users) {
    const who = encodeURIComponent(user);
    for (const [what, label, path] of [
      ['inbox-rules', `inbox rules of ${user}`, `v1.0/users/${who}/mailFolders/inbox/messageRules`],
      ['mailbox-settings', `mailbox settings (forwarding, automatic replies) of ${user}`, `v1.0/users/${who}/mailboxSettings`],
    ] as const) {
      try {
        yield* readStream(stream(`mailboxes/${segment(user)}/${what}`, label, path), o.http, undefined);
      } catch (error) {
        // A user without an Exchange Online mailbox answers 404: that is a fact about the user, not a failed collection.
        if (error instanceof AcquisitionError && /HTTP 404/.test(error.message) && o.users.length === 0) {
          note(`${user}: no ${what === 'inbox-rules' ? 'inbox rules' : 'mailbox settings'} to read (HTTP 404: no Exchange Online mailbox)`);
          break;
        }
        // One mailbox refusing must not cost the others.
        onProblem(problemOf(error, `${STATE_SPEC}?user=${encodeURIComponent(user)}&stream=${what}`));
      }
    }
  }
}

async function bytesOf(object: SourceObject): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await object.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function idsOf(bytes: Buffer, page: number): string[] {
  let doc: { value?: unknown };
  try {
    doc = JSON.parse(bytes.toString('utf8')) as { value?: unknown };
  } catch (cause) {
    throw new AcquisitionError(`users page ${page} is not JSON, so the mailboxes of the users on it cannot be named`, `${STATE_SPEC}?stream=users&page=${page}`, {
      hint: 'name the mailboxes with --user', cause,
    });
  }
  return Array.isArray(doc.value) ? doc.value.flatMap((u) => (u && typeof (u as { id?: unknown }).id === 'string' ? [(u as { id: string }).id] : [])) : [];
}
