/**
 * azure-state: the Graph state pages `api:azure-state` preserves, recognised by Amber's key layout or their
 * @odata.context, one row per object at the snapshot's time; the forwarding targets of an inbox rule and the
 * credentials of an app are flattened so detections can read them.
 */
import { describe, expect, it } from 'vitest';
import { azureStateSource } from '../../../../shared/sources/azure-state/index.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';

const ROOT = 'cases/C/azure/state/00000000-0000-4000-8000-0000000000aa/20260314T120000Z';

describe('Source: azure-state', () => {
  it('reads inbox rules at the snapshot time with the mailbox, forwarding targets and deletion', () => {
    const key = `${ROOT}/mailboxes/alex@contoso.example/inbox-rules/page-00001.json`;
    const page = JSON.stringify({ value: [{ id: 'r1', displayName: 'x', isEnabled: true, actions: { forwardTo: [{ emailAddress: { address: 'A@Example.net' } }], redirectTo: [{ emailAddress: { address: 'b@example.net' } }], delete: true } }] });

    expect(detectSource(page, key).source?.id).toBe('azure-state');
    const parsed = azureStateSource.parse(page, key);

    expect(parsed.problems).toEqual([]);
    expect(parsed.rows[0]!.row).toMatchObject({ observed_at: '2026-03-14T12:00:00Z', tenant: '00000000-0000-4000-8000-0000000000aa', kind: 'inbox-rule', mailbox: 'alex@contoso.example', enabled: true, forwards_to: 'a@example.net, b@example.net', deletes: true });
  });

  it('reads applications with their credential count and latest expiry, and grants with their consent and scope', () => {
    const apps = JSON.stringify({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#applications', value: [{ id: 'a1', appId: 'app-1', displayName: 'Payroll', createdDateTime: '2025-01-01T00:00:00Z', keyCredentials: [{ endDateTime: '2027-01-01T00:00:00Z' }], passwordCredentials: [{ endDateTime: '2099-01-01T00:00:00Z' }] }] });
    const grants = JSON.stringify({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#oauth2PermissionGrants', value: [{ id: 'g1', clientId: 'sp-1', consentType: 'AllPrincipals', principalId: null, resourceId: 'sp-graph', scope: 'Mail.Read offline_access' }] });

    const app = azureStateSource.parse(apps, `${ROOT}/applications/page-00001.json`).rows[0]!.row;
    const grant = azureStateSource.parse(grants, `${ROOT}/oauth2-permission-grants/page-00001.json`).rows[0]!.row;

    expect(app).toMatchObject({ kind: 'application', app_id: 'app-1', name: 'Payroll', created_at: '2025-01-01T00:00:00Z', credentials: 2, latest_credential_end: '2099-01-01T00:00:00Z' });
    expect(grant).toMatchObject({ kind: 'oauth2-permission-grant', consent_type: 'AllPrincipals', client_id: 'sp-1', scope: 'Mail.Read offline_access', credentials: null });
  });

  it('reads a page kept outside the layout by its @odata.context when its objects carry a creation time, and names those that do not', () => {
    const page = JSON.stringify({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies', value: [{ id: 'p1', displayName: 'Require MFA', state: 'enabled', createdDateTime: '2025-06-01T00:00:00Z' }, { id: 'p2', displayName: 'No date', state: 'disabled' }] });

    expect(detectSource(page, 'exports/ca.json').source?.id).toBe('azure-state');
    const parsed = azureStateSource.parse(page, 'exports/ca.json');

    expect(parsed.rows.map((r) => r.row.observed_at)).toEqual(['2025-06-01T00:00:00Z']);
    expect(parsed.rows[0]!.row).toMatchObject({ kind: 'conditional-access-policy', state: 'enabled' });
    expect(parsed.problems).toEqual([{ index: 1, reason: expect.stringContaining('has no time') as unknown }]);
  });

  it('reads a mailbox settings object (no value array) as one row', () => {
    const key = `${ROOT}/mailboxes/u1/mailbox-settings/page-00001.json`;
    const parsed = azureStateSource.parse(JSON.stringify({ '@odata.context': "https://graph.microsoft.com/v1.0/$metadata#users('u1')/mailboxSettings", automaticRepliesSetting: { status: 'disabled' }, timeZone: 'UTC' }), key);

    expect(parsed.problems).toEqual([]);
    expect(parsed.rows[0]!.row).toMatchObject({ kind: 'mailbox-settings', mailbox: 'u1' });
    expect(JSON.parse(String(parsed.rows[0]!.row.attributes))).toEqual({ automaticRepliesSetting: { status: 'disabled' }, timeZone: 'UTC' });
  });
});
