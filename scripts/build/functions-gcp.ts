/**
 * Bundles the Google Cloud Functions (functions/gcp/index.ts, every entry point) into one ESM file for Node.js 22,
 * with a package.json naming it as `main` (what Cloud Functions gen2 builds from), and zips both for upload.
 *
 *   npm run build:functions-gcp            dist/functions-gcp/{index.mjs,package.json} and dist/functions-gcp.zip,
 *                                          dist/functions-gcp-derive/... and dist/functions-gcp-derive.zip
 *
 * Two bundles: the preservation and detection entry points (functions/gcp/index.ts), and the derive function
 * (functions/gcp/derive.ts), which carries the log parsers; apart, each stays under 1 MB.
 *
 * The Google APIs are called over REST with fetch and google-auth-library (functions/gcp/adapters/google-rest.ts):
 * @google-cloud/compute and @google-cloud/bigquery with their gRPC stacks would not fit the 1 MB budget.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import yazl from 'yazl';
import { sideEffectFreePlugin } from './lambdas.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The GCP bundles: entry file under functions/gcp and the folder / archive name under dist. */
export const GCP_BUNDLES = [
  { entry: 'index.ts', name: 'functions-gcp' },
  { entry: 'derive.ts', name: 'functions-gcp-derive' },
] as const;

/** Bundles a GCP entry file (default: every preservation entry point) into `outDir/index.mjs`; returns its path and esbuild's metafile. */
export async function bundleGcpFunctions(outDir: string, entry = 'index.ts'): Promise<{ file: string; metafile: Metafile }> {
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'index.mjs');
  const result = await build({
    entryPoints: [join(ROOT, 'functions', 'gcp', entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    metafile: true,
    legalComments: 'linked',
    mainFields: ['module', 'main'],
    // CommonJS dependencies (the Functions Framework, google-auth-library) call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __amberRequire } from 'node:module'; const require = __amberRequire(import.meta.url);" },
    plugins: [sideEffectFreePlugin],
    logLevel: 'warning',
  });
  await writeFile(join(outDir, 'package.json'), `${JSON.stringify({ name: 'amber-functions-gcp', private: true, type: 'module', main: 'index.mjs', engines: { node: '22' } }, null, 2)}\n`);
  return { file, metafile: result.metafile };
}

/** Zips the bundle folder's index.mjs and package.json (fixed times: the same source gives the same archive). */
async function zip(outDir: string, target: string): Promise<void> {
  const archive = new yazl.ZipFile();
  const mtime = new Date('2000-01-01T00:00:00Z');
  for (const name of ['index.mjs', 'package.json']) archive.addFile(join(outDir, name), name, { mtime, mode: 0o644 });
  archive.end();
  const chunks: Buffer[] = [];
  for await (const chunk of archive.outputStream) chunks.push(chunk as Buffer);
  await writeFile(target, Buffer.concat(chunks));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const bundle of GCP_BUNDLES) {
    const outDir = join(ROOT, 'dist', bundle.name);
    const { file } = await bundleGcpFunctions(outDir, bundle.entry);
    await zip(outDir, join(ROOT, 'dist', `${bundle.name}.zip`));
    process.stdout.write(`wrote ${file} and dist/${bundle.name}.zip\n`);
  }
}
