/** A case built the way a user builds one: files collected into a fresh locker, then loaded for querying. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { onTestFinished } from 'vitest';
import { collectEvidence } from '../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { LocalEvidenceSource } from '../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import { DuckDbQueryEngine } from '../../shared/query/duckdb-engine.ts';
import { loadCaseTables } from '../../shared/sources/case-tables.ts';
import type { LogSource } from '../../shared/sources/log-source.ts';
import type { InputLimits } from '../../shared/sources/input-scan.ts';
import { tempDir } from './tmp.ts';

export const TEST_ACTOR = { principal: 'analyst@test', tool: 'amber/test' };

/**
 * Collects `files` (relative path -> content) from `src/` into case `c` and loads its tables. The engine is
 * closed when the calling test finishes.
 */
export async function caseWith(files: Record<string, string | Buffer>, options: { logSources?: readonly LogSource[]; source?: string; limits?: Partial<InputLimits> } = {}) {
  const base = await tempDir();
  for (const [name, body] of Object.entries(files)) {
    await mkdir(dirname(join(base, 'src', name)), { recursive: true });
    await writeFile(join(base, 'src', name), body);
  }
  const store = await LocalObjectStore.open(join(base, 'locker'), { create: true });
  const source = await LocalEvidenceSource.open(join(base, 'src'));
  await collectEvidence({ store, caseName: 'c', sources: [source], actor: TEST_ACTOR, ...(options.source ? { source: options.source } : {}) });
  const ledger = await CustodyLedger.open(store, 'c');
  const engine = await DuckDbQueryEngine.create();
  onTestFinished(() => engine.close());
  const tables = await loadCaseTables({ store, ledger, engine, actor: TEST_ACTOR, ...(options.logSources ? { logSources: options.logSources } : {}), ...(options.limits ? { limits: options.limits } : {}) });
  return { tables, ledger, engine, store };
}
