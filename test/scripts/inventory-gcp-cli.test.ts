/**
 * `amber inventory --cloud gcp` end to end: the CLI with AMBER_GCP_TOKEN and AMBER_GCP_ASSET_URL pointing at Cloud
 * Asset's assets.list answered by nock (documented shapes), then `amber verify`, `amber detect`, the exports and
 * the report over what was preserved.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ESTATE_PROJECT, FakeCloudAsset, instanceAsset, smallEstate } from '../helpers/fake-cloud-asset.ts';
import { runCli } from '../helpers/cli.ts';
import nock from '../helpers/nock.ts';
import { tempDir } from '../helpers/tmp.ts';

const BASE = 'https://cloudasset.example.test';
let fake: FakeCloudAsset;
let env: Record<string, string>;

beforeEach(() => {
  nock.disableNetConnect();
  fake = smallEstate(new FakeCloudAsset(BASE)).install();
  env = { AMBER_GCP_TOKEN: fake.token, AMBER_GCP_ASSET_URL: BASE };
});

afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

interface Summary {
  scopes: string[];
  answers: Record<string, number>;
  assets: Record<string, number>;
  problems: Array<{ scope: string; contentType: string; assetType: string; code: string; message: string }>;
  collect: { items: number; failures: Array<{ origin: string; reason: string }> };
}

describe('amber inventory --cloud gcp', () => {
  it('preserves every page through a throttled call and a refused query, and detect cites the right records', async () => {
    // Prepare
    const cwd = await tempDir();
    fake.throttle(1).deny('IAM_POLICY', 'compute.googleapis.com/Disk');

    // Act
    const run = await runCli(['inventory', '--case', 'INV-G1', '--cloud', 'gcp', '--project', ESTATE_PROJECT, '--locker', 'ev', '--json'], { cwd, env });
    const verify = await runCli(['verify', '--case', 'INV-G1', '--locker', 'ev'], { cwd, env });
    const detect = await runCli(['detect', '--case', 'INV-G1', '--locker', 'ev', '--json'], { cwd, env });

    // Assess: the refusal is reported and recorded in the manifest, never fatal
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.scopes).toEqual([`projects/${ESTATE_PROJECT}`]);
    expect(summary.problems).toEqual([expect.objectContaining({ scope: `projects/${ESTATE_PROJECT}`, contentType: 'IAM_POLICY', assetType: 'compute.googleapis.com/Disk', code: '403 PERMISSION_DENIED' })]);
    expect(summary.collect.failures.map((f) => f.origin)).toEqual([`api:gcp-inventory?parent=projects%2F${ESTATE_PROJECT}&contentType=IAM_POLICY&assetTypes=compute.googleapis.com%2FDisk&pageSize=1000&page=1`]);
    expect(summary.assets).toEqual({ [`projects/${ESTATE_PROJECT}`]: 17 });
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(1);
    // Every page is kept under the key the parser reads the request from, as the bytes Google sent
    const base = join(cwd, 'ev', 'cases', 'INV-G1', 'gcp', 'inventory', ESTATE_PROJECT);
    const [stamp] = await readdir(base);
    expect(stamp).toMatch(/^\d{8}T\d{6}Z$/);
    expect((await readdir(join(base, stamp!))).sort()).toEqual(['iam-policy', 'resource']);
    const instances = await readFile(join(base, stamp!, 'resource', 'compute.googleapis.com', 'Instance', 'page-00001.json'));
    expect(fake.served.some((b) => b.equals(instances))).toBe(true);
    const ledger = await readFile(join(cwd, 'ev', 'cases', 'INV-G1', 'custody-ledger.jsonl'), 'utf8');
    expect(ledger).toContain(`"sha256":"${createHash('sha256').update(instances).digest('hex')}"`);
    expect(summary.collect.items).toBe(fake.requests.filter((r) => r.status !== 429).length);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // Exposure findings, each citing a preserved page and its record
    expect(detect.code, detect.stderr).toBe(0);
    const { findings, errors } = JSON.parse(detect.stdout) as { errors: unknown[]; findings: Array<{ detection: string; target: string; detail: string; evidence_key: string; evidence_record: number; evidence_sha256: string }> };
    expect(errors).toEqual([]);
    const byDetection = (id: string) => findings.filter((f) => f.detection === id);
    expect(byDetection('inventory-gcp-bucket-public').map((f) => f.target)).toEqual(['acme-public-site']);
    expect(byDetection('inventory-gcp-firewall-open-to-internet').map((f) => f.target)).toEqual(['allow-ssh']);
    expect(byDetection('inventory-gcp-instance-public-admin-port').map((f) => f.target)).toEqual(['vm-01']);
    expect(byDetection('inventory-gcp-image-shared').map((f) => f.target)).toEqual(['golden']);
    expect(byDetection('inventory-gcp-sa-key-old-or-unexpiring').map((f) => f.target)).toEqual(['0a1b2c3d4e5f60718293a4b5c6d7e8f901234567']);
    expect(byDetection('inventory-gcp-function-public').map((f) => f.target)).toEqual(['api']);
    expect(byDetection('inventory-gcp-default-sa-broad-role').map((f) => f.target)).toEqual(['serviceAccount:123456789012-compute@developer.gserviceaccount.com']);
    expect(byDetection('inventory-gcp-data-access-logs-off').map((f) => f.target)).toEqual([ESTATE_PROJECT]);
    // The AWS inventory detections stay silent on a GCP estate
    expect(findings.filter((f) => f.detection.startsWith('inventory-') && !f.detection.startsWith('inventory-gcp-'))).toEqual([]);
    const open = byDetection('inventory-gcp-instance-public-admin-port')[0]!;
    expect(open.detail).toBe('instance vm-01 in europe-west1-b has external address 34.76.20.1 on projects/acme-prod-1/global/networks/default and firewall rule allow-ssh admits 0.0.0.0/0 on SSH 22');
    expect(open.evidence_key).toBe(`cases/INV-G1/gcp/inventory/${ESTATE_PROJECT}/${stamp}/resource/compute.googleapis.com/Instance/page-00001.json`);
    expect(open.evidence_sha256).toBe(createHash('sha256').update(instances).digest('hex'));
    // The cited record is the exposure row the rule matched: 0 page, 1 vm-01, 2 its exposure to rules for every
    // instance (none is open), 3 its exposure through the network tag ssh (allow-ssh targets that tag)
    expect(open.evidence_record).toBe(3);

    // The report's inventory section counts the GCP rows and lists their exposure findings
    const report = await runCli(['report', '--case', 'INV-G1', '--locker', 'ev', '--out', 'report.html'], { cwd, env });
    expect(report.code, report.stderr).toBe(0);
    const section = /<section id="inventory">[\s\S]*?<\/section>/.exec(await readFile(join(cwd, 'report.html'), 'utf8'))?.[0] ?? '';
    expect(section).toContain('<td>compute:instance</td><td class="num">5</td>');
    expect(section).toContain(open.evidence_key);
  }, 180_000);

  it('exports the GCP rows as CSV and JSON in the same bytes every time, each with its evidence hash', async () => {
    // Prepare
    const cwd = await tempDir();
    const taken = await runCli(['inventory', '--case', 'INV-G2', '--cloud', 'gcp', '--project', ESTATE_PROJECT, '--locker', 'ev'], { cwd, env });
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stdout).toMatch(new RegExp(`^Inventory of projects/${ESTATE_PROJECT} \\(Cloud Asset Inventory\\) preserved in case INV-G2: 21 pages \\(21 new\\)`));

    // Act
    const csv1 = await runCli(['inventory', '--case', 'INV-G2', '--format', 'csv', '--locker', 'ev'], { cwd, env });
    const csv2 = await runCli(['inventory', '--case', 'INV-G2', '--format', 'csv', '--locker', 'ev'], { cwd, env });
    const json = await runCli(['inventory', '--case', 'INV-G2', '--format', 'json', '--locker', 'ev'], { cwd, env });

    // Assess
    expect(csv1.code, csv1.stderr).toBe(0);
    expect(csv1.stdout).toBe(csv2.stdout);
    expect(csv1.stdout.split('\n')[0]).toBe('cloud,account,region,service,operation,type,id,name,tags,created_at,observed_at,attributes,evidence_key,evidence_record,evidence_sha256');
    expect(csv1.stdout).toContain(`gcp,${ESTATE_PROJECT},europe-west1-b,compute,assets.list,compute:instance,//compute.googleapis.com/projects/${ESTATE_PROJECT}/zones/europe-west1-b/instances/vm-01,vm-01,`);
    const rows = JSON.parse(json.stdout) as Array<{ cloud: string; account: string; region: string; type: string; id: string; name: string; evidence_sha256: string }>;
    expect(rows.every((r) => r.cloud === 'gcp' && /^[0-9a-f]{64}$/.test(r.evidence_sha256))).toBe(true);
    expect(rows.filter((r) => r.type === 'storage:bucket').map((r) => [r.name, r.region])).toEqual([['acme-evidence', 'eu'], ['acme-public-site', 'eu']]);
    expect(rows.filter((r) => r.type === 'api:page')).toHaveLength(21);
  }, 120_000);

  it('reads full 1000-asset pages (over the 1 MiB record limit as a whole) asset by asset', async () => {
    // Prepare: 1200 more instances, every hundredth with an external address and the ssh tag
    const cwd = await tempDir();
    fake.add(`projects/${ESTATE_PROJECT}`, 'RESOURCE', 'compute.googleapis.com/Instance', Array.from({ length: 1200 }, (_, i) => instanceAsset(ESTATE_PROJECT, 'europe-west1-c', `bulk-${i}`, i % 100 === 0 ? { ip: `35.10.${i / 100}.1`, tags: ['ssh'] } : {})));
    await runCli(['inventory', '--case', 'INV-G4', '--cloud', 'gcp', '--project', ESTATE_PROJECT, '--locker', 'ev'], { cwd, env });
    const base = join(cwd, 'ev', 'cases', 'INV-G4', 'gcp', 'inventory', ESTATE_PROJECT);
    const [stamp] = await readdir(base);
    const first = await readFile(join(base, stamp!, 'resource', 'compute.googleapis.com', 'Instance', 'page-00001.json'));
    expect(first.length).toBeGreaterThan(1024 * 1024);

    // Act
    const detect = await runCli(['detect', '--case', 'INV-G4', '--locker', 'ev', '--json'], { cwd, env });

    // Assess
    const { findings } = JSON.parse(detect.stdout) as { findings: Array<{ detection: string; target: string }> };
    expect(findings.filter((f) => f.detection === 'inventory-gcp-instance-public-admin-port')).toHaveLength(13);
    expect(detect.stderr).not.toMatch(/set aside|over the limit/i);
  }, 120_000);

  it('asks for a project or an organization, refuses both at once, and stops before the locker without credentials', async () => {
    // Prepare
    const cwd = await tempDir();

    // Act
    const none = await runCli(['inventory', '--case', 'INV-G3', '--cloud', 'gcp', '--locker', 'ev'], { cwd, env });
    const both = await runCli(['inventory', '--case', 'INV-G3', '--cloud', 'gcp', '--project', ESTATE_PROJECT, '--organization', '123', '--locker', 'ev'], { cwd, env });
    const region = await runCli(['inventory', '--case', 'INV-G3', '--cloud', 'gcp', '--project', ESTATE_PROJECT, '--region', 'europe-west1', '--locker', 'ev'], { cwd, env });
    const org = await runCli(['inventory', '--case', 'INV-G3', '--cloud', 'gcp', '--organization', 'acme', '--locker', 'ev'], { cwd, env });
    const noCreds = await runCli(['inventory', '--case', 'INV-G3', '--cloud', 'gcp', '--project', ESTATE_PROJECT, '--locker', 'ev'], { cwd, env: { AMBER_GCP_ASSET_URL: BASE, GOOGLE_APPLICATION_CREDENTIALS: join(cwd, 'missing.json') } });

    // Assess
    expect([none.code, both.code, region.code, org.code]).toEqual([2, 2, 2, 2]);
    expect(none.stderr).toMatch(/--cloud gcp needs --project P \(repeatable\) or --organization O/);
    expect(both.stderr).toMatch(/--project and --organization were both given/);
    expect(region.stderr).toMatch(/--region and --all-regions apply to --cloud aws/);
    expect(org.stderr).toMatch(/--organization "acme" is not an organization number/);
    expect(noCreds.code).not.toBe(0);
    expect(noCreds.stderr).toMatch(/no Google Cloud credentials for api:gcp-inventory[\s\S]*AMBER_GCP_TOKEN/);
    expect(fake.requests).toEqual([]);
    await expect(readdir(join(cwd, 'ev'))).rejects.toThrow(/ENOENT/);
  });
});
