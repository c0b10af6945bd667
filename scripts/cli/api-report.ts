/**
 * What an api: source says beyond the objects it yielded: the Management Activity slices (complete, or
 * incomplete and why) and notes (a part refused by design, a user without a mailbox), for `collect`'s
 * terminal summary and `--json`. Read by shape, so `collect` needs no Azure module to print it.
 */
import type { EvidenceSource } from '../../shared/ports/evidence-source.ts';
import { t } from './io.ts';

interface Slice {
  readonly source: string;
  readonly contentType?: string;
  readonly start: string;
  readonly end: string;
  readonly complete: boolean;
  readonly listingPages: number;
  readonly blobs: number;
  readonly reason?: string;
}

/** The slices and notes of the sources, as JSON fields (absent when there are none) and as terminal lines. */
export function apiReport(sources: readonly EvidenceSource[]): { json: { slices?: Slice[]; notes?: string[] }; text: string } {
  const slices = sources.flatMap((s) => ((s as { slices?: Slice[] }).slices ?? []));
  const notes = sources.flatMap((s) => ((s as { notes?: string[] }).notes ?? []));
  const lines: string[] = [];
  if (slices.length > 0) {
    const done = slices.filter((s) => s.complete).length;
    lines.push('', `Slices: ${done} of ${slices.length} complete`);
    for (const s of slices) {
      const what = `${s.source} ${s.contentType ?? ''} ${s.start} .. ${s.end}`.replace(/\s+/g, ' ');
      lines.push(`  ${s.complete ? 'complete  ' : 'INCOMPLETE'} ${t(what)}: ${s.listingPages} listing page(s), ${s.blobs} content blob(s)${s.reason ? `; ${t(s.reason)}` : ''}`);
    }
  }
  for (const n of notes) lines.push(`  note:     ${t(n)}`);
  return {
    json: { ...(slices.length > 0 ? { slices } : {}), ...(notes.length > 0 ? { notes } : {}) },
    text: lines.length === 0 ? '' : `${lines.join('\n')}\n`,
  };
}
