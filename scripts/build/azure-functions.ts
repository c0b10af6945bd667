/**
 * Bundles the Azure Functions (functions/azure/functions/<name>.ts, one registration each) into ESM for Node.js 22,
 * `dist/azure/<name>/index.mjs` and the chunks beside it: what the function app's package holds (its package.json
 * `main` lists the index files) and what `npm run bench:functions` measures. Code split: what an entry imports
 * statically is in index.mjs (and the shared chunks it imports); what it imports with `import()` (the Blob store,
 * @azure/identity, PKI.js for timestamp tokens) is in chunks loaded on the first invocation that needs them, so a
 * cold start evaluates only the registration and the handler.
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

/** The esbuild options of one function's bundle: `<outdir>/index.mjs` and its `chunk-*.mjs`. */
export function azureBuildOptions(name: string, outdir: string): BuildOptions {
  return {
    entryPoints: [{ in: join(ENTRIES, `${name}.ts`), out: 'index' }],
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunk-[hash]',
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

/** Bundles one function into `<outDir>/index.mjs` (and its chunks). */
export async function bundleAzureFunction(name: string, outDir: string): Promise<{ file: string; metafile: Metafile }> {
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'index.mjs');
  const result = await build(azureBuildOptions(name, outDir));
  return { file, metafile: result.metafile! };
}

/**
 * The output files of a bundle split into what a cold start loads (the entry and the chunks it imports
 * statically, transitively) and what only a dynamic import() loads.
 */
export function startupOutputs(metafile: Metafile): { atStart: string[]; onDemand: string[] } {
  const outputs = metafile.outputs;
  // Chunks loaded by a dynamic import() have an entryPoint too: the function's own is under functions/azure/functions/.
  const entry = Object.keys(outputs).find((f) => outputs[f]!.entryPoint?.startsWith('functions/azure/functions/'));
  if (!entry) throw new Error('the bundle has no entry point output');
  const atStart = new Set<string>();
  const visit = (f: string): void => {
    if (atStart.has(f) || !outputs[f]) return;
    atStart.add(f);
    for (const i of outputs[f]!.imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entry);
  const all = Object.keys(outputs).filter((f) => f.endsWith('.mjs')).sort();
  return { atStart: all.filter((f) => atStart.has(f)), onDemand: all.filter((f) => !atStart.has(f)) };
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
