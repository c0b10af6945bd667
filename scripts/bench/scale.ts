/**
 * bench:scale — the whole CLI at N events, each step a child process of the real `amber` (the bundle), with its
 * wall time, its peak RSS measured from the child (`/usr/bin/time -v` when present, else the child's own
 * process.resourceUsage().maxRSS), the size of what it wrote, and its time against ONE plain DuckDB scan of the
 * same preserved files measured in the same run (itself a child, so its peak RSS is comparable).
 *
 *   npm run bench:scale [-- --events 1000000 --flows 100000 --files 500 --dir .bench/scale --keep]
 *   npm run bench:scale -- --events 10000000 --generate-only   (write the inputs once; later runs reuse them)
 *
 * The generated inputs (`<dir>/src`) are kept with the parameters they were made with and reused by a later run
 * with the same parameters: at 10M events generating them takes far longer than any step measured.
 *
 * Synthetic CloudTrail from the project's generator (test/helpers/cloudtrail-synth.ts) plus VPC flow logs
 * (default format, S3 delivery layout) from a seeded generator here. Prints figures; asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createRng, writeSyntheticCloudTrail } from '../../test/helpers/cloudtrail-synth.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    flows: { type: 'string' },
    files: { type: 'string' },
    dir: { type: 'string', default: '.bench/scale' },
    keep: { type: 'boolean' },
    'generate-only': { type: 'boolean' },
  },
});
const events = Number(values.events);
const flows = Number(values.flows ?? Math.round(events / 10));
const files = Number(values.files ?? Math.max(1, Math.round(events / 2000)));
const dir = resolve(values.dir!);
const locker = join(dir, 'locker');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Step {
  readonly name: string;
  readonly seconds: number;
  /** Peak resident set size of the child, in MB. */
  readonly rssMb: number;
  readonly output: string;
  readonly code: number;
}

/** Runs `node args...` as a child, measuring its wall time and peak RSS; stdout to `stdoutFile` (or discarded). */
async function measured(name: string, args: readonly string[], stdoutFile?: string): Promise<Omit<Step, 'output'>> {
  const rssFile = join(dir, `.rss-${name}`);
  const command = TIME ? [TIME, '-v', process.execPath, ...args] : [process.execPath, '--import', join(ROOT, 'scripts/bench/rss-report.mjs'), ...args];
  const t0 = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd: dir,
    env: { ...process.env, AMBER_ACTOR: 'bench@scale', AMBER_BENCH_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    if (stdoutFile) out.push(b);
  });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
    if (err.length > 1_000_000) err = err.slice(-100_000);
  });
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 1)));
  const seconds = (performance.now() - t0) / 1000;
  if (stdoutFile) await writeFile(stdoutFile, Buffer.concat(out));
  const kb = TIME ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1]) : Number(await readFile(rssFile, 'utf8').catch(() => 'NaN'));
  if (code !== 0) console.error(`  ${name} exited ${code}: ${err.split('\n').filter((l) => l && !/^\t/.test(l)).slice(-5).join('\n  ')}`);
  return { name, seconds, rssMb: kb / 1024, code };
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const size = async (path: string): Promise<number> => (await stat(path).catch(() => ({ size: 0 }))).size;

/** VPC flow logs, default format (version 2), in the S3 delivery layout, gzip: mostly internal, some to the internet. */
async function writeFlowLogs(root: string, records: number, fileCount: number): Promise<number> {
  const rng = createRng(7);
  const account = '111122223333';
  const start = Date.parse('2024-03-01T00:00:00Z') / 1000;
  const span = 72 * 3600;
  let bytes = 0;
  for (let f = 0; f < fileCount; f++) {
    const n = Math.floor(records / fileCount) + (f < records % fileCount ? 1 : 0);
    const t = start + Math.floor((span * f) / fileCount);
    const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
    for (let i = 0; i < n; i++) {
      const internal = rng() < 0.8;
      const src = `10.0.${Math.floor(rng() * 4)}.${1 + Math.floor(rng() * 50)}`;
      const dst = internal ? `10.0.${Math.floor(rng() * 4)}.${1 + Math.floor(rng() * 50)}` : `${[52, 3, 198, 203][Math.floor(rng() * 4)]}.${Math.floor(rng() * 255)}.${Math.floor(rng() * 255)}.${1 + Math.floor(rng() * 254)}`;
      const port = [443, 22, 5432, 3389, 80, 8080][Math.floor(rng() * 6)];
      const s = t + Math.floor(rng() * 600);
      lines.push(`2 ${account} eni-0a1b2c3d4e5f6${String(f % 10).padStart(4, '0')} ${src} ${dst} ${1024 + Math.floor(rng() * 60000)} ${port} 6 ${1 + Math.floor(rng() * 100)} ${40 + Math.floor(rng() * 100000)} ${s} ${s + 60} ${rng() < 0.9 ? 'ACCEPT' : 'REJECT'} OK`);
    }
    const at = new Date(t * 1000).toISOString();
    const stamp = at.slice(0, 16).replace(/[-:]/g, '');
    const path = join(root, 'AWSLogs', account, 'vpcflowlogs', 'us-east-1', at.slice(0, 4), at.slice(5, 7), at.slice(8, 10), `${account}_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60718_${stamp}Z_${String(f).padStart(8, '0')}.log.gz`);
    await mkdir(dirname(path), { recursive: true });
    const gz = gzipSync(`${lines.join('\n')}\n`);
    await writeFile(path, gz);
    bytes += gz.length;
  }
  return bytes;
}

/** Every file under `root`. */
async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out.sort();
}

const srcDir = join(dir, 'src');
const params = JSON.stringify({ events, flows, files, generator: 1 });
const paramsFile = join(dir, 'src.params.json');
const reuse = (await readFile(paramsFile, 'utf8').catch(() => '')) === params;
// Everything but reusable inputs starts afresh: the locker and the outputs of an earlier run.
for (const e of await readdir(dir).catch(() => [] as string[])) {
  if (reuse && (e === 'src' || e === 'src.params.json')) continue;
  await rm(join(dir, e), { recursive: true, force: true });
}
await mkdir(dir, { recursive: true });
console.log(`bench:scale  ${events} CloudTrail events in ${files} files + ${flows} VPC flow records; peak RSS by ${TIME ? '/usr/bin/time -v' : 'process.resourceUsage().maxRSS in each child'}`);
// The bundle, as `amber` runs it (a stale bundle would run the sources through tsx and measure that instead).
const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'scripts/build/cli.ts')], { cwd: ROOT, stdio: 'ignore' });
if (build.status !== 0) console.log('  (the CLI bundle did not build: amber runs the sources through tsx, so times include compiling)');
if (reuse) {
  console.log(`  reusing the inputs generated earlier with the same parameters (${srcDir})`);
} else {
  const t0 = performance.now();
  const synth = await writeSyntheticCloudTrail({ dir: srcDir, events, files });
  const flowBytes = flows > 0 ? await writeFlowLogs(srcDir, flows, Math.max(1, Math.round(flows / 5000))) : 0;
  await writeFile(paramsFile, params);
  console.log(`  generated ${mb(synth.bytes + flowBytes)} of gzip in ${((performance.now() - t0) / 1000).toFixed(1)} s (CloudTrail ${mb(synth.bytes)}, flow logs ${mb(flowBytes)})`);
}
if (values['generate-only']) process.exit(0);

const amber = join(ROOT, 'scripts/amber.mjs');
const steps: Step[] = [];
const run = async (name: string, args: readonly string[], output: () => Promise<string>, stdoutFile?: string): Promise<void> => {
  const s = await measured(name, [amber, ...args, '--locker', locker], stdoutFile);
  steps.push({ ...s, output: await output() });
  // Progress: each step as it ends (the table follows at the end).
  console.log(`  ${name}: ${s.seconds.toFixed(1)} s, peak RSS ${s.rssMb.toFixed(0)} MB`);
};

await run('collect', ['collect', '--case', 'scale', '--from', join(dir, 'src', 'AWSLogs'), '--json'], async () => `${(await walk(join(dir, 'src'))).length} objects`);
// The baseline: the cheapest full read DuckDB does of the same preserved files (every CloudTrail Records array
// parsed and counted; every flow log line counted), in a child of its own.
const preserved = await walk(join(locker, 'cases', 'scale'));
const list = (re: RegExp): string => preserved.filter((p) => re.test(p)).map((p) => `'${p.replace(/'/g, "''")}'`).join(', ');
const ct = list(/CloudTrail\/.*\.json\.gz$/);
const fl = list(/vpcflowlogs\/.*\.log\.gz$/);
const duckdb = pathToFileURL(createRequire(import.meta.url).resolve('@duckdb/node-api')).href;
const scanJs = `import { DuckDBInstance } from '${duckdb}';
const db = await DuckDBInstance.create(':memory:'); const c = await db.connect();
const a = await c.runAndReadAll(\`SELECT count(*) FROM (SELECT unnest(Records) FROM read_json([${ct.replace(/`/g, '\\`')}], columns = {Records: 'JSON[]'}, format = 'unstructured', maximum_object_size = 268435456))\`);
${fl ? `const b = await c.runAndReadAll(\`SELECT count(*) FROM read_csv([${fl.replace(/`/g, '\\`')}], delim = ' ', header = true, all_varchar = true)\`);` : ''}
console.log(String(a.getRows()[0][0]));`;
await writeFile(join(dir, 'scan.mjs'), scanJs);
const scan = await measured('scan', [join(dir, 'scan.mjs')]);
console.log(`  one DuckDB scan: ${scan.seconds.toFixed(1)} s, peak RSS ${scan.rssMb.toFixed(0)} MB`);
await run('verify', ['verify', '--case', 'scale', '--json'], async () => '');
await run('detect', ['detect', '--case', 'scale', '--json', '--out', join(dir, 'findings.jsonl')], async () => {
  const lines = (await readFile(join(dir, 'findings.jsonl'), 'utf8')).split('\n').filter(Boolean).length;
  return `${lines} findings, ${mb(await size(join(dir, 'findings.jsonl')))} JSONL + ${mb(await size(join(dir, 'detect.json')))} --json`;
}, join(dir, 'detect.json'));
await run('timeline', ['timeline', '--case', 'scale', '--format', 'csv', '--out', join(dir, 'timeline.csv')], async () => `${mb(await size(join(dir, 'timeline.csv')))} CSV`);
await run('report', ['report', '--case', 'scale', '--out', join(dir, 'report.html')], async () => `${mb(await size(join(dir, 'report.html')))} HTML`);

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`\n${pad('step', 10)}${pad('wall s', 10)}${pad('peak RSS', 12)}${pad('x scan', 9)}output`);
console.log(`${pad('scan', 10)}${pad(scan.seconds.toFixed(2), 10)}${pad(`${scan.rssMb.toFixed(0)} MB`, 12)}${pad('1.00', 9)}one plain DuckDB scan of the preserved files${scan.code ? ` (exit ${scan.code})` : ''}`);
for (const s of steps) {
  console.log(`${pad(s.name, 10)}${pad(s.seconds.toFixed(2), 10)}${pad(`${s.rssMb.toFixed(0)} MB`, 12)}${pad((s.seconds / scan.seconds).toFixed(2), 9)}${s.output}${s.code ? `  (exit ${s.code})` : ''}`);
}
const worst = Math.max(...steps.map((s) => s.rssMb));
console.log(`\nlargest peak RSS of a step: ${worst.toFixed(0)} MB (target under 2048 MB at any event count)`);
if (!values.keep) await rm(dir, { recursive: true, force: true });
