/**
 * bench:startup — how long `amber` takes to start, against a bare `node -e 0` measured in the same run on the
 * same machine (the floor no Node.js command can beat). Runs the installed entry point, scripts/amber.mjs,
 * as `npx amber` does; the commands take turns, round after round, so a busy machine slows them alike.
 * Target: `amber --help` <= 5x `node -e 0`.
 *
 *   npm run bench:startup [-- --runs 21]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleState } from '../bundle-state.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'scripts', 'amber.mjs');
const TARGET = 5;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '21' } } });
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of at least 1, got ${values.runs}`);

const state = bundleState(ROOT);
if (!state.current) console.log(`bench:startup  NOTE: ${state.reason}: this measures the TypeScript fallback (tsx). Run \`npm run build\` first.`);

const locker = await mkdtemp(join(tmpdir(), 'amber-bench-startup-'));
const cwd = await mkdtemp(join(tmpdir(), 'amber-bench-cwd-'));
const env = { ...process.env, AMBER_LOCKER: locker };
const commands: ReadonlyArray<{ label: string; args: string[] }> = [
  { label: 'node -e 0', args: ['-e', '0'] },
  { label: 'amber --help', args: [BIN, '--help'] },
  { label: 'amber --version', args: [BIN, '--version'] },
  { label: 'amber cases --json (empty locker)', args: [BIN, 'cases', '--json'] },
  // For comparison: what every start cost before the bundle, and what a stale bundle falls back to.
  { label: 'amber --help, sources through tsx', args: ['--import', import.meta.resolve('tsx'), join(ROOT, 'scripts', 'cli', 'bin.ts'), '--help'] },
];

const times = new Map(commands.map((c) => [c.label, [] as number[]]));
for (let round = 0; round < runs; round++) {
  for (const c of commands) {
    const t0 = process.hrtime.bigint();
    const run = spawnSync(process.execPath, c.args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (run.status !== 0) throw new Error(`${c.label} exited ${run.status}: ${run.stderr.toString()}`);
    times.get(c.label)!.push(ms);
  }
}
await rm(locker, { recursive: true, force: true });
await rm(cwd, { recursive: true, force: true });

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const floor = median(times.get('node -e 0')!);
console.log(`bench:startup  median of ${runs} runs each, node ${process.version}, ${state.current ? 'bundle dist/cli' : 'TypeScript through tsx'}`);
for (const c of commands) {
  const m = median(times.get(c.label)!);
  console.log(`  ${c.label.padEnd(36)} ${m.toFixed(0).padStart(6)} ms  ${(m / floor).toFixed(2)}x node -e 0`);
}
const help = median(times.get('amber --help')!) / floor;
console.log(`ratio amber --help / node -e 0:   ${help.toFixed(2)}  (target <= ${TARGET.toFixed(2)}: ${help <= TARGET ? 'met' : 'NOT met'})`);
