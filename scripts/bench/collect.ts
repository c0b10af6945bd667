/**
 * bench:collect — how fast `amber collect` preserves log files compared with `sha256sum` over the same
 * files, measured in the same run. Collecting must read, hash and write each byte in one pass; sha256sum
 * only reads and hashes, so it is the ceiling. Target: collect >= 0.8 of sha256sum's throughput.
 *
 *   npm run bench:collect [-- --size-mb 1024 --runs 3 --keep]
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { collectEvidence } from '../../shared/evidence/collect.ts';
import { LocalEvidenceSource } from '../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: { 'size-mb': { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' }, dir: { type: 'string', default: '.bench/collect' }, keep: { type: 'boolean' } },
});
const sizeMb = Number(values['size-mb']);
const runs = Number(values.runs);
const dir = resolve(values.dir!);
const src = join(dir, 'logs');
const FILE_MB = 8;

/** Writes log-like JSON lines (varying fields, like CloudTrail/flow logs) until `sizeMb` is reached. */
async function generate(): Promise<string[]> {
  const files = Math.max(1, Math.round(sizeMb / FILE_MB));
  await mkdir(src, { recursive: true });
  const existing = await readdir(src).catch(() => []);
  const names = Array.from({ length: files }, (_, i) => `app-${String(i).padStart(4, '0')}.jsonl`);
  if (existing.length === files) return names.map((n) => join(src, n));
  await rm(src, { recursive: true, force: true });
  await mkdir(src, { recursive: true });
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (const name of names) {
    const lines: string[] = [];
    let bytes = 0;
    while (bytes < FILE_MB * 1_000_000) {
      const line = JSON.stringify({
        eventTime: new Date(Date.UTC(2026, 10, 20) + Math.floor(rand() * 86_400_000)).toISOString(),
        eventName: ['GetObject', 'PutObject', 'ListBuckets', 'AssumeRole', 'DescribeInstances'][Math.floor(rand() * 5)],
        sourceIPAddress: `203.0.113.${Math.floor(rand() * 255)}`,
        userAgent: `aws-cli/2.${Math.floor(rand() * 20)}.0 Python/3.11`,
        requestID: rand().toString(36).slice(2) + rand().toString(36).slice(2),
        bytes: Math.floor(rand() * 1e6),
      });
      lines.push(line);
      bytes += line.length + 1;
    }
    await writeFile(join(src, name), `${lines.join('\n')}\n`);
  }
  return names.map((n) => join(src, n));
}

async function warm(files: string[]): Promise<void> {
  for (const f of files) for await (const _ of createReadStream(f, { highWaterMark: 1 << 20 }));
}

async function timeSha256sum(files: string[]): Promise<number> {
  const t0 = performance.now();
  await run('sha256sum', files, { maxBuffer: 64 << 20 });
  return (performance.now() - t0) / 1000;
}

async function timeCollect(): Promise<number> {
  const locker = join(dir, 'locker');
  await rm(locker, { recursive: true, force: true });
  const store = await LocalObjectStore.open(locker, { create: true });
  const t0 = performance.now();
  const summary = await collectEvidence({ store, caseName: 'bench', sources: [await LocalEvidenceSource.open(src)], actor: { principal: 'bench', tool: 'amber/bench' } });
  const seconds = (performance.now() - t0) / 1000;
  if (summary.failures.length > 0) throw new Error(`collect failed: ${JSON.stringify(summary.failures[0])}`);
  await rm(locker, { recursive: true, force: true });
  return seconds;
}

/** OpenSSL's SHA-256 (hardware-accelerated where the CPU has SHA extensions): a stricter reference. */
async function timeOpenssl(files: string[]): Promise<number | undefined> {
  const t0 = performance.now();
  try {
    await run('openssl', ['dgst', '-sha256', ...files], { maxBuffer: 64 << 20 });
  } catch {
    return undefined;
  }
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const files = await generate();
let total = 0;
for (const f of files) total += (await stat(f)).size;
const mb = total / 1e6;
console.log(`bench:collect  ${files.length} files, ${mb.toFixed(0)} MB of JSON-lines logs in ${src}`);
await warm(files); // both contenders read from the page cache, so the comparison is about the work, not the disk
const shaTimes: number[] = [];
const collectTimes: number[] = [];
for (let i = 0; i < runs; i++) {
  // Alternate the order so neither side always runs on a cache the other just warmed.
  if (i % 2 === 0) {
    shaTimes.push(await timeSha256sum(files));
    collectTimes.push(await timeCollect());
  } else {
    collectTimes.push(await timeCollect());
    shaTimes.push(await timeSha256sum(files));
  }
  console.log(`  run ${i + 1}: sha256sum ${(mb / shaTimes.at(-1)!).toFixed(0)} MB/s, amber collect ${(mb / collectTimes.at(-1)!).toFixed(0)} MB/s`);
}
const opensslTime = await timeOpenssl(files);
const shaRate = mb / median(shaTimes);
const collectRate = mb / median(collectTimes);
const ratio = collectRate / shaRate;
console.log(`sha256sum (read + hash):               ${shaRate.toFixed(0)} MB/s  (median of ${runs})`);
console.log(`amber collect (read + hash + write + fsync + ledger): ${collectRate.toFixed(0)} MB/s  (median of ${runs})`);
if (opensslTime) console.log(`openssl dgst -sha256 (reference, one run): ${(mb / opensslTime).toFixed(0)} MB/s; collect / openssl: ${(collectRate / (mb / opensslTime)).toFixed(2)}`);
console.log(`ratio collect / sha256sum:             ${ratio.toFixed(2)}  (target >= 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
if (!values.keep) await rm(dir, { recursive: true, force: true });
