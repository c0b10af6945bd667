/**
 * Hostile files (issue 10): nesting that crashed DuckDB's recursive reader, a record too large to parse whole, and
 * a gzip bomb. Built synthetically at modest sizes with the limits lowered, as a responder can lower or raise them.
 * Each is reported naming its object and record, and the case's other evidence is still analysed.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INPUT_LIMITS, InputScanner } from '../../../shared/sources/input-scan.ts';
import { caseWith } from '../../helpers/case.ts';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const rec = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  eventVersion: '1.09',
  eventTime: '2026-11-20T01:00:00Z',
  eventSource: 'iam.amazonaws.com',
  eventName: name,
  awsRegion: 'us-east-1',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/u' },
  eventID: `id-${name}`,
  ...extra,
});
const DAY = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20';
const GOOD = { [`${DAY}/good.json`]: JSON.stringify({ Records: [rec('ListUsers'), rec('GetUser')] }) };
const KIB = 1024;

type Loaded = Awaited<ReturnType<typeof caseWith>>;
const keyEnding = (loaded: Loaded, suffix: string): string => [...loaded.ledger.items().values()].find((i) => !i.derivedFrom && i.key.endsWith(suffix))!.key;
const problemsOf = (loaded: Loaded, suffix: string) => loaded.tables.problems.filter((p) => p.key === keyEnding(loaded, suffix));

describe('Hostile files: reported, never fatal, memory bounded', () => {
  it('reports 100k nested brackets after {"Records":[ as too deep, naming the file and record, and analyses the rest', async () => {
    const deep = Buffer.concat([Buffer.from('{"Records":['), Buffer.alloc(100_000, '[')]);
    const loaded = await caseWith({ ...GOOD, [`${DAY}/deep.json`]: deep, [`${DAY}/deep2.json.gz`]: gzipSync(Buffer.concat([Buffer.from('{"Records":[{"a":'), Buffer.from('{"a":'.repeat(50_000))])) });
    expect(problemsOf(loaded, 'deep.json')).toEqual([{ key: keyEnding(loaded, 'deep.json'), record: 0, reason: expect.stringMatching(/^record 0 nests deeper than 64 levels \(limit maxDepth\); it was not read/) }]);
    expect(problemsOf(loaded, 'deep2.json.gz')[0]).toMatchObject({ record: 0, reason: expect.stringMatching(/nests deeper than 64 levels/) });
    expect(loaded.tables.events.cloudtrail).toBe(2);
    expect(loaded.tables.coverage.objects).toMatchObject({ total: 3, analysed: 1, unparsable: 2 });
  });

  it('sets aside a record over the record and field limits, by index, and loads the file\'s other records', async () => {
    const big = rec('Huge', { requestParameters: { blob: 'a'.repeat(300 * KIB) } });
    const file = gzipSync(JSON.stringify({ Records: [rec('Before'), big, rec('After')] }));
    const loaded = await caseWith({ ...GOOD, [`${DAY}/big.json.gz`]: file }, { limits: { maxRecordBytes: 256 * KIB, maxFieldBytes: 64 * KIB } });
    const [problem] = problemsOf(loaded, 'big.json.gz');
    expect(problem).toMatchObject({ record: 1 });
    expect(problem!.reason).toMatch(/^record 1 is \d+ bytes, over the 262144-byte record limit \(limit maxRecordBytes\); has a string field of 307200 bytes, over the 65536-byte field limit/);
    const rows = await loaded.engine.query<{ e: string; r: number }>(`SELECT eventname AS e, evidence_record AS r FROM cloudtrail WHERE evidence_key = '${keyEnding(loaded, 'big.json.gz')}' ORDER BY r`);
    expect(rows).toEqual([{ e: 'Before', r: 0 }, { e: 'After', r: 2 }]);
  });

  it('reports a gzip bomb of zeros inflating to exactly the limit, and one a byte over it, and analyses the rest', async () => {
    const limit = 4 * 1024 * KIB;
    const loaded = await caseWith(
      { ...GOOD, 'bomb-at-limit.gz': gzipSync(Buffer.alloc(limit)), 'bomb-over.gz': gzipSync(Buffer.alloc(limit + 1)) },
      { limits: { maxInflatedBytes: limit } },
    );
    expect(problemsOf(loaded, 'bomb-at-limit.gz')).toEqual([
      { key: keyEnding(loaded, 'bomb-at-limit.gz'), record: 0, reason: `record 0 (line 1) is ${limit} bytes, over the ${DEFAULT_INPUT_LIMITS.maxRecordBytes}-byte record limit (limit maxRecordBytes); it was not read` },
    ]);
    expect(problemsOf(loaded, 'bomb-over.gz')).toEqual([
      { key: keyEnding(loaded, 'bomb-over.gz'), reason: `inflates to more than ${limit} bytes (limit maxInflatedBytes; possible gzip bomb); it was not read` },
    ]);
    expect(loaded.tables.events.cloudtrail).toBe(2);
  });

  it('lets a responder set the limits for `amber detect` (AMBER_MAX_RECORD_BYTES ...), and refuses a value that is not a number', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'src', DAY), { recursive: true });
    await writeFile(join(cwd, 'src', DAY, 'f.json'), JSON.stringify({ Records: [rec('A'), rec('B', { userAgent: 'x'.repeat(5000) })] }));
    expect((await runCli(['collect', '--case', 'h', '--from', 'src'], { cwd })).code).toBe(0);
    const strict = await runCli(['detect', '--case', 'h', '--json'], { cwd, env: { AMBER_MAX_FIELD_BYTES: '4096' } });
    expect(strict.code).toBe(0);
    expect(JSON.parse(strict.stdout).problems).toEqual([expect.objectContaining({ record: 1, reason: expect.stringMatching(/field limit/) })]);
    expect(JSON.parse(strict.stdout).events).toBe(1);
    const bad = await runCli(['detect', '--case', 'h'], { cwd, env: { AMBER_MAX_DEPTH: 'ten' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/AMBER_MAX_DEPTH="ten" is not a positive whole number/);
  });
});

describe('InputScanner: what a record is', () => {
  const scan = (text: string, limits = { ...DEFAULT_INPUT_LIMITS, maxRecordBytes: 20 }) => {
    const s = new InputScanner(limits, { collect: true });
    // Fed in small chunks: records and strings cross chunk boundaries.
    for (let i = 0; i < text.length; i += 3) s.push(Buffer.from(text.slice(i, i + 3)));
    return s.end();
  };

  it('numbers elements of a top-level array and of a container, and lines of JSON Lines and text', () => {
    const long = `"${'y'.repeat(30)}"`;
    expect(scan(`[1, ${long}, {"a":"b"}]`).violations.map((v) => v.record)).toEqual([1]);
    expect(scan(`{"Records":[{"a":1},${long}],"x":1}`).violations.map((v) => v.record)).toEqual([1]);
    expect(scan(`{"a":1}\n\n${long}\n{"b":2}\n`).violations.map((v) => v.record)).toEqual([2]);
    expect(scan(`short\n${'z'.repeat(30)}\nshort\n`).violations.map((v) => v.record)).toEqual([1]);
    expect(scan(`{"Records":[{"a":"x\\"]}"},${long}]}`).good!.map((g) => [g.record, g.bytes.toString()])).toEqual([[0, '{"a":"x\\"]}"}']]);
  });
});
