/**
 * Columnar once, through the product's path (openCaseSession, as detect, timeline and report open a case): the
 * first query of a case writes its rows to derived Parquet preserved in the locker, later queries read only those
 * files (verified first), and a case that gains objects gets a new set.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectInSession, openCaseSession } from '../../../scripts/cli/case-session.ts';
import type { Io } from '../../../scripts/cli/io.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import type { LedgerEntry } from '../../../shared/evidence/model.ts';
import { writeSyntheticCloudTrail } from '../../helpers/cloudtrail-synth.ts';
import { runCli } from '../../helpers/cli.ts';
import { makeWritable, tempDir } from '../../helpers/tmp.ts';

const io: Io = { out: () => {}, err: () => {}, interactive: false, env: { AMBER_ACTOR: 'analyst@test' }, cwd: '/' };
const FLOW_KEY = 'AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/03/14/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60718_20260314T0105Z_4b8d2f10.log';
const FLOW = fileURLToPath(new URL(`../../fixtures/aws/vpcflow/v5/${FLOW_KEY}`, import.meta.url));
const BAD_FLOW_KEY = 'AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/03/14/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60718_20260314T0105Z_8f9a0b1c.log';
const BAD_FLOW = fileURLToPath(new URL(`../../fixtures/aws/vpcflow/bad-lines/${BAD_FLOW_KEY}`, import.meta.url));

/** A record of our own that the catalogue flags (CloudTrail logging stopped), in its own delivery file. */
function stopLogging(): Buffer {
  const record = {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111122223333:user/mallory', accountId: '111122223333', userName: 'mallory' },
    eventTime: '2024-03-05T10:00:00Z',
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'StopLogging',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.7',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: { name: 'management-trail' },
    responseElements: null,
    requestID: 'req-columnar-1',
    eventID: 'evt-columnar-1',
    readOnly: false,
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
  };
  return gzipSync(JSON.stringify({ Records: [record] }));
}

/** A case of synthetic CloudTrail (three days) and one VPC flow log file, collected with the CLI. */
async function collectedCase(): Promise<{ cwd: string; locker: string }> {
  const cwd = await tempDir();
  const src = join(cwd, 'src');
  await writeSyntheticCloudTrail({ dir: src, events: 600, files: 6 });
  await mkdir(dirname(join(src, FLOW_KEY)), { recursive: true });
  await writeFile(join(src, FLOW_KEY), await readFile(FLOW));
  // Flow log lines Amber cannot parse: problems found at materialisation that later runs must still report.
  await writeFile(join(src, BAD_FLOW_KEY), await readFile(BAD_FLOW));
  const locker = join(cwd, 'locker');
  const run = await runCli(['collect', '--case', 'c', '--from', src, '--locker', locker], { cwd });
  expect(run.code, run.stderr).toBe(0);
  return { cwd, locker };
}

async function entries(locker: string): Promise<readonly LedgerEntry[]> {
  return (await CustodyLedger.open(await LocalObjectStore.open(locker), 'c')).entries;
}

const columnarSets = (all: readonly LedgerEntry[]): LedgerEntry[] => all.filter((e) => e.action === 'derived' && e.detail?.columnar !== undefined);

/** One detect on a fresh engine: the findings' bytes and the tables the session reported. */
async function detect(locker: string, threads?: number) {
  const session = await openCaseSession('c', locker, io, threads ? { threads } : {});
  try {
    const run = await detectInSession(session);
    const { events, coverage, problems, columnar } = session.tables;
    return { columnar, findings: JSON.stringify(run.findings), count: run.findings.length, events, coverage, problems, errors: run.errors, keys: run.findings.map((f) => f.evidence_key) };
  } finally {
    await session.close();
  }
}

describe('Use case: columnar once (derived Parquet per source and day)', () => {
  it('materialises once, and a later detect reads the recorded Parquet set: no new derived entry, the same findings and coverage', async () => {
    // Prepare
    const { locker } = await collectedCase();

    // Act
    const first = await detect(locker);
    const afterFirst = await entries(locker);
    const second = await detect(locker);
    const afterSecond = await entries(locker);
    const originals = [...(await CustodyLedger.open(await LocalObjectStore.open(locker), 'c')).items().values()].filter((i) => !i.key.includes('/_amber/'));

    // Assess
    const sets = columnarSets(afterFirst);
    expect(sets).toHaveLength(1);
    const files = sets[0]!.items!.filter((i) => i.key.endsWith('.parquet')).map((i) => i.key.replace(/^.*\/columnar\/[0-9a-f]{16}-[0-9a-f]{8}\//, ''));
    // One file per source and event day: the synthetic CloudTrail spans 1-3 March 2024, the flow log its own day.
    expect(files.filter((f) => f.startsWith('cloudtrail/'))).toEqual(['cloudtrail/2024-03-01.parquet', 'cloudtrail/2024-03-02.parquet', 'cloudtrail/2024-03-03.parquet']);
    expect(files.some((f) => f.startsWith('vpc_flow_logs/'))).toBe(true);
    expect(sets[0]!.detail).toMatchObject({ inputs: originals.length, inputsSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(first.events.cloudtrail).toBe(600);
    expect(first.events.vpc_flow_logs).toBeGreaterThan(0);
    expect(first.count).toBeGreaterThan(0);
    expect(first.columnar).toEqual({ set: sets[0]!.seq, materialised: true });
    expect(second.columnar).toEqual({ set: sets[0]!.seq, materialised: false });
    expect(afterSecond.filter((e) => e.action === 'derived')).toHaveLength(afterFirst.filter((e) => e.action === 'derived').length);
    expect(second.findings).toBe(first.findings);
    expect(second.events).toEqual(first.events);
    expect(second.coverage).toEqual(first.coverage);
    expect(first.problems).toContainEqual(expect.objectContaining({ key: expect.stringMatching(/_8f9a0b1c\.log$/), record: expect.any(Number) }));
    expect(second.problems).toEqual(first.problems);
    expect(second.coverage.records.rejected).toBeGreaterThan(0);
  });

  it('refuses a Parquet file changed in the locker with exit 3, naming it, and analyses nothing', async () => {
    // Prepare
    const { cwd, locker } = await collectedCase();
    expect((await runCli(['detect', '--case', 'c', '--locker', locker, '--json'], { cwd })).code).toBe(0);
    const set = columnarSets(await entries(locker))[0]!;
    const target = set.items!.find((i) => i.key.endsWith('cloudtrail/2024-03-02.parquet'))!;
    const path = (await LocalObjectStore.open(locker)).pathOf(target.key);
    await makeWritable(path);
    const bytes = await readFile(path);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(path, bytes);

    // Act
    const run = await runCli(['detect', '--case', 'c', '--locker', locker, '--json'], { cwd });

    // Assess
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(target.key);
    expect(run.stderr).toMatch(/altered/);
    expect(run.stdout).not.toMatch(/"findings"/);
  });

  it('still refuses with exit 3 an original altered after the set was made, though it is no longer parsed', async () => {
    // Prepare
    const { cwd, locker } = await collectedCase();
    expect((await runCli(['detect', '--case', 'c', '--locker', locker], { cwd })).code).toBe(0);
    const store = await LocalObjectStore.open(locker);
    const original = [...(await CustodyLedger.open(store, 'c')).items().values()].find((i) => i.key.endsWith('.json.gz'))!;
    await makeWritable(store.pathOf(original.key));
    await appendFile(store.pathOf(original.key), ' ');

    // Act
    const run = await runCli(['detect', '--case', 'c', '--locker', locker, '--json'], { cwd });

    // Assess
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${original.key}: altered`);
    expect(run.stdout).toBe('');
  });

  it('materialises a new set when a later collect adds objects, and its findings include the new events', async () => {
    // Prepare
    const { cwd, locker } = await collectedCase();
    const before = await detect(locker);
    const more = join(cwd, 'more', 'AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/05');
    await mkdir(more, { recursive: true });
    await writeFile(join(more, '111122223333_CloudTrail_us-east-1_20240305T1000Z_stop.json.gz'), stopLogging());
    expect((await runCli(['collect', '--case', 'c', '--from', join(cwd, 'more'), '--locker', locker], { cwd })).code).toBe(0);

    // Act
    const after = await detect(locker);

    // Assess
    const sets = columnarSets(await entries(locker));
    expect(sets).toHaveLength(2);
    expect(sets[1]!.detail!.identity).not.toBe(sets[0]!.detail!.identity);
    // Write-once: the first set's files are still recorded and preserved, under their own keys.
    const firstKeys = new Set(sets[0]!.items!.map((i) => i.key));
    expect(sets[1]!.items!.filter((i) => firstKeys.has(i.key))).toEqual([]);
    expect(sets[1]!.items!.map((i) => i.key)).toContainEqual(expect.stringMatching(/cloudtrail\/2024-03-05\.parquet$/));
    expect(after.events.cloudtrail).toBe(before.events.cloudtrail! + 1);
    expect(after.keys).toContainEqual(expect.stringMatching(/_stop\.json\.gz$/));
    expect(before.keys).not.toContainEqual(expect.stringMatching(/_stop\.json\.gz$/));
    const verify = await runCli(['verify', '--case', 'c', '--locker', locker], { cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('gives byte-identical findings whatever the thread count that materialised or reads the set', async () => {
    // Prepare
    const one = await collectedCase();
    const two = await collectedCase();

    // Act: one case materialised on 1 thread, read on 2; the other materialised on 2 threads.
    const firstOne = await detect(one.locker, 1);
    const againTwo = await detect(one.locker, 2);
    const firstTwo = await detect(two.locker, 2);

    // Assess
    expect(againTwo.findings).toBe(firstOne.findings);
    expect(firstTwo.findings).toBe(firstOne.findings);
    expect(firstTwo.errors).toEqual([]);
  });
});
