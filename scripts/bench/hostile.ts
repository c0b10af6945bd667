/**
 * bench:hostile — peak memory of `amber detect` on a generated hostile case: 100k nested `[` after
 * `{"Records":[` (once a DuckDB crash), a single-line record of --record-mb MB (gzipped; once 6.8 GB of RSS for
 * 500 MB), an all-zeros gzip bomb that inflates to exactly the inflated-size limit, and one normal delivery file.
 * `detect` runs in a child process; its exit status, wall time and peak RSS are printed, not asserted.
 *
 *   npm run bench:hostile [-- --record-mb 500 --bomb-mb 1024 --dir .bench/hostile --keep]
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createGzip, gzipSync } from 'node:zlib';

const { values } = parseArgs({
  options: {
    'record-mb': { type: 'string', default: '500' },
    'bomb-mb': { type: 'string', default: '1024' },
    dir: { type: 'string', default: '.bench/hostile' },
    keep: { type: 'boolean' },
  },
});
const recordMb = Number(values['record-mb']);
const bombMb = Number(values['bomb-mb']);
const dir = resolve(values.dir!);
const MIB = 1024 * 1024;
const amber = resolve(import.meta.dirname, '../amber.mjs');
const day = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20';

/** Streams generated chunks through gzip into a file, so neither this script nor the disk holds the inflated bytes. */
async function gzipFile(path: string, chunks: () => Generator<Buffer>): Promise<void> {
  await pipeline(Readable.from(chunks()), createGzip({ level: 1 }), createWriteStream(path));
}

function* bigRecord(): Generator<Buffer> {
  yield Buffer.from('{"Records":[{"eventVersion":"1.09","eventTime":"2026-11-20T01:00:00Z","eventName":"Huge","requestParameters":{"blob":"');
  const chunk = Buffer.alloc(MIB, 'a');
  for (let i = 0; i < recordMb; i += 1) yield chunk;
  yield Buffer.from('"}}]}');
}

function* zeros(): Generator<Buffer> {
  const chunk = Buffer.alloc(MIB);
  for (let i = 0; i < bombMb; i += 1) yield chunk;
}

/** Runs a command, sampling the child's peak RSS (VmHWM, a high-water mark) from /proc until it exits. */
async function measure(args: string[], env: Record<string, string>): Promise<{ code: number | null; seconds: number; peakMb: number; stdout: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [amber, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  let peakKb = 0;
  const sample = async (): Promise<void> => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    if (m) peakKb = Math.max(peakKb, Number(m[1]));
  };
  const timer = setInterval(() => void sample(), 20);
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  clearInterval(timer);
  return { code, seconds: (performance.now() - t0) / 1000, peakMb: peakKb / 1024, stdout };
}

await rm(dir, { recursive: true, force: true });
const src = join(dir, 'src');
await mkdir(join(src, day), { recursive: true });
const t0 = performance.now();
await writeFile(join(src, day, 'deep.json'), Buffer.concat([Buffer.from('{"Records":['), Buffer.alloc(100_000, '[')]));
await gzipFile(join(src, day, 'huge-record.json.gz'), bigRecord);
await gzipFile(join(src, 'bomb.gz'), zeros);
await writeFile(
  join(src, day, 'normal.json.gz'),
  gzipSync(JSON.stringify({ Records: [{ eventVersion: '1.09', eventTime: '2026-11-20T01:00:00Z', eventSource: 'iam.amazonaws.com', eventName: 'ListUsers', awsRegion: 'us-east-1', eventID: 'e1' }] })),
);
console.log(`bench:hostile  generated in ${((performance.now() - t0) / 1000).toFixed(1)} s: 100k nested '[', a ${recordMb} MB single-line record (gz), a ${bombMb} MiB zeros gzip bomb, one normal file`);

const locker = join(dir, 'locker');
const collect = await measure(['collect', '--case', 'hostile', '--from', src, '--locker', locker, '--json'], {});
console.log(`  collect: exit ${collect.code}, ${collect.seconds.toFixed(1)} s, peak RSS ${collect.peakMb.toFixed(0)} MB (not part of the measure)`);
// The bomb inflates to exactly the limit: it is reported like the other hostile files, not refused as too large.
const detect = await measure(['detect', '--case', 'hostile', '--locker', locker, '--json'], { AMBER_MAX_INFLATED_BYTES: String(bombMb * MIB) });
let summary: string;
try {
  const out = JSON.parse(detect.stdout) as { events: number; problems: Array<{ key: string; record?: number; reason: string }> };
  summary = `${out.events} event(s) loaded; problems:\n${out.problems.map((p) => `    ${p.key}${p.record === undefined ? '' : ` record ${p.record}`}: ${p.reason.slice(0, 140)}`).join('\n')}`;
} catch {
  summary = '(no JSON output)';
}
console.log(`  detect:  exit ${detect.code}, ${detect.seconds.toFixed(1)} s, peak RSS ${detect.peakMb.toFixed(0)} MB\n  ${summary}`);
if (!values.keep) await rm(dir, { recursive: true, force: true });
