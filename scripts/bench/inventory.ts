/**
 * bench:inventory — a synthetic estate of 10,000 EC2 instances (plus the small fixed estate: groups, buckets,
 * users, functions, snapshots) answered by the fake AWS endpoints on 127.0.0.1, inventoried with `amber inventory
 * --cloud aws` (every answer preserved and hashed), then checked with `amber detect`; then the same for an Azure
 * subscription of as many VMs, each with its network interface (Resource Graph, ARM and Graph answered by the
 * fake Azure APIs), with `amber inventory --cloud azure`; then 10,000 Compute Engine instances (plus the small fixed
 * GCP estate) answered by Cloud Asset's assets.list at the HTTP layer (nock, documented shapes), with
 * `amber inventory --cloud gcp`. Prints resources per second for each step and the peak
 * resident set size of this process. Figures only: nothing here passes or fails.
 *
 *   npm run bench:inventory [-- --instances 10000 --page 1000 --cloud aws|azure|gcp|all]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '../amber.ts';
import type { Io } from '../cli/io.ts';
import { FakeAwsEstate } from '../../test/helpers/fake-aws-estate.ts';
import { FakeAzure } from '../../test/helpers/fake-azure.ts';
import { ESTATE_SUBSCRIPTION, seedAzureEstate } from '../../test/helpers/fake-azure-estate.ts';

const { values } = parseArgs({ options: { instances: { type: 'string', default: '10000' }, page: { type: 'string', default: '1000' }, cloud: { type: 'string', default: 'all' } } });
const instances = Number(values.instances);
const clouds = values.cloud === 'all' ? ['aws', 'azure', 'gcp'] : [values.cloud];
const fake = await new FakeAwsEstate().start();
fake.estate = { extraInstances: instances, pageSize: Number(values.page) };
const cwd = await mkdtemp(join(tmpdir(), 'amber-bench-inventory-'));
Object.assign(process.env, fake.env(), {
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-secret',
  AWS_REGION: 'eu-west-1',
  AWS_CONFIG_FILE: join(cwd, 'no-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(cwd, 'no-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
});
delete process.env.AWS_PROFILE;

let out = '';
const io: Io = { out: (t) => void (out += t), err: () => undefined, interactive: false, env: { ...process.env, AMBER_ACTOR: 'bench@local' }, cwd };
async function step(name: string, args: string[]): Promise<number> {
  out = '';
  const started = performance.now();
  const code = await main(args, io);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${name} exited ${code}:\n${out}`);
  return seconds;
}

const azure = await new FakeAzure().start();
azure.pageSize = Number(values.page);
seedAzureEstate(azure, ESTATE_SUBSCRIPTION, instances);
Object.assign(io.env, { AMBER_AZURE_TOKEN: 'bench-token', AMBER_ARM_URL: azure.url, AMBER_GRAPH_URL: azure.url });

try {
  if (clouds.includes('aws')) await awsBench();
  if (clouds.includes('azure')) await azureBench();
  if (clouds.includes('gcp')) await benchGcp();
} finally {
  await fake.stop();
  await azure.stop();
  await rm(cwd, { recursive: true, force: true });
}

async function azureBench(): Promise<void> {
  const taken = await step('inventory', ['inventory', '--case', 'BENCH-AZ', '--cloud', 'azure', '--subscription', ESTATE_SUBSCRIPTION, '--locker', 'ev', '--json']);
  const summary = JSON.parse(out) as { collect: { items: number; bytes: number } };
  const checked = await step('detect', ['detect', '--case', 'BENCH-AZ', '--locker', 'ev', '--json']);
  const findings = (JSON.parse(out) as { findings: unknown[] }).findings.length;
  const resources = (instances + 3) * 2;
  console.log(`bench:inventory  Azure: ${instances + 3} VMs and their network interfaces (+ the fixed estate), ${summary.collect.items} answers preserved (${(summary.collect.bytes / 1e6).toFixed(1)} MB)`);
  console.log(`  inventory (collect, hash, record): ${taken.toFixed(2)} s, ${(resources / taken).toFixed(0)} resources/s`);
  console.log(`  detect (verify inputs, parse, catalogue):  ${checked.toFixed(2)} s, ${(resources / checked).toFixed(0)} resources/s, ${findings} findings`);
  console.log(`  peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

async function awsBench(): Promise<void> {
  const taken = await step('inventory', ['inventory', '--case', 'BENCH', '--cloud', 'aws', '--region', 'eu-west-1', '--locker', 'ev', '--json']);
  const summary = JSON.parse(out) as { collect: { items: number; bytes: number } };
  const checked = await step('detect', ['detect', '--case', 'BENCH', '--locker', 'ev', '--json']);
  const findings = (JSON.parse(out) as { findings: unknown[] }).findings.length;
  const resources = instances + 2;
  console.log(`bench:inventory  ${resources} EC2 instances (+ the fixed estate), ${summary.collect.items} answers preserved (${(summary.collect.bytes / 1e6).toFixed(1)} MB)`);
  console.log(`  inventory (collect, hash, record): ${taken.toFixed(2)} s, ${(resources / taken).toFixed(0)} resources/s`);
  console.log(`  detect (verify inputs, parse, catalogue):  ${checked.toFixed(2)} s, ${(resources / checked).toFixed(0)} resources/s, ${findings} findings`);
  console.log(`  peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

/** The GCP run: assets.list pages of `--page` assets (1000 at most, as Cloud Asset allows). */
async function benchGcp(): Promise<void> {
  const { ESTATE_PROJECT, FakeCloudAsset, instanceAsset, smallEstate } = await import('../../test/helpers/fake-cloud-asset.ts');
  const { default: nock } = await import('../../test/helpers/nock.ts');
  const base = 'https://cloudasset.bench.test';
  nock.disableNetConnect();
  const fake = smallEstate(new FakeCloudAsset(base), ESTATE_PROJECT, 0);
  fake.add(`projects/${ESTATE_PROJECT}`, 'RESOURCE', 'compute.googleapis.com/Instance', Array.from({ length: instances }, (_, i) => instanceAsset(ESTATE_PROJECT, 'europe-west1-b', `vm-${i}`, i % 100 === 0 ? { ip: `34.76.${Math.floor(i / 100) % 250}.${(i % 250) + 1}`, tags: ['ssh'] } : {})));
  fake.install();
  const dir = await mkdtemp(join(tmpdir(), 'amber-bench-inventory-gcp-'));
  let text = '';
  const gio: Io = { out: (t) => void (text += t), err: () => undefined, interactive: false, env: { AMBER_ACTOR: 'bench@local', AMBER_GCP_TOKEN: fake.token, AMBER_GCP_ASSET_URL: base }, cwd: dir };
  const run = async (name: string, args: string[]): Promise<number> => {
    text = '';
    const started = performance.now();
    const code = await main(args, gio);
    if (code !== 0) throw new Error(`${name} exited ${code}:\n${text}`);
    return (performance.now() - started) / 1000;
  };
  try {
    const taken = await run('inventory', ['inventory', '--case', 'BENCH-GCP', '--cloud', 'gcp', '--project', ESTATE_PROJECT, '--locker', 'ev', '--json']);
    const summary = JSON.parse(text) as { collect: { items: number; bytes: number }; assets: Record<string, number> };
    const checked = await run('detect', ['detect', '--case', 'BENCH-GCP', '--locker', 'ev', '--json']);
    const detected = JSON.parse(text) as { findings: unknown[]; errors: unknown[] };
    const findings = detected.findings.length;
    if (detected.errors.length > 0) console.log(JSON.stringify(detected.errors).slice(0, 2000));
    const resources = Object.values(summary.assets).reduce((a, b) => a + b, 0);
    console.log(`bench:inventory --cloud gcp  ${resources} assets (${instances} Compute Engine instances), ${summary.collect.items} pages preserved (${(summary.collect.bytes / 1e6).toFixed(1)} MB)`);
    console.log(`  inventory (collect, hash, record): ${taken.toFixed(2)} s, ${(resources / taken).toFixed(0)} assets/s`);
    console.log(`  detect (verify inputs, parse, catalogue):  ${checked.toFixed(2)} s, ${(resources / checked).toFixed(0)} assets/s, ${findings} findings`);
    console.log(`  peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    nock.cleanAll();
    await rm(dir, { recursive: true, force: true });
  }
}
