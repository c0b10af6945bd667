/**
 * `amber inventory --cloud azure` end to end: the CLI with AMBER_AZURE_TOKEN and AMBER_ARM_URL / AMBER_GRAPH_URL
 * pointing at a fake of the documented APIs on 127.0.0.1 holding a small estate, then `amber verify`, `amber detect`
 * and the exports over what was preserved.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAzure } from '../helpers/fake-azure.ts';
import { ESTATE_SUBSCRIPTION, ESTATE_TENANT, seedAzureEstate } from '../helpers/fake-azure-estate.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

let fake: FakeAzure;
let env: Record<string, string>;

beforeEach(async () => {
  fake = await new FakeAzure().start();
  seedAzureEstate(fake);
  env = { AMBER_AZURE_TOKEN: 'tok-1', AMBER_ARM_URL: fake.url, AMBER_GRAPH_URL: fake.url };
});

afterEach(async () => {
  await fake.stop();
});

interface Finding {
  detection: string;
  target: string;
  action: string;
  detail: string;
  cloud: string;
  evidence_key: string;
  evidence_record: number;
  evidence_sha256: string;
}

describe('amber inventory --cloud azure', () => {
  it('preserves every page through paging and a refused query, and detect cites the answer and row of each exposure', async () => {
    // Prepare: 2 rows a page; the key vault query is refused
    const cwd = await tempDir();
    fake.pageSize = 2;
    fake.fault('microsoft.keyvault/vaults', 403, 1);

    // Act
    const run = await runCli(['inventory', '--case', 'AZ-1', '--cloud', 'azure', '--subscription', ESTATE_SUBSCRIPTION.toUpperCase(), '--locker', 'ev', '--json'], { cwd, env });
    const verify = await runCli(['verify', '--case', 'AZ-1', '--locker', 'ev'], { cwd, env });
    const detect = await runCli(['detect', '--case', 'AZ-1', '--locker', 'ev', '--json'], { cwd, env });

    // Assess: the refusal is reported and recorded, never fatal
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { subscriptions: string[]; tenant: string; problems: Array<{ scope: string; api: string; query: string; code: string }>; collect: { failures: Array<{ origin: string; reason: string }> } };
    expect(summary.subscriptions).toEqual([ESTATE_SUBSCRIPTION]);
    expect(summary.tenant).toBe(ESTATE_TENANT);
    expect(summary.problems).toEqual([expect.objectContaining({ scope: ESTATE_SUBSCRIPTION, api: 'resource-graph', query: 'key-vaults', code: 'AuthorizationFailed' })]);
    expect(summary.collect.failures.map((f) => f.origin)).toEqual([`api:azure-inventory?scope=${ESTATE_SUBSCRIPTION}&api=resource-graph&query=key-vaults`]);
    // Pages of one query under their own keys; the refused answer kept too
    const base = join(cwd, 'ev', 'cases', 'AZ-1', 'azure', 'inventory', ESTATE_SUBSCRIPTION);
    const [taken] = await readdir(base);
    expect(await readdir(join(base, taken!, 'resource-graph', 'virtual-machines'))).toEqual(['page-00001.json', 'page-00002.json']);
    expect(await readdir(join(base, taken!, 'resource-graph', 'key-vaults'))).toEqual(['page-00001.json']);
    const page = await readFile(join(base, taken!, 'resource-graph', 'network-security-groups', 'page-00001.json'));
    const ledger = await readFile(join(cwd, 'ev', 'cases', 'AZ-1', 'custody-ledger.jsonl'), 'utf8');
    expect(ledger).toContain(`"sha256":"${createHash('sha256').update(page).digest('hex')}"`);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // Exposure findings, each citing a preserved answer and its row
    expect(detect.code, detect.stderr).toBe(0);
    const { findings, errors } = JSON.parse(detect.stdout) as { errors: unknown[]; findings: Finding[] };
    expect(errors).toEqual([]);
    const targets = (id: string): string[] => findings.filter((f) => f.detection === id).map((f) => f.target).sort();
    const vm = (name: string): string => `/subscriptions/${ESTATE_SUBSCRIPTION}/resourcegroups/rg-prod/providers/microsoft.compute/virtualmachines/${name}`;
    const nsg = (name: string): string => `/subscriptions/${ESTATE_SUBSCRIPTION}/resourcegroups/rg-prod/providers/microsoft.network/networksecuritygroups/${name}`;
    expect(targets('inventory-azure-vm-public-admin-port')).toEqual([vm('vm-web')]);
    expect(targets('inventory-azure-nsg-open-to-internet')).toEqual([nsg('nsg-web')]);
    expect(targets('inventory-azure-storage-public-blob')).toEqual([`/subscriptions/${ESTATE_SUBSCRIPTION}/resourcegroups/rg-prod/providers/microsoft.storage/storageaccounts/stpublicsite`]);
    expect(findings.filter((f) => f.detection === 'inventory-azure-disk-exportable').map((f) => `${f.action} ${f.target.split('/').pop()}`).sort()).toEqual(['DiskExportActive snap-exfil', 'DiskExportOpen disk-web-os']);
    expect(targets('inventory-entra-user-without-mfa')).toEqual(['bob@contoso.example', 'vendor_ext#EXT#@contoso.example']);
    expect(targets('inventory-entra-credential-long-lived').map((t) => t.split(' ')[0])).toEqual(['ci-deployer', 'payroll-sync']);
    expect(targets('inventory-azure-activity-log-not-exported')).toEqual([ESTATE_SUBSCRIPTION]);
    expect(findings.filter((f) => f.detection === 'inventory-azure-privileged-role-guest-or-sp').map((f) => f.action).sort()).toEqual(['PrivilegedRoleToGuest', 'PrivilegedRoleToServicePrincipal']);
    // Only the Azure and Entra detections speak of this estate: none of the AWS ones reads its rows
    expect([...new Set(findings.filter((f) => f.detection.startsWith('inventory-')).map((f) => f.detection))].sort()).toEqual([
      'inventory-azure-activity-log-not-exported', 'inventory-azure-disk-exportable', 'inventory-azure-nsg-open-to-internet', 'inventory-azure-privileged-role-guest-or-sp',
      'inventory-azure-storage-public-blob', 'inventory-azure-vm-public-admin-port', 'inventory-entra-credential-long-lived', 'inventory-entra-user-without-mfa',
    ]);
    expect(findings.filter((f) => f.detection.startsWith('inventory-')).every((f) => f.cloud === 'azure')).toBe(true);
    const open = findings.find((f) => f.detection === 'inventory-azure-vm-public-admin-port')!;
    expect(open.cloud).toBe('azure');
    expect(open.detail).toContain('has public address 20.61.0.10');
    expect(open.detail).toContain('SSH 22');
    expect(open.evidence_key).toMatch(new RegExp(`^cases/AZ-1/azure/inventory/${ESTATE_SUBSCRIPTION}/\\d{8}T\\d{6}Z/resource-graph/network-interfaces/page-00001\\.json$`));
    const cited = await readFile(join(cwd, 'ev', open.evidence_key));
    expect(open.evidence_sha256).toBe(createHash('sha256').update(cited).digest('hex'));
    // The cited page holds the interface the finding is about
    expect(JSON.parse(cited.toString('utf8')).data.map((r: { name: string }) => r.name)).toContain('nic-web');

    // The report's inventory section counts the Azure rows per type and lists every exposure with its evidence
    const report = await runCli(['report', '--case', 'AZ-1', '--locker', 'ev', '--out', 'report.html'], { cwd, env });
    expect(report.code, report.stderr).toBe(0);
    const section = /<section id="inventory">[\s\S]*?<\/section>/.exec(await readFile(join(cwd, 'report.html'), 'utf8'))?.[0] ?? '';
    expect(section).toContain('<td>azure:vm</td><td class="num">3</td>');
    expect(section).toContain(`Exposure findings (${findings.filter((f) => f.detection.startsWith('inventory-')).length})`);
    expect(section).toContain(open.evidence_key);
  }, 180_000);

  it('prints what it read and exports the Azure rows as CSV and JSON, the same bytes every time', async () => {
    // Prepare
    const cwd = await tempDir();
    const taken = await runCli(['inventory', '--case', 'AZ-2', '--cloud', 'azure', '--subscription', ESTATE_SUBSCRIPTION, '--tenant', ESTATE_TENANT, '--locker', 'ev'], { cwd, env });
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stdout).toContain(`Inventory of Azure subscription ${ESTATE_SUBSCRIPTION} and tenant ${ESTATE_TENANT} preserved in case AZ-2`);
    // Graph: users and their registrations take 2 pages each at the fake's 2 a page, applications and service principals 1
    expect(taken.stdout).toMatch(/answers: {2}resource-graph \d+, arm 1, graph 6\n/);

    // Act
    const csv1 = await runCli(['inventory', '--case', 'AZ-2', '--format', 'csv', '--locker', 'ev'], { cwd, env });
    const csv2 = await runCli(['inventory', '--case', 'AZ-2', '--format', 'csv', '--locker', 'ev'], { cwd, env });
    const json = await runCli(['inventory', '--case', 'AZ-2', '--format', 'json', '--locker', 'ev'], { cwd, env });

    // Assess
    expect(csv1.code, csv1.stderr).toBe(0);
    expect(csv1.stdout).toBe(csv2.stdout);
    expect(csv1.stdout.split('\n')[0]).toBe('cloud,account,region,service,operation,type,id,name,tags,created_at,observed_at,attributes,evidence_key,evidence_record,evidence_sha256');
    const rows = JSON.parse(json.stdout) as Array<{ cloud: string; account: string; region: string; type: string; name: string; evidence_sha256: string }>;
    expect(rows.every((r) => r.cloud === 'azure')).toBe(true);
    expect(rows.filter((r) => r.type === 'azure:vm').map((r) => `${r.account} ${r.region} ${r.name}`)).toEqual([`${ESTATE_SUBSCRIPTION} westeurope vm-db`, `${ESTATE_SUBSCRIPTION} westeurope vm-jump`, `${ESTATE_SUBSCRIPTION} westeurope vm-web`]);
    expect(rows.filter((r) => r.type === 'entra:user').map((r) => `${r.account} ${r.region} ${r.name}`)).toHaveLength(4);
    expect(rows.filter((r) => r.type === 'entra:user').every((r) => r.account === ESTATE_TENANT && r.region === 'global')).toBe(true);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.evidence_sha256))).toBe(true);
  }, 120_000);

  it('refuses a missing or malformed subscription and AWS flags, before asking for a token', async () => {
    // Prepare
    const cwd = await tempDir();

    // Act
    const none = await runCli(['inventory', '--case', 'AZ-3', '--cloud', 'azure', '--locker', 'ev'], { cwd, env });
    const bad = await runCli(['inventory', '--case', 'AZ-3', '--cloud', 'azure', '--subscription', 'prod', '--locker', 'ev'], { cwd, env });
    const region = await runCli(['inventory', '--case', 'AZ-3', '--cloud', 'azure', '--subscription', ESTATE_SUBSCRIPTION, '--region', 'eu-west-1', '--locker', 'ev'], { cwd, env });

    // Assess
    expect([none.code, bad.code, region.code]).toEqual([2, 2, 2]);
    expect(none.stderr).toMatch(/--cloud azure needs a subscription: --subscription ID/);
    expect(bad.stderr).toMatch(/--subscription "prod" is not a subscription id/);
    expect(region.stderr).toMatch(/--region and --all-regions apply to --cloud aws/);
    expect(fake.requests).toEqual([]);
  });
});
