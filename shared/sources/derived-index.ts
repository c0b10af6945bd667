/**
 * The index derive-object keeps of which cases hold derived rows on which event day: one empty write-once object per
 * day and case, `derived-index/<yyyy>/<MM>/<dd>/<case>`. The scheduled detections list the days of their window to
 * find the cases to run over, without listing every case. No DuckDB here: run-detections imports this, not the
 * derivation.
 */
import { validateCaseName } from '../evidence/names.ts';
import type { ObjectStore } from '../ports/object-store.ts';

/** Where the per-day case index lives in the evidence store. */
export const DERIVED_INDEX_PREFIX = 'derived-index/';

/** The cases holding derived rows on any day of the window (the index derivations write), sorted. */
export async function casesDerivedBetween(store: ObjectStore, since: Date, until: Date): Promise<string[]> {
  const cases = new Set<string>();
  const first = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate());
  for (let t = first; t <= until.getTime(); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10).replace(/-/g, '/');
    const prefix = `${DERIVED_INDEX_PREFIX}${day}/`;
    for await (const o of store.list(prefix)) {
      const name = o.key.slice(prefix.length);
      try {
        cases.add(validateCaseName(name));
      } catch {
        // Not an index object Amber wrote: ignored, never queried.
      }
    }
  }
  return [...cases].sort();
}

