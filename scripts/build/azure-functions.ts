/**
 * Bundles the Azure Functions (functions/azure/functions/<name>.ts, one registration each) into one ESM file each,
 * `dist/azure/<name>/index.mjs`, for Node.js 22: what the function app's package holds (its package.json `main`
 * lists them) and what `npm run bench:functions` measures.
 *
 *   npx tsx scripts/build/azure-functions.ts                 every function into dist/azure/<name>/index.mjs
 *   npx tsx scripts/build/azure-functions.ts --out DIR       into DIR/<name>/index.mjs
 *
 * Left out of the bundles, and why:
 * - `@azure/functions-core`: provided by the Functions host at run time (without it the programming model runs
 *   in its test mode, which is what the benchmark measures locally).
 * - `@duckdb/*`: native bindings (.node files) esbuild cannot inline; the package ships them in node_modules
 *   (linux-x64 on the Flex Consumption plan).
 * Everything else, the Azure SDK included, is bundled at the versions this repository pins and tests.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { sideEffectFreePlugin } from './lambdas.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRIES = join(ROOT, 'functions', 'azure', 'functions');

/** The names of the Azure functions (one entry file each). */
export async function azureFunctionNames(): Promise<string[]> {
  return (await readdir(ENTRIES)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
}

/** The esbuild options of one function's bundle. */
export function azureBuildOptions(name: string, outfile: string): BuildOptions {
  return {
    entryPoints: [join(ENTRIES, `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __amberRequire } from 'node:module'; const require = __amberRequire(import.meta.url);" },
    external: ['@azure/functions-core', '@duckdb/*'],
    plugins: [sideEffectFreePlugin],
    metafile: true,
    logLevel: 'warning',
  };
}

/** Bundles one function into `<outDir>/index.mjs`. */
export async function bundleAzureFunction(name: string, outDir: string): Promise<{ file: string; metafile: Metafile }> {
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'index.mjs');
  const result = await build(azureBuildOptions(name, file));
  return { file, metafile: result.metafile! };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = resolve(values.out ?? join(ROOT, 'dist', 'azure'));
  for (const name of await azureFunctionNames()) {
    const { file } = await bundleAzureFunction(name, join(out, name));
    console.log(file);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
