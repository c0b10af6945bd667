import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseTriageOutput, TRIAGE_SECTIONS, triageScript } from '../../../../shared/preservation/triage/output.ts';

describe('triage script: linux.sh', () => {
  it('runs with sh on this machine and prints every section, closed, then the closing marker', async () => {
    const script = await triageScript('linux');
    const out = execFileSync('sh', ['-c', script.bytes.toString('utf8')], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const parsed = parseTriageOutput(out);
    expect(parsed.sections.map((s) => s.name)).toEqual([...TRIAGE_SECTIONS]);
    expect(parsed.sections.every((s) => s.rc !== undefined)).toBe(true);
    expect(parsed.complete).toBe(true);
    expect(parsed.problems).toEqual([]);
    // This very test's process shows up with its executable hashed.
    const exes = parsed.sections.find((s) => s.name === 'process-executables')!.text;
    expect(exes).toMatch(new RegExp(`^${process.pid}\\t[0-9a-f]{64}\\t\\S+`, 'm'));
  });

  it('prints the windows sections in the same order, framed the same way', async () => {
    const text = (await triageScript('windows')).bytes.toString('utf8');
    const named = [...text.matchAll(/^Section '([a-z-]+)'/gm)].map((m) => m[1]);
    expect(named).toEqual([...TRIAGE_SECTIONS]);
  });
});

describe('parseTriageOutput', () => {
  it('names the section an output cut short left open, and the missing closing marker', () => {
    const parsed = parseTriageOutput('=== amber-section host begin ===\nhostname: web-1\n=== amber-section host end rc=0 ===\n=== amber-section processes begin ===\n1 0 root init\n');
    expect(parsed.sections).toEqual([
      { name: 'host', line: 1, text: 'hostname: web-1', rc: 0 },
      { name: 'processes', line: 4, text: '1 0 root init' },
    ]);
    expect(parsed.complete).toBe(false);
    expect(parsed.problems).toEqual([
      'end of output: section processes (line 4) was never closed (output cut short)',
      'end of output: the closing marker is missing (the script did not run to its end)',
    ]);
  });
});
