/**
 * The report's inventory section: how many resources of each type the case's inventory holds, and every exposure
 * finding (the catalogue's inventory-* detections) with the answer and record it cites.
 */
import type { Finding } from '../detections/run.ts';
import type { QueryEngine } from '../ports/query-engine.ts';
import { escapeHtml as h } from '../text/escape.ts';

/** Rows per account and type (the `api:page` rows that only record the questions asked are left out). */
export interface InventoryCount {
  readonly account: string;
  readonly type: string;
  readonly rows: number;
}

/** What the section shows; absent when the case holds no inventory. */
export interface InventorySummary {
  readonly counts: readonly InventoryCount[];
  readonly findings: readonly Finding[];
}

/** Counts per account and type, in a total order; undefined when the case has no inventory table. */
export async function inventorySummary(engine: QueryEngine, sources: Readonly<Record<string, string>>, findings: readonly Finding[]): Promise<InventorySummary | undefined> {
  const table = sources.inventory;
  if (!table) return undefined;
  const counts = await engine.query<InventoryCount>(
    `SELECT account, type, CAST(count(*) AS INTEGER) AS rows FROM ${table} WHERE type <> 'api:page' GROUP BY account, type ORDER BY account, type`,
  );
  return { counts: counts.map((c) => ({ ...c, rows: Number(c.rows) })), findings: findings.filter((f) => f.detection.startsWith('inventory-')) };
}

/** The HTML section (escaped throughout: names and tags come from the cloud). */
export function inventorySection(s: InventorySummary | undefined): string {
  if (!s) return '';
  const counts = s.counts.map((c) => `<tr><td><code>${h(c.account)}</code></td><td>${h(c.type)}</td><td class="num">${c.rows}</td></tr>`).join('\n');
  const findings = s.findings
    .map((f) => `<li><strong>${h(f.severity)}</strong> ${h(f.title)}: ${h(f.detail ?? '')}<br><code>${h(f.evidence_key)}</code> record ${f.evidence_record ?? '-'}, sha256 <code class="hash">${h(f.evidence_sha256 ?? '')}</code></li>`)
    .join('\n');
  return `<section id="inventory">
  <h2>Inventory and exposure</h2>
  <table><thead><tr><th>Account</th><th>Type</th><th>Rows</th></tr></thead><tbody>
  ${counts}
  </tbody></table>
  <h3>Exposure findings (${s.findings.length})</h3>
  ${s.findings.length === 0 ? '<p>No inventory detection matched.</p>' : `<ul>${findings}</ul>`}
</section>`;
}
