/**
 * The Azure timer function: the detection catalogue on embedded DuckDB over each case of the evidence store,
 * findings JSON written to the store, `accessed` entries in the cited cases' ledgers, tampered cases refused.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvocationContext, type Timer } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { bundledCatalogue } from '../../../functions/aws/bundled-catalogue.ts';
import { detectCases, scheduledTimeFor } from '../../../functions/azure/detect-cases.ts';
import { runDetectionsHandler } from '../../../functions/azure/handlers/run-detections.ts';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { TEST_ACTOR } from '../../helpers/case.ts';
import { makeWritable, tempDir } from '../../helpers/tmp.ts';

const FIXTURE = resolve(import.meta.dirname, '../../../shared/detections/iam-admin-permissions-granted/fixtures/match.json');
// The fixture's event is at 2026-03-14T10:00:00Z; a run at 11:20 is scheduled at 11:00 and looks back over 10:00-11:00.
const AT = new Date('2026-03-14T11:20:00Z');

async function storeWithCases(names: string[]): Promise<LocalObjectStore> {
  const base = await tempDir('amber-azdetect-');
  const src = join(base, 'src', 'AWSLogs', '111122223333', 'CloudTrail', 'us-east-1', '2026', '03', '14');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, '111122223333_CloudTrail_us-east-1_20260314T1000Z_synthetic.json'), await readFile(FIXTURE));
  const store = await LocalObjectStore.open(join(base, 'locker'), { create: true });
  for (const caseName of names) {
    await collectEvidence({ store, caseName, sources: [await LocalEvidenceSource.open(join(base, 'src'))], actor: TEST_ACTOR });
  }
  return store;
}

const options = (store: LocalObjectStore) => ({ store, catalogue: bundledCatalogue(), actor: { principal: 'azure-mi:func-amber', tool: 'amber/test' }, window: 'PT1H', clock: () => AT, threads: 1 });

describe('Azure timer: detections over the preserved objects of the window', () => {
  it('writes the findings JSON and records an accessed entry in the case the findings cite', async () => {
    const store = await storeWithCases(['c1']);
    expect(scheduledTimeFor(AT, 'PT1H')).toBe('2026-03-14T11:00:00.000Z');
    const [run] = await detectCases(options(store));

    expect(run!.status).toBe('analysed');
    if (run!.status !== 'analysed') return;
    expect(run!.result.window).toEqual({ since: '2026-03-14T10:00:00.000Z', until: '2026-03-14T11:00:00.000Z' });
    const doc = JSON.parse((await store.readText(run!.result.findingsKey))!) as { findings: { detection: string; evidence_key: string; evidence_sha256: string }[] };
    const finding = doc.findings.find((f) => f.detection === 'iam-admin-permissions-granted');
    expect(finding).toBeDefined();
    const ledger = await CustodyLedger.open(store, 'c1');
    expect(finding!.evidence_sha256).toBe(ledger.items().get(finding!.evidence_key)!.sha256);
    const accessed = ledger.entries.at(-1)!;
    expect(accessed.action).toBe('accessed');
    expect(accessed.detail).toMatchObject({ step: 'run-detections', findingsKey: run!.result.findingsKey, findingsSha256: run!.result.findingsSha256 });
  });

  it('a retried run in the same hour writes the same findings and records nothing twice', async () => {
    const store = await storeWithCases(['c1']);
    const [first] = await detectCases(options(store));
    const entries = (await CustodyLedger.open(store, 'c1')).entries.length;
    const [second] = await detectCases(options(store));

    expect(first!.status === 'analysed' && second!.status === 'analysed').toBe(true);
    if (first?.status !== 'analysed' || second?.status !== 'analysed') return;
    expect(second.result.runId).toBe(first.result.runId);
    expect(second.result.findingsSha256).toBe(first.result.findingsSha256);
    expect(second.result.created).toBe(false);
    expect((await CustodyLedger.open(store, 'c1')).entries.length).toBe(entries);
  });

  it('a case whose evidence was altered is not analysed and fails the invocation; the other cases are', async () => {
    const store = await storeWithCases(['c1', 'c2']);
    const ledger = await CustodyLedger.open(store, 'c2');
    const key = [...ledger.items().keys()][0]!;
    await makeWritable(store.pathOf(key));
    await writeFile(store.pathOf(key), '{"Records":[]}');
    const logs: string[] = [];
    const context = new InvocationContext({ invocationId: 'inv-t', functionName: 'run-detections', logHandler: (_l, ...a) => logs.push(a.map(String).join(' ')) });
    const timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } } satisfies Timer;

    await expect(runDetectionsHandler(async () => options(store))(timer, context)).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringContaining(key) });
    expect(logs.join('\n')).toContain('"case":"c1"');
    expect(logs.some((l) => l.includes('case analysed') && l.includes('"case":"c1"'))).toBe(true);
    // Nothing was recorded in the altered case.
    expect((await CustodyLedger.open(store, 'c2')).entries.length).toBe(ledger.entries.length);
  });
});
