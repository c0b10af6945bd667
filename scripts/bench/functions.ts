/**
 * bench:functions — every Azure Function bundled as scripts/build/azure-functions.ts bundles it (esbuild: node22,
 * ESM, minified, code split, the Azure SDK bundled), then each bundle's size and its cold initialisation: the time
 * to import the bundle in a fresh Node process (module evaluation: settings read, registration), median of several
 * runs. `start` is what a cold start loads (index.mjs and the chunks it imports statically), `package` every file
 * of the function, the chunks loaded on demand included. Targets: start <= 1 MB, init <= 300 ms. Locally the Functions host is absent, so
 * @azure/functions registers in its test mode; the host's own start is not part of the figure.
 *
 *   npm run bench:functions [-- --runs 7 --keep]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { azureFunctionNames, bundleAzureFunction, startupOutputs } from '../build/azure-functions.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, dir: { type: 'string', default: '.bench/functions' }, keep: { type: 'boolean' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive whole number, got ${values.runs}`);
const outDir = resolve(values.dir!);
const SIZE_TARGET = 1_000_000;
const INIT_TARGET_MS = 300;

/** Settings of the right shape (init must not reach Azure): a folder locker in a private temporary folder. */
const locker = await mkdtemp(join(tmpdir(), 'amber-bench-locker-'));
const FAKE_ENV: Record<string, string> = {
  AMBER_LOCKER: locker,
  AMBER_SNAPSHOT_RESOURCE_GROUP: 'rg-amber-evidence',
  AMBER_RETENTION_DAYS: '365',
  AMBER_DEFENDER_MIN_SEVERITY: 'High',
  AMBER_DEFAULT_LOG_WINDOW_HOURS: '24',
  AMBER_DETECTION_WINDOW: 'PT1H',
  AMBER_DETECTION_SCHEDULE: '0 5 * * * *',
  AMBER_PRINCIPAL: 'func-amber-bench',
};

function initMs(file: string): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t0));`;
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...FAKE_ENV };
  // Run from the repository so the external native packages (@duckdb/*) resolve from node_modules, as in the app package.
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', cwd: process.cwd() });
  if (out.status !== 0) throw new Error(`importing ${file} failed:\n${out.stderr}`);
  return Number(out.stdout);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

await rm(outDir, { recursive: true, force: true });
const names = await azureFunctionNames();
console.log(`bench:functions  ${names.length} functions, init = median of ${runs} fresh Node ${process.version} processes`);
const rows: { name: string; bytes: number; total: number; gzip: number; init: number; top: string }[] = [];
for (const name of names) {
  // Inside the repository, so the bundle's external imports resolve from its node_modules.
  const { file, metafile } = await bundleAzureFunction(name, join(outDir, name));
  const { atStart, onDemand } = startupOutputs(metafile);
  let bytes = 0;
  let gzip = 0;
  for (const f of atStart) {
    bytes += (await stat(f)).size;
    gzip += gzipSync(readFileSync(f)).byteLength;
  }
  let total = bytes;
  for (const f of onDemand) total += (await stat(f)).size;
  const byPackage = new Map<string, number>();
  for (const [f, info] of atStart.flatMap((o) => Object.entries(metafile.outputs[o]!.inputs))) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
    const pkg = m ? m[1]! : 'amber';
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput);
  }
  const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([n, b]) => `${n} ${(b / 1000).toFixed(0)}k`).join(', ');
  initMs(file);
  rows.push({ name, bytes, total, gzip, init: median(Array.from({ length: runs }, () => initMs(file))), top });
}
console.log('');
console.log(`${'function'.padEnd(20)} ${'start'.padStart(9)} ${'gzip'.padStart(8)} ${'vs 1 MB'.padStart(8)} ${'package'.padStart(9)} ${'init ms'.padStart(8)} ${'vs 300'.padStart(7)}  largest parts at start`);
for (const r of rows) {
  const s = r.bytes / SIZE_TARGET;
  const i = r.init / INIT_TARGET_MS;
  console.log(`${r.name.padEnd(20)} ${`${(r.bytes / 1000).toFixed(0)} kB`.padStart(9)} ${`${(r.gzip / 1000).toFixed(0)} kB`.padStart(8)} ${`${s.toFixed(2)}${s <= 1 ? ' ' : '!'}`.padStart(8)} ${`${(r.total / 1000).toFixed(0)} kB`.padStart(9)} ${r.init.toFixed(0).padStart(8)} ${`${i.toFixed(2)}${i <= 1 ? ' ' : '!'}`.padStart(7)}  ${r.top}`);
}
const over = rows.filter((r) => r.bytes > SIZE_TARGET || r.init > INIT_TARGET_MS);
console.log(over.length === 0 ? 'every function within both targets' : `${over.length} over a target: ${over.map((r) => r.name).join(', ')}`);
await rm(locker, { recursive: true, force: true });
if (!values.keep) await rm(outDir, { recursive: true, force: true });
