/** `amber detect` says how much of the case it analysed, so "0 findings" never hides "nothing was read". */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

async function caseOf(files: Record<string, string>): Promise<string> {
  const cwd = await tempDir();
  for (const [name, body] of Object.entries(files)) {
    await mkdir(dirname(join(cwd, 'src', name)), { recursive: true });
    await writeFile(join(cwd, 'src', name), body);
  }
  expect((await runCli(['collect', '--case', 'k', '--from', 'src'], { cwd })).code).toBe(0);
  return cwd;
}

const rec = (name: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '1.09', eventTime: '2026-11-20T01:00:00Z', eventSource: 'iam.amazonaws.com', eventName: name, awsRegion: 'us-east-1', eventID: name, ...extra,
});

describe('CLI: amber detect coverage', () => {
  it('says unmistakably that nothing was analysed when no object is in a format Amber parses', async () => {
    const cwd = await caseOf({ 'notes.txt': 'meeting notes\n', 'photo.bin': '\u0001\u0002', 'table.csv': 'a,b\n1,2\n' });
    const text = await runCli(['detect', '--case', 'k'], { cwd });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/NOTHING ANALYSED: 0 of 3 objects analysed: nothing Amber parses \(3 unrecognised\)/);
    const json = JSON.parse((await runCli(['detect', '--case', 'k', '--json'], { cwd })).stdout);
    expect(json.coverage).toEqual({
      objects: { total: 3, analysed: 0, unrecognised: 3, unparsable: 0, digests: 0, derived: 0 },
      records: { loaded: 0, rejected: 0 },
      sources: {},
    });
  });

  it('counts objects analysed, unrecognised and unparsable, and records loaded and set aside, per source', async () => {
    const day = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20';
    const cwd = await caseOf({
      [`${day}/a.json`]: JSON.stringify({ Records: [rec('A'), rec('B'), rec('C', { userIdentity: 'x' })] }),
      'shipped.jsonl': `${JSON.stringify(rec('D'))}\n{broken\n`,
      'broken.json': '{"Records": [',
      'notes.txt': 'hello\n',
    });
    const json = JSON.parse((await runCli(['detect', '--case', 'k', '--json'], { cwd })).stdout);
    expect(json.coverage.objects).toEqual({ total: 4, analysed: 2, unrecognised: 1, unparsable: 1, digests: 0, derived: 2 });
    expect(json.coverage.records).toEqual({ loaded: 3, rejected: 2 });
    expect(json.coverage.sources).toEqual({ cloudtrail: { objects: 2, records: { loaded: 3, rejected: 2 } } });
    const text = (await runCli(['detect', '--case', 'k'], { cwd })).stdout;
    expect(text).toMatch(/coverage: 2 of 4 objects analysed \(1 unrecognised, 1 unparsable\); 3 records loaded, 2 set aside/);
    expect(text).toMatch(/ {4}cloudtrail: 2 objects, 3 records loaded, 2 set aside/);
  });
});
