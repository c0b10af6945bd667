import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../../shared/errors.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCaseTables } from '../../../shared/sources/case-tables.ts';
import { VerifiedInputs } from '../../../shared/sources/verified-inputs.ts';
import { caseWith, TEST_ACTOR } from '../../helpers/case.ts';

const rec = (name: string, i = 0): Record<string, unknown> => ({
  eventVersion: '1.09',
  eventTime: `2026-11-20T01:0${i}:00Z`,
  eventSource: 'iam.amazonaws.com',
  eventName: name,
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.9',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/u', accountId: '111122223333' },
  eventID: `id-${name}-${i}`,
});
const DAY = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20';

async function reload(store: Awaited<ReturnType<typeof caseWith>>['store']) {
  const ledger = await CustodyLedger.open(store, 'c');
  const engine = await DuckDbQueryEngine.create();
  try {
    return await loadCaseTables({ store, ledger, engine, actor: TEST_ACTOR });
  } finally {
    await engine.close();
  }
}

async function tamper(path: string, body: Buffer | string): Promise<void> {
  await chmod(path, 0o644);
  await writeFile(path, body);
}

describe('Verified inputs: every object analysed is checked against its custody record first', () => {
  it('refuses to analyse a case with an altered and a missing object, naming both', async () => {
    const { store, ledger } = await caseWith({
      [`${DAY}/a.json.gz`]: gzipSync(JSON.stringify({ Records: [rec('ListUsers')] })),
      [`${DAY}/b.json`]: JSON.stringify({ Records: [rec('GetUser')] }),
      'other.jsonl': `${JSON.stringify(rec('StopLogging'))}\n`,
    });
    const keyOf = (suffix: string): string => [...ledger.items().values()].find((i) => i.key.endsWith(suffix))!.key;
    await tamper(store.pathOf(keyOf('b.json')), JSON.stringify({ Records: [rec('Forged')] }));
    await rm(store.pathOf(keyOf('other.jsonl')), { force: true });
    const failure = await reload(store).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(IntegrityError);
    expect((failure as IntegrityError).exitCode).toBe(3);
    expect((failure as Error).message).toContain(`${keyOf('b.json')}: altered`);
    expect((failure as Error).message).toContain(`${keyOf('other.jsonl')}: missing`);
    expect((failure as Error).message).not.toMatch(/a\.json\.gz/);
  });

  it('checks Amber\'s derived copies too: an edited derived NDJSON stops the analysis', async () => {
    const { store, ledger } = await caseWith({ 'shipped.jsonl': `${JSON.stringify(rec('DeleteTrail'))}\n` });
    const derived = [...ledger.items().values()].find((i) => i.derivedFrom)!;
    expect(derived.key).toMatch(/_amber\/derived\/cloudtrail\//);
    await tamper(store.pathOf(derived.key), gzipSync(`${JSON.stringify({ evidence_key: 'x', evidence_record: 0, record: rec('Forged') })}\n`));
    await expect(reload(store)).rejects.toThrow(new RegExp(`${derived.key.replace(/[.]/g, '\\.')}: altered`));
  });

  it('analyses the bytes it hashed: a change to the locker after the check does not reach the private copy', async () => {
    const original = JSON.stringify({ Records: [rec('ListUsers')] });
    const { store, ledger } = await caseWith({ [`${DAY}/a.json`]: original });
    const item = [...ledger.items().values()].find((i) => i.key.endsWith('a.json'))!;
    const inputs = await VerifiedInputs.open(store, [item]);
    try {
      await tamper(store.pathOf(item.key), JSON.stringify({ Records: [rec('Forged')] }));
      const copy = inputs.get(item.key)!;
      expect(await readFile(copy.path, 'utf8')).toBe(original);
      expect((await stat(inputs.dir)).mode & 0o777).toBe(0o700);
    } finally {
      await inputs.close();
    }
    await expect(stat(inputs.dir)).rejects.toThrow(/ENOENT/);
  });

  it('loads an intact case as before, and leaves no private copy behind', async () => {
    const { tables } = await caseWith({ [`${DAY}/a.json.gz`]: gzipSync(JSON.stringify({ Records: [rec('ListUsers'), rec('GetUser', 1)] })) });
    expect(tables.events.cloudtrail).toBe(2);
    expect(tables.coverage.objects).toMatchObject({ total: 1, analysed: 1, unrecognised: 0, unparsable: 0 });
  });
});
