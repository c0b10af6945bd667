/**
 * Bundles the Lambda handlers (functions/aws/handlers/<name>.ts) into one ESM file each, `index.mjs`
 * (Lambda handler `index.handler`), for Node.js 22 on ARM64 — the bundling the CDK stacks should use, and
 * the one `npm run bench:lambda` measures.
 *
 *   npm run build:lambdas                                  every handler into dist/lambda/<name>/index.mjs
 *   npx tsx scripts/build/lambdas.ts --handler capture-instance --out <dir>   one handler into <dir>/index.mjs
 *                                                          (what a CDK local bundling hook calls)
 *
 * Options, and why:
 * - The AWS SDK is bundled (the versions this repository pins and tests), not taken from the Lambda runtime:
 *   cold init measured 40-120 ms bundled against 130-480 ms loading the SDK packages at run time, and S3's
 *   write-once conditions (IfNoneMatch on CopyObject) need a recent SDK (an old one drops the parameter silently).
 * - `mainFields: module, main`: the SDK's ES builds, which esbuild can tree-shake (its CommonJS builds cannot).
 * - Two plugins (NodejsFunction takes none, hence this script; see bench:lambda for the difference):
 *   the schema plugin: the SDK's generated schema files write object keys as computed properties
 *   (`{ [_xN]: ... }` with `const _xN = "xmlName"`), which esbuild must assume have side effects, so a client's
 *   whole schema file (EC2: 560 kB) stays in every bundle. The plugin writes those keys as the string literals
 *   they are (the same object, byte for byte at run time), and tree-shaking then keeps only the shapes the
 *   handler's commands use. EC2 handlers drop from about 930 kB to about 420 kB.
 *   The side-effect-free plugin: lets tree-shaking drop `yaml`, which no handler uses at run time (115 kB).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { HANDLER_ENV, type HandlerName } from '../../functions/aws/handlers/contracts.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Where a handler's source is. */
export function handlerEntry(handler: HandlerName): string {
  return join(ROOT, 'functions', 'aws', 'handlers', `${handler}.ts`);
}

/** Rewrites the SDK schema files' computed keys (`{ [_xN]: v }`) as literal keys (`{ "xmlName": v }`) so they tree-shake. */
export const sdkSchemaKeysPlugin: Plugin = {
  name: 'amber-sdk-schema-keys',
  setup(b) {
    b.onLoad({ filter: /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/]schemas[\\/][^\\/]+\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const consts = new Map<string, string>();
      for (const m of text.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) consts.set(m[1]!, m[2]!);
      const literal = (all: string, lead: string, id: string): string => (consts.has(id) ? `${lead}${consts.get(id)}:` : all);
      const contents = text.replace(/(\{\s*)\[(_\w+)\]:/g, literal).replace(/(,\s*)\[(_\w+)\]:/g, literal);
      return { contents, loader: 'js' };
    });
  },
};

/**
 * Packages whose unused imports may be dropped. `yaml` is imported by shared/detections/catalogue.ts for
 * loadDetection, which no handler calls (run-detections carries the catalogue as JSON), but the package does
 * not declare itself free of side effects, so esbuild would keep all 115 kB of it.
 */
const SIDE_EFFECT_FREE = /^yaml$/;

/** Marks SIDE_EFFECT_FREE packages as free of side effects, so tree-shaking drops them when unused. */
export const sideEffectFreePlugin: Plugin = {
  name: 'amber-side-effect-free',
  setup(b) {
    b.onResolve({ filter: SIDE_EFFECT_FREE }, async (args) => {
      if ((args.pluginData as { amberResolving?: boolean } | undefined)?.amberResolving) return undefined;
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { amberResolving: true } });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, sideEffects: false };
    });
  },
};

export interface LambdaBuildSettings {
  /**
   * How the AWS SDK ships.
   * @default 'bundled'
   */
  readonly sdk?: 'bundled' | 'external';
  /**
   * Apply sdkSchemaKeysPlugin.
   * @default true
   */
  readonly schemaPlugin?: boolean;
}

/** The esbuild options of one handler's bundle. */
export function lambdaBuildOptions(handler: HandlerName, outfile: string, settings: LambdaBuildSettings = {}): BuildOptions {
  return {
    entryPoints: [handlerEntry(handler)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    // ESM output: a CommonJS dependency that calls require() gets one.
    banner: { js: "import { createRequire as __amberRequire } from 'node:module'; const require = __amberRequire(import.meta.url);" },
    // DuckDB's native bindings cannot be inlined: AmberFunction copies them beside the bundle (duckdb: true).
    external: [...(settings.sdk === 'external' ? ['@aws-sdk/*'] : []), ...(NATIVE_DUCKDB_HANDLERS.includes(handler) ? ['@duckdb/*'] : [])],
    plugins: settings.schemaPlugin === false ? [] : [sdkSchemaKeysPlugin, sideEffectFreePlugin],
    metafile: true,
    logLevel: 'warning',
  };
}

/** Bundles one handler into `<outDir>/index.mjs`; returns the file and esbuild's metafile. */
export async function bundleHandler(handler: HandlerName, outDir: string, settings: LambdaBuildSettings = {}): Promise<{ file: string; metafile: Metafile }> {
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'index.mjs');
  const result = await build(lambdaBuildOptions(handler, file, settings));
  return { file, metafile: result.metafile! };
}

/** Handlers that run DuckDB, shipped beside the bundle rather than in it. */
export const NATIVE_DUCKDB_HANDLERS: readonly HandlerName[] = ['derive-object'];

/** Every handler name of the contract. */
export const HANDLERS = Object.keys(HANDLER_ENV) as HandlerName[];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { handler: { type: 'string' }, out: { type: 'string' }, sdk: { type: 'string' } } });
  const sdk = values.sdk === 'external' ? 'external' : 'bundled';
  if (values.handler !== undefined) {
    if (!(HANDLERS as string[]).includes(values.handler)) throw new Error(`unknown handler ${values.handler}; handlers: ${HANDLERS.join(', ')}`);
    const { file } = await bundleHandler(values.handler as HandlerName, resolve(values.out ?? join(ROOT, 'dist', 'lambda', values.handler)), { sdk });
    console.log(file);
    return;
  }
  const base = resolve(values.out ?? join(ROOT, 'dist', 'lambda'));
  for (const handler of HANDLERS) {
    const { file } = await bundleHandler(handler, join(base, handler), { sdk });
    console.log(file);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
