/** Reading a user's Sigma rules folder: what runs, and the reason for each rule document that does not. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSigmaRules } from '../../../shared/sigma/rules.ts';
import { tempDir } from '../../helpers/tmp.ts';

const base = (id: string, extra = ''): string => `title: Rule ${id}
id: ${id}
${extra}logsource: {product: aws, service: cloudtrail}
detection:
  selection: {eventName: DeleteTrail}
  condition: selection
`;

describe('Function: loadSigmaRules', () => {
  it('compiles every document of every .yml under the folder and lists the rest with their reason', async () => {
    const dir = await tempDir('amber-sigma-rules-');
    await mkdir(join(dir, 'nested'), { recursive: true });
    await writeFile(join(dir, 'a.yml'), base('a1', 'level: critical\ntags: [attack.defense-evasion, attack.t1562.008]\n'));
    await writeFile(join(dir, 'nested', 'b.yaml'), `${base('b1', 'name: b_base\n')}---\ntitle: Many trail deletions\nid: b2\ncorrelation:\n  type: event_count\n  rules: [b_base]\n  timespan: 10m\n  condition: {gte: 3}\n`);
    await writeFile(join(dir, 'c.yml'), base('c1', 'status: deprecated\n'));
    await writeFile(join(dir, 'd.yml'), 'title: [unclosed\n');
    await writeFile(join(dir, 'notes.txt'), 'not a rule');

    const set = await loadSigmaRules(dir);

    expect(set.entries.map((e) => [e.file, e.id, e.status])).toEqual([
      ['a.yml', 'a1', 'ok'],
      ['c.yml', 'c1', 'unsupported'],
      ['d.yml', 'd.yml', 'unsupported'],
      ['nested/b.yaml', 'b1', 'ok'],
      ['nested/b.yaml', 'b2', 'unsupported'],
    ]);
    const reason = (id: string): string | null | undefined => set.entries.find((e) => e.id === id)?.reason;
    expect(reason('c1')).toMatch(/Sigma status is deprecated/);
    expect(reason('d.yml')).toMatch(/^d\.yml: not valid YAML/);
    expect(reason('b2')).toMatch(/correlation rules .* are not compiled yet/);
    expect(set.detections.map((d) => [d.id, d.severity, d.mitre, d.table])).toEqual([
      ['sigma:a1', 'critical', ['T1562.008'], 'cloudtrail'],
      ['sigma:b1', 'medium', [], 'cloudtrail'],
    ]);
  });
});
