/** The Azure inventory parser: Resource Graph, ARM and Graph answers read by their key into inventory rows. */
import { describe, expect, it } from 'vitest';
import { azureRequestFromKey, parseInventory } from '../../../../shared/sources/inventory/index.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';

const SUB = 'aaaaaaaa-1111-4222-8333-444444444444';
const TENANT = '11111111-2222-4333-8444-555555555555';
const key = (scope: string, api: string, query: string, page = 1): string => `cases/C/azure/inventory/${scope}/20260314T090000Z/${api}/${query}/page-${String(page).padStart(5, '0')}.json`;
const NSG_ID = `/subscriptions/${SUB}/resourceGroups/RG-Prod/providers/Microsoft.Network/networkSecurityGroups/nsg-web`;
const attributes = (r: { row: Record<string, unknown> }): Record<string, unknown> => JSON.parse(String(r.row.attributes)) as Record<string, unknown>;

describe('Function: parseInventory (Azure answers)', () => {
  it('reads a Resource Graph answer: one row per NSG, one per source and port range of each rule, ids lower-cased', () => {
    // Prepare
    const body = JSON.stringify({
      totalRecords: 1, count: 1, facets: [], resultTruncated: 'false',
      data: [{
        id: NSG_ID, name: 'nsg-web', type: 'microsoft.network/networksecuritygroups', location: 'westeurope', subscriptionId: SUB, tags: { env: 'prod' },
        properties: {
          securityRules: [{ name: 'allow-admin', properties: { priority: 100, access: 'Allow', direction: 'Inbound', protocol: 'Tcp', sourceAddressPrefixes: ['Internet', '10.0.0.0/8'], destinationPortRanges: ['22', '3389-3390'] } }],
          defaultSecurityRules: [{ name: 'DenyAllInBound', properties: { priority: 65500, access: 'Deny', direction: 'Inbound', protocol: '*', sourceAddressPrefix: '*', destinationPortRange: '*' } }],
        },
      }],
    });

    // Act
    const { rows, problems } = parseInventory(body, key(SUB, 'resource-graph', 'network-security-groups'));

    // Assess
    expect(problems).toEqual([]);
    expect(rows.map((r) => r.row.type)).toEqual(['api:page', 'azure:nsg', ...Array(4).fill('azure:nsg-rule'), 'azure:nsg-rule']);
    expect(rows[1]!.row).toMatchObject({ cloud: 'azure', account: SUB, region: 'westeurope', service: 'resource-graph', operation: 'network-security-groups', id: NSG_ID.toLowerCase(), name: 'nsg-web', tags: '{"env":"prod"}', observed_at: '2026-03-14T09:00:00Z' });
    expect(rows.slice(2, 6).map((r) => { const a = attributes(r); return `${a.source} ${a.fromPort}-${a.toPort}`; })).toEqual(['Internet 22-22', 'Internet 3389-3390', '10.0.0.0/8 22-22', '10.0.0.0/8 3389-3390']);
    expect(attributes(rows[6]!)).toMatchObject({ kind: 'default', access: 'Deny', priority: 65500, fromPort: 0, toPort: 65535, source: '*' });
    expect(attributes(rows[0]!)).toEqual({ api: 'resource-graph', query: 'network-security-groups', rows: 6, records: 1, error: null, truncated: false });
  });

  it('reads a refusal as a page row with its error code, and Graph credentials with their lifetime and expiry', () => {
    // Prepare
    const refused = JSON.stringify({ error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } });
    const apps = JSON.stringify({
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#applications',
      value: [{ id: 'A1', appId: 'B1', displayName: 'payroll', passwordCredentials: [{ keyId: 'K1', startDateTime: '2025-01-01T00:00:00Z', endDateTime: '2027-01-01T00:00:00Z' }], keyCredentials: [{ keyId: 'K2', startDateTime: '2024-01-01T00:00:00Z', endDateTime: '2025-01-01T00:00:00Z', type: 'AsymmetricX509Cert' }] }],
    });

    // Act
    const denied = parseInventory(refused, key(TENANT, 'graph', 'users'));
    const parsed = parseInventory(apps, key(TENANT, 'graph', 'applications'));

    // Assess
    expect(denied.rows).toHaveLength(1);
    expect(denied.rows[0]!.row).toMatchObject({ type: 'api:page', account: TENANT, region: 'global' });
    expect(attributes(denied.rows[0]!)).toMatchObject({ rows: 0, error: 'Authorization_RequestDenied' });
    const creds = parsed.rows.filter((r) => r.row.type === 'entra:credential').map(attributes);
    expect(creds).toEqual([
      expect.objectContaining({ owner: 'application', credential: 'password', keyId: 'k1', lifetimeDays: 730, expired: false, daysToExpiry: 292 }),
      expect.objectContaining({ owner: 'application', credential: 'certificate', keyId: 'k2', lifetimeDays: 366, expired: true }),
    ]);
  });

  it('names a damaged answer and a query it does not read, and reads Azure capture lines around a bad one', () => {
    // Prepare
    const good = JSON.stringify({ amberInventoryCapture: 1, cloud: 'azure', account: SUB, service: 'arm', operation: 'diagnostic-settings', observedAt: '2026-03-14T09:00:00Z', body: '{"value":[]}' });
    const unknown = JSON.stringify({ amberInventoryCapture: 1, cloud: 'azure', account: SUB, service: 'arm', operation: 'locks', observedAt: '2026-03-14T09:00:00Z', body: '{"value":[]}' });

    // Act
    const damaged = parseInventory('<html>proxy error', key(SUB, 'arm', 'diagnostic-settings'));
    const capture = parseInventory([good, unknown, good].join('\n'), 'captures/azure.jsonl');

    // Assess
    expect(damaged.problems).toEqual([{ index: 0, reason: 'azure arm diagnostic-settings answer: the body is not JSON' }]);
    expect(capture.rows.map((r) => [r.index, r.line, r.row.type])).toEqual([[0, 1, 'api:page'], [2, 3, 'api:page']]);
    expect(capture.problems).toEqual([{ index: 1, line: 2, reason: 'capture line 2: Amber does not read arm locks answers yet' }]);
  });

  it('is recognised by its key alone, as the inventory source', () => {
    // Assess
    expect(detectSource('{"totalRecords":0,"count":0,"data":[]}', key(SUB, 'resource-graph', 'disks')).source?.id).toBe('inventory');
    expect(detectSource('{"value":[]}', key(TENANT, 'graph', 'users')).source?.id).toBe('inventory');
    expect(azureRequestFromKey(key(SUB, 'arm', 'diagnostic-settings'))).toEqual({ account: SUB, api: 'arm', query: 'diagnostic-settings', observedAt: '2026-03-14T09:00:00Z' });
    expect(azureRequestFromKey('cases/C/azure/entra/x/signins/page-00001.json')).toBeUndefined();
  });
});
