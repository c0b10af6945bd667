/**
 * The Azure function bundles (scripts/build/azure-functions.ts): what a cold start loads holds the registration
 * and the handler only; the Blob store, the credential, PKI.js and DuckDB come in chunks loaded on first use, and
 * the package carries no ARM SDK client. Sizes and times are printed by `npm run bench:functions`, not asserted.
 */
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundleAzureFunction, startupOutputs } from '../../scripts/build/azure-functions.ts';
import { tempDir } from '../helpers/tmp.ts';

function packagesIn(metafile: Metafile, files: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    for (const input of Object.keys(metafile.outputs[f]!.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      out.add(m ? m[1]! : input);
    }
  }
  return out;
}

describe('Script: build azure-functions', () => {
  it('the preservation entry starts without the Blob SDK, the credential or PKI.js, and carries them for first use', async () => {
    const dir = await tempDir('amber-azfn-');
    const { metafile } = await bundleAzureFunction('preserve-http', join(dir, 'preserve-http'));
    const { atStart, onDemand } = startupOutputs(metafile);

    const start = packagesIn(metafile, atStart);
    const later = packagesIn(metafile, onDemand);
    for (const heavy of ['@azure/storage-blob', '@azure/identity', '@azure/msal-node', 'pkijs']) {
      expect(start.has(heavy), `${heavy} loaded at start`).toBe(false);
      expect(later.has(heavy), `${heavy} missing from the package`).toBe(true);
    }
    expect([...start, ...later].filter((p) => /@azure\/arm-/.test(p))).toEqual([]);
    expect(start.has('functions/azure/adapters/managed-disk-snapshot-provider.ts')).toBe(true);
  });

  it('the detection timer starts without DuckDB\'s engine or the catalogue, and loads them on its first run', async () => {
    const dir = await tempDir('amber-azfn-');
    const { metafile } = await bundleAzureFunction('run-detections', join(dir, 'run-detections'));
    const { atStart, onDemand } = startupOutputs(metafile);

    const start = packagesIn(metafile, atStart);
    const later = packagesIn(metafile, onDemand);
    for (const lazy of ['shared/query/duckdb-engine.ts', 'functions/aws/generated/catalogue.json', 'functions/azure/detect-cases.ts']) {
      expect(start.has(lazy), `${lazy} loaded at start`).toBe(false);
      expect(later.has(lazy), `${lazy} missing from the package`).toBe(true);
    }
  });
});
