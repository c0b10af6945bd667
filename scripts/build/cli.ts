/**
 * Bundles the `amber` command into dist/cli/b-<build>/ (git-ignored): `amber.mjs` plus one chunk per lazily
 * loaded command, so the CLI starts without compiling TypeScript (tsx) on every run. `npm ci` runs it (the
 * `prepare` script); scripts/amber.mjs runs the bundle when it is newer than every source it was built from,
 * else the TypeScript through tsx.
 *
 *   npm run build            (the same as: npx tsx scripts/build/cli.ts)
 *
 * Options, and why:
 * - Packages are bundled except native and heavy ones, which load from node_modules when a command needs
 *   them: DuckDB (a native addon), the AWS SDK and Smithy (loaded only for s3:// lockers and sources, and
 *   `preserve`), the Azure SDK (only for azblob:// ones), the CDK libraries (the CLI does not use them), tsx and
 *   esbuild.
 * - `splitting`: each command's `import()` becomes its own chunk, so `amber --help` parses only the table.
 * - Assets stay where they are in the package: each source file's `import.meta.url` is rewritten to the URL
 *   that file has in the package, computed from the bundle's own location (in shared/detections/catalogue.ts:
 *   `new URL('../../../shared/detections/catalogue.ts', import.meta.url).href`). Code reading files next to itself (package.json for the version, the detection
 *   catalogue's folders, the DB-IP databases through createRequire) finds them as it does from source,
 *   and nothing is copied that could go stale.
 * - `dist/cli/current.json` names the current build, the package files it was built from and when the build
 *   started; scripts/amber.mjs compares their modification times to it.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Where the bundle goes (scripts/amber.mjs looks there). */
export const CLI_DIST = join(ROOT, 'dist', 'cli');

/** Packages loaded from node_modules at run time rather than bundled (see the file comment). */
export const CLI_EXTERNAL = ['@duckdb/*', '@aws-sdk/*', '@smithy/*', '@azure/*', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag', 'tsx', 'tsx/*', 'esbuild'];

/** Rewrites `import.meta.url` in the package's own sources to the URL the source file has in the package. */
export function sourceUrlPlugin(outDir: string): Plugin {
  return {
    name: 'amber-source-url',
    setup(b) {
      b.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        if (args.path.split(sep).includes('node_modules')) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
        const fromBundle = relative(outDir, args.path).split(sep).join('/');
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'ts' };
      });
    },
  };
}

/** dist/cli/current.json: which build scripts/amber.mjs runs, and what it was built from. */
export interface BundleInputs {
  /** When the build started (ms since the epoch): a source modified after it is newer than the bundle. */
  readonly builtAt: number;
  /** The build's folder inside dist/cli. */
  readonly dir: string;
  /** The package files the bundle holds, relative to the package root, with '/' separators. */
  readonly files: readonly string[];
}

/** Builds kept besides the newest: an `amber` started from one still loads its command chunks from it. */
const KEEP_PREVIOUS = 2;

/**
 * Builds the bundle into a new folder of `distDir` (default dist/cli), then points dist/cli/current.json at
 * it (written whole, then renamed). A running `amber` keeps loading its lazy chunks from the folder it started
 * from, so a rebuild never pulls files from under it; the oldest builds are removed.
 */
export async function buildCli(distDir: string = CLI_DIST): Promise<BundleInputs> {
  const { build } = await import('esbuild');
  const builtAt = Date.now();
  const dir = `b-${builtAt}-${process.pid}`;
  const outDir = join(distDir, dir);
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: { amber: join(ROOT, 'scripts', 'cli', 'bin.ts') },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    // Flat: every output file sits in outDir, the folder the rewritten URLs are computed from.
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    legalComments: 'none',
    // ESM output: a bundled CommonJS dependency that calls require() gets one.
    banner: { js: "import { createRequire as __amberRequire } from 'node:module'; const require = __amberRequire(import.meta.url);" },
    external: CLI_EXTERNAL,
    plugins: [sourceUrlPlugin(outDir)],
    metafile: true,
    logLevel: 'warning',
  });
  const files = Object.keys(result.metafile.inputs)
    .filter((f) => !f.split('/').includes('node_modules'))
    .map((f) => relative(ROOT, resolve(f)).split(sep).join('/'))
    .sort();
  const inputs: BundleInputs = { builtAt, dir, files };
  const pointer = join(distDir, 'current.json');
  await writeFile(`${pointer}.${process.pid}`, `${JSON.stringify(inputs, null, 1)}\n`);
  await rename(`${pointer}.${process.pid}`, pointer);
  const builds = (await readdir(distDir)).filter((d) => /^b-\d+-\d+$/.test(d) && d !== dir);
  builds.sort((a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]));
  for (const old of builds.slice(KEEP_PREVIOUS)) await rm(join(distDir, old), { recursive: true, force: true });
  return inputs;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    await import('esbuild');
  } catch {
    // An install without devDependencies: amber runs its TypeScript through tsx instead (slower start).
    console.log('amber build: esbuild is not installed (devDependencies omitted); `amber` will run from the TypeScript sources');
    process.exit(0);
  }
  const started = performance.now();
  const { dir, files } = await buildCli();
  console.log(`amber build: ${relative(process.cwd(), join(CLI_DIST, dir))}/amber.mjs from ${files.length} sources in ${Math.round(performance.now() - started)} ms`);
}
