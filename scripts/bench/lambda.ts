/**
 * bench:lambda — every Lambda handler bundled as scripts/build/lambdas.ts bundles it for the CDK (esbuild:
 * platform node, target node22, ESM, minified, the SDK's ES builds, the schema tree-shaking plugin), then each
 * bundle's size and its cold initialisation: the time to import the bundle in a fresh Node process (module
 * evaluation: SDK clients, Powertools logger, env read, dependencies built at module scope), median of several
 * runs. Targets: each bundle <= 1 MB, init <= 300 ms.
 *
 * Ways to ship the AWS SDK, measured side by side (--sdk):
 *   bundled   every dependency in the bundle, schema plugin on (what build:lambdas produces)
 *   plain     the same without the schema plugin (what NodejsFunction with the same options produces)
 *   external  `@aws-sdk/*` left out, for the Node.js 22 runtime's own SDK v3 (locally: node_modules stands in)
 *
 *   npm run bench:lambda [-- --runs 7 --sdk bundled,plain,external --keep]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { HandlerName } from '../../functions/aws/handlers/contracts.ts';
import { bundleHandler, HANDLERS } from '../build/lambdas.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    sdk: { type: 'string', default: 'bundled,plain,external' },
    dir: { type: 'string', default: '.bench/lambda' },
    keep: { type: 'boolean' },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive whole number, got ${values.runs}`);
type Variant = 'bundled' | 'plain' | 'external';
const variants = values.sdk!.split(',') as Variant[];
for (const v of variants) if (!['bundled', 'plain', 'external'].includes(v)) throw new Error(`--sdk takes bundled, plain and/or external (comma separated), got ${v}`);
const outDir = resolve(values.dir!);

const MB = 1_000_000;
const SIZE_TARGET = 1 * MB;
const INIT_TARGET_MS = 300;

/** Values of the right shape for every variable a handler reads (init must not call AWS). */
const FAKE_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  INSTANCE_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:111122223333:stateMachine:amber-instance',
  LOG_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:111122223333:stateMachine:amber-logs',
  GUARDDUTY_MIN_SEVERITY: '7',
  DEFAULT_LOG_WINDOW_HOURS: '24',
  EVIDENCE_BUCKET: 'amber-evidence-bench',
  RETENTION_DAYS: '365',
  COLLECTOR_ROLE_NAME: 'AmberCollector',
  COLLECTOR_EXTERNAL_ID: 'bench-external-id',
  EVIDENCE_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000',
  EVIDENCE_ACCOUNT_ID: '111122223333',
  TRAIL_BUCKET: 'amber-trail-bench',
  TRAIL_PREFIX: '',
  ORGANIZATION_ID: '',
  ATHENA_WORKGROUP: 'amber',
  ATHENA_DATABASE: 'amber',
  FINDINGS_TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:amber-findings',
  SECURITY_HUB_FINDINGS: 'false',
  SIGNING_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111',
  ANCHOR_BUCKET: 'amber-anchors',
  DETECTION_PARAMETERS: '{}',
};

/** Milliseconds to import the bundle in a fresh Node process (module evaluation only, Node's own start excluded). */
function initMs(file: string): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t0));`;
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...FAKE_ENV, POWERTOOLS_DEV: 'false' };
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', cwd: outDir });
  if (out.status !== 0) throw new Error(`importing ${file} failed:\n${out.stderr}`);
  return Number(out.stdout);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Row {
  readonly handler: HandlerName;
  readonly sdk: Variant;
  readonly bytes: number;
  readonly gzip: number;
  readonly init: number;
  readonly top: string;
}

await rm(outDir, { recursive: true, force: true });
const handlers = HANDLERS;
const rows: Row[] = [];
console.log(`bench:lambda  ${handlers.length} handlers x ${variants.join(' + ')} SDK, init = median of ${runs} fresh Node ${process.version} processes`);
for (const sdk of variants) {
  for (const handler of handlers) {
    const { file: outfile, metafile } = await bundleHandler(handler, join(outDir, sdk, handler), { sdk: sdk === 'external' ? 'external' : 'bundled', schemaPlugin: sdk === 'bundled' });
    const bytes = (await stat(outfile)).size;
    const gzip = gzipSync(readFileSync(outfile)).byteLength;
    // The three largest contributors, by package, to say where the bytes go.
    const output = Object.values(metafile.outputs)[0]!;
    const byPackage = new Map<string, number>();
    for (const [file, info] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
      const name = m ? m[1]! : 'amber';
      byPackage.set(name, (byPackage.get(name) ?? 0) + info.bytesInOutput);
    }
    const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([n, b]) => `${n} ${(b / 1000).toFixed(0)}k`).join(', ');
    initMs(outfile); // warm the file-system cache: what is measured is module evaluation, not disk reads
    const times = Array.from({ length: runs }, () => initMs(outfile));
    rows.push({ handler, sdk, bytes, gzip, init: median(times), top });
  }
}

const pad = (s: string, n: number): string => s.padEnd(n);
console.log('');
console.log(`${pad('handler', 20)} ${pad('sdk', 9)} ${'size'.padStart(9)} ${'gzip'.padStart(8)} ${'vs 1 MB'.padStart(8)} ${'init ms'.padStart(8)} ${'vs 300'.padStart(7)}  largest parts`);
for (const r of rows) {
  const sizeRatio = r.bytes / SIZE_TARGET;
  const initRatio = r.init / INIT_TARGET_MS;
  console.log(
    `${pad(r.handler, 20)} ${pad(r.sdk, 9)} ${`${(r.bytes / 1000).toFixed(0)} kB`.padStart(9)} ${`${(r.gzip / 1000).toFixed(0)} kB`.padStart(8)} ${`${sizeRatio.toFixed(2)}${sizeRatio <= 1 ? ' ' : '!'}`.padStart(8)} ${r.init.toFixed(0).padStart(8)} ${`${initRatio.toFixed(2)}${initRatio <= 1 ? ' ' : '!'}`.padStart(7)}  ${r.top}`,
  );
}
for (const sdk of variants) {
  const mine = rows.filter((r) => r.sdk === sdk);
  const over = mine.filter((r) => r.bytes > SIZE_TARGET || r.init > INIT_TARGET_MS);
  const largest = Math.max(...mine.map((r) => r.bytes));
  const slowest = Math.max(...mine.map((r) => r.init));
  console.log(
    `${sdk}: largest bundle ${(largest / 1000).toFixed(0)} kB (${(largest / SIZE_TARGET).toFixed(2)} of 1 MB), slowest init ${slowest.toFixed(0)} ms (${(slowest / INIT_TARGET_MS).toFixed(2)} of 300 ms): ${over.length === 0 ? 'every handler within both targets' : `${over.length} over a target (${over.map((r) => r.handler).join(', ')})`}`,
  );
}
if (variants.includes('plain')) {
  console.log('plain: the same bundle without the schema plugin, as NodejsFunction builds it with these esbuild options (no plugins there).');
}
if (variants.includes('external')) {
  console.log('external: init measured with this repository\'s node_modules standing in for the runtime\'s SDK (the Lambda runtime loads its own copy from /var/runtime).');
}
if (!values.keep) await rm(outDir, { recursive: true, force: true });
