/** The GCP inventory reader: Cloud Asset pages read by their key (or capture line) into inventory rows. */
import { describe, expect, it } from 'vitest';
import { parseInventory, sniffInventory } from '../../../../shared/sources/inventory/index.ts';
import { gcpRequestFromKey } from '../../../../shared/sources/inventory/gcp.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';
import { ESTATE_NUMBER, FakeCloudAsset, instanceAsset, smallEstate } from '../../../helpers/fake-cloud-asset.ts';

const KEY = (kind: string, type: string, scope = 'acme-prod-1'): string => `cases/C/gcp/inventory/${scope}/20260314T090000Z/${kind}/${type}/page-00001.json`;

/** The body the fake answers for one query (the documented ListAssetsResponse). */
function page(contentType: 'RESOURCE' | 'IAM_POLICY', assetType: string): string {
  const fake = smallEstate(new FakeCloudAsset());
  return fake.respond(`/v1/projects/acme-prod-1/assets?contentType=${contentType}&assetTypes=${encodeURIComponent(assetType)}&pageSize=1000`, `Bearer ${fake.token}`)[1];
}
const attrs = (r: { row: Record<string, unknown> }): Record<string, unknown> => JSON.parse(String(r.row.attributes)) as Record<string, unknown>;

describe('Function: parseInventory (Google Cloud)', () => {
  it('is recognised by its key and reads the request from it', () => {
    // Assess
    expect(sniffInventory('{', KEY('resource', 'compute.googleapis.com/Instance'))).toBe(true);
    expect(detectSource('{"assets": []}', KEY('resource', 'compute.googleapis.com/Instance')).source?.id).toBe('inventory');
    expect(gcpRequestFromKey(KEY('iam-policy', 'storage.googleapis.com/Bucket', '998877665544'))).toEqual({ scope: '998877665544', contentType: 'IAM_POLICY', assetType: 'storage.googleapis.com/Bucket', observedAt: '2026-03-14T09:00:00Z' });
    expect(gcpRequestFromKey('cases/C/gcp/inventory/Bad_Project/20260314T090000Z/resource/compute.googleapis.com/Instance/page-00001.json')).toBeUndefined();
  });

  it('gives an instance its external address and one exposure row per firewall target it matches', () => {
    // Act
    const { rows, problems } = parseInventory(page('RESOURCE', 'compute.googleapis.com/Instance'), KEY('resource', 'compute.googleapis.com/Instance'));

    // Assess
    expect(problems).toEqual([]);
    expect(rows[0]!.row).toMatchObject({ cloud: 'gcp', account: 'acme-prod-1', region: 'global', type: 'api:page', id: 'RESOURCE compute.googleapis.com/Instance' });
    expect(attrs(rows[0]!)).toMatchObject({ rows: 8, assets: 5, error: null, readTime: '2026-03-14T08:59:58Z' });
    const vm1 = rows.filter((r) => r.row.name === 'vm-01');
    expect(vm1.map((r) => r.row.type)).toEqual(['compute:instance', 'compute:instance-exposure', 'compute:instance-exposure', 'compute:instance-exposure']);
    expect(vm1[0]!.row).toMatchObject({ region: 'europe-west1-b', service: 'compute', operation: 'assets.list', id: '//compute.googleapis.com/projects/acme-prod-1/zones/europe-west1-b/instances/vm-01', created_at: '2025-11-02T15:15:30Z', observed_at: '2026-03-14T09:00:00Z' });
    expect(attrs(vm1[0]!)).toMatchObject({ externalIps: ['34.76.20.1'], networks: ['projects/acme-prod-1/global/networks/default'], networkTags: ['ssh'], defaultServiceAccount: true, cloudPlatformScope: true });
    expect(vm1.slice(1).map((r) => [attrs(r).targetKind, attrs(r).target])).toEqual([['all', null], ['tag', 'ssh'], ['serviceAccount', `${ESTATE_NUMBER}-compute@developer.gserviceaccount.com`]]);
    expect(rows.filter((r) => r.row.name === 'vm-02').map((r) => r.row.type)).toEqual(['compute:instance']);
  });

  it('expands a firewall into one rule row per protocol and port range, source range and target', () => {
    // Prepare
    const body = JSON.stringify({ assets: [{ name: '//compute.googleapis.com/projects/p-123456/global/firewalls/mixed', assetType: 'compute.googleapis.com/Firewall', resource: { location: 'global', data: { name: 'mixed', network: 'https://www.googleapis.com/compute/v1/projects/p-123456/global/networks/vpc', direction: 'INGRESS', priority: 900, sourceRanges: ['0.0.0.0/0', '10.0.0.0/8'], allowed: [{ IPProtocol: 'tcp', ports: ['22', '8000-8100'] }, { IPProtocol: 'icmp' }], targetServiceAccounts: ['web@p-123456.iam.gserviceaccount.com'] } } }] });

    // Act
    const { rows } = parseInventory(body, KEY('resource', 'compute.googleapis.com/Firewall', 'p-123456'));

    // Assess
    const rules = rows.filter((r) => r.row.type === 'compute:firewall-rule').map((r) => attrs(r));
    expect(rules.map((a) => `${a.protocol} ${a.fromPort}-${a.toPort} ${a.cidr}`)).toEqual(['tcp 22-22 0.0.0.0/0', 'tcp 22-22 10.0.0.0/8', 'tcp 8000-8100 0.0.0.0/0', 'tcp 8000-8100 10.0.0.0/8', 'icmp 0-65535 0.0.0.0/0', 'icmp 0-65535 10.0.0.0/8']);
    expect(rules.every((a) => a.network === 'projects/p-123456/global/networks/vpc' && a.targetKind === 'serviceAccount' && a.target === 'web@p-123456.iam.gserviceaccount.com' && a.action === 'allow' && a.priority === 900 && a.disabled === false)).toBe(true);
  });

  it('reads keys with their age and expiry, policies member by member, and the project\'s audit log settings', () => {
    // Act
    const keys = parseInventory(page('RESOURCE', 'iam.googleapis.com/ServiceAccountKey'), KEY('resource', 'iam.googleapis.com/ServiceAccountKey')).rows;
    const project = parseInventory(page('IAM_POLICY', 'cloudresourcemanager.googleapis.com/Project'), KEY('iam-policy', 'cloudresourcemanager.googleapis.com/Project')).rows;

    // Assess
    expect(keys[1]!.row).toMatchObject({ type: 'iam:service-account-key', name: 'deployer@acme-prod-1.iam.gserviceaccount.com', created_at: '2024-02-01T00:00:00Z' });
    expect(attrs(keys[1]!)).toMatchObject({ keyId: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567', keyType: 'USER_MANAGED', neverExpires: true, ageDays: 772, disabled: false });
    expect(project.slice(1).map((r) => [r.row.type, attrs(r).role ?? null, attrs(r).member ?? null, attrs(r).defaultServiceAccount ?? null])).toEqual([
      ['gcp:iam-member', 'roles/editor', `serviceAccount:${ESTATE_NUMBER}-compute@developer.gserviceaccount.com`, true],
      ['gcp:iam-member', 'roles/owner', 'user:admin@acme.example', false],
      ['gcp:audit-config', null, null, null],
    ]);
    expect(attrs(project[2]!)).toMatchObject({ memberKind: 'user', memberDomain: 'acme.example', public: false });
    expect(attrs(project[3]!)).toMatchObject({ dataAccessOn: false, services: [] });
  });

  it('reads a refusal as one page row with Google\'s status, and names the key of a body that is not JSON', () => {
    // Act
    const refused = parseInventory('{\n  "error": {\n    "code": 403,\n    "message": "denied",\n    "status": "PERMISSION_DENIED"\n  }\n}\n', KEY('iam-policy', 'storage.googleapis.com/Bucket'));
    const broken = parseInventory('<html>502</html>', KEY('resource', 'storage.googleapis.com/Bucket'));

    // Assess
    expect(refused.rows).toHaveLength(1);
    expect(attrs(refused.rows[0]!)).toMatchObject({ rows: 0, error: 'PERMISSION_DENIED', message: 'denied' });
    expect(broken.rows).toEqual([]);
    expect(broken.problems).toEqual([{ index: 0, reason: 'cloudasset assets.list RESOURCE storage.googleapis.com/Bucket answer: the body is not JSON' }]);
  });

  it('names the project of each asset in an organization\'s inventory', () => {
    // Prepare
    const body = JSON.stringify({ assets: [instanceAsset('acme-data-2', 'us-central1-a', 'etl'), { name: '//storage.googleapis.com/org-bucket', assetType: 'storage.googleapis.com/Bucket', resource: { location: 'us', data: { name: 'org-bucket' } }, ancestors: ['projects/555', 'organizations/998877665544'] }] });

    // Act
    const { rows } = parseInventory(body, KEY('resource', 'compute.googleapis.com/Instance', '998877665544'));

    // Assess
    expect(rows.map((r) => r.row.account)).toEqual(['organizations/998877665544', 'acme-data-2', 'projects/555']);
  });

  it('reads GCP capture lines beside AWS ones and names a bad GCP line', () => {
    // Prepare
    const line = (extra: Record<string, unknown>): string => JSON.stringify({ amberInventoryCapture: 1, cloud: 'gcp', scope: 'acme-prod-1', contentType: 'RESOURCE', assetType: 'compute.googleapis.com/Instance', observedAt: '2026-03-14T09:00:00Z', body: page('RESOURCE', 'compute.googleapis.com/Instance'), ...extra });

    // Act
    const { rows, problems } = parseInventory([line({}), line({ contentType: 'ORG_POLICY' })].join('\n'), 'fixtures/x.jsonl');

    // Assess
    expect(rows).toHaveLength(9);
    expect(rows.every((r) => r.line === 1 && r.row.cloud === 'gcp')).toBe(true);
    expect(problems).toEqual([{ index: 9, line: 2, reason: 'capture line 2: field "contentType" must be RESOURCE or IAM_POLICY, got "ORG_POLICY"' }]);
  });
});
