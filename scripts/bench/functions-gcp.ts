/**
 * bench:functions-gcp — the Google Cloud Functions bundles (scripts/build/functions-gcp.ts) measured, each: its size
 * (raw and gzip) and its cold initialisation, the time to import it in a fresh Node process (the Functions
 * Framework, google-auth-library, the catalogue module, every entry point registered), median of several runs.
 * Targets: bundle <= 1 MB, init <= 300 ms. Prints figures; asserts nothing.
 *
 *   npm run bench:functions-gcp [-- --runs 7]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { bundleGcpFunctions, GCP_BUNDLES } from '../build/functions-gcp.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, dir: { type: 'string', default: '.bench/functions-gcp' }, keep: { type: 'boolean' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive whole number, got ${values.runs}`);
const outDir = resolve(values.dir!);

const row = (k: string, v: string): string => `${k.padEnd(22)}${v}`;
const labels: Record<string, string> = {
  'index.ts': 'functions/gcp/index.ts, 10 entry points',
  'derive.ts': 'functions/gcp/derive.ts, deriveObject with the log parsers',
};
for (const bundle of GCP_BUNDLES) {
  const { file } = await bundleGcpFunctions(resolve(outDir, bundle.name), bundle.entry);
  const bytes = readFileSync(file);
  const times: number[] = [];
  const probe = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  for (let i = 0; i < runs; i++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    if (out.status !== 0) throw new Error(`importing the bundle ${bundle.name} failed: ${out.stderr}`);
    times.push(Number(out.stdout));
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  process.stdout.write(
    [
      `Google Cloud Functions bundle ${bundle.name} (${labels[bundle.entry] ?? bundle.entry})`,
      row('size', `${(bytes.length / 1e6).toFixed(3)} MB (target <= 1 MB)`),
      row('size gzip', `${(gzipSync(bytes).length / 1e6).toFixed(3)} MB`),
      row('cold init (median)', `${median.toFixed(0)} ms over ${runs} runs (target <= 300 ms); min ${times[0]!.toFixed(0)}, max ${times[times.length - 1]!.toFixed(0)}`),
      '',
    ].join('\n'),
  );
}
if (!values.keep) await rm(outDir, { recursive: true, force: true });
