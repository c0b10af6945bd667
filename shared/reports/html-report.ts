/**
 * The case report: one self-contained HTML file (inline CSS and SVG, no external fetch) that opens offline,
 * with one inline script (interactive.ts: filter and sort) that the Content-Security-Policy allows by its SHA-256
 * and nothing else. Every string that comes from logs or file names is attacker-controlled and goes through
 * escapeHtml; nothing is inserted raw, and the script writes no markup.
 */
import type { Finding } from '../detections/run.ts';
import type { SuppressedFinding } from '../detections/suppress.ts';
import type { EvidenceItem, LedgerEntry } from '../evidence/model.ts';
import type { CaseCoverage } from '../sources/case-tables.ts';
import type { VerifyReport } from '../evidence/verify.ts';
import { escapeHtml as h } from '../text/escape.ts';
import { counted } from '../text/plural.ts';
import { identityOf } from '../timeline/timeline.ts';
import { inventorySection, type InventorySummary } from './inventory-section.ts';
import { activityPlot, type ActivityBucket } from './activity-plot.ts';
import { chainsSection } from './chains-section.ts';
import { REPORT_CSP, REPORT_SCRIPT, findingFilters } from './interactive.ts';

export type { ActivityBucket } from './activity-plot.ts';

/** One identity's activity across the case. */
export interface IdentityActivity {
  readonly actor: string;
  readonly events: number;
  readonly first: string;
  readonly last: string;
  readonly sourceIps: number;
  readonly actions: number;
  readonly errors: number;
  /** Log sources the identity appears in (cloudtrail, entra-signin, m365-audit, ...). */
  readonly sources?: string;
  /** What the case's inventory says about this identity (MFA, keys, attached policies ...), each with its evidence. */
  readonly inventory?: readonly { readonly fact: string; readonly evidence_key: string; readonly evidence_record: number }[];
}

/** A record Amber could not turn into an event (it stays preserved and hashed). */
export interface ParseProblem {
  readonly key: string;
  readonly record?: number;
  readonly reason: string;
}

export interface ReportInput {
  readonly case: string;
  readonly generatedAt: string;
  readonly tool: string;
  readonly locker: string;
  readonly items: readonly EvidenceItem[];
  readonly events: number;
  readonly findings: readonly Finding[];
  /** Findings the responder's suppression file left out, each with the rule (and its reason) that matched. */
  readonly suppressed?: readonly SuppressedFinding[];
  readonly activity: readonly ActivityBucket[];
  readonly identities: readonly IdentityActivity[];
  readonly ledger: readonly LedgerEntry[];
  readonly verification: VerifyReport;
  readonly parseProblems: readonly ParseProblem[];
  /** How much of the case was analysed (absent: not measured, e.g. a report built by other code). */
  readonly coverage?: CaseCoverage;
  /** Preserved objects no parser reads (kept and hashed, not analysed). */
  readonly unrecognised?: readonly { readonly key: string; readonly reason: string }[];
  readonly detectionErrors: readonly { detection: string; error: string }[];
  /** The case's inventory (counts per type, exposure findings); absent when it holds none. */
  readonly inventory?: InventorySummary;
}

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'informational'] as const;

/**
 * What the report shows at most, so it stays readable and under REPORT_MAX_BYTES whatever the event count;
 * the counts are always complete, and each cut section says where the rest is (`amber detect --out`/`--json`
 * keep every finding; the ledger and the sealed manifests every object and entry).
 */
export const REPORT_LIMITS = {
  /** Findings shown per detection, in the run's order (most severe, successful, earliest first). */
  findingsPerDetection: 50,
  /** Findings shown in all, across detections. */
  findings: 1000,
  suppressed: 200,
  identities: 200,
  evidence: 1000,
  /** Ledger entries shown: the first 100 and the most recent 400 beyond that. */
  ledgerFirst: 100,
  ledgerLast: 400,
  /** Characters shown of one log-derived field (detail, target, actor, user agent...). */
  fieldChars: 500,
  /**
   * Bytes of HTML each listing may take, whatever its rows hold (escaping can make a hostile field five times
   * longer): a listing stops at its row limit or its byte budget, whichever comes first, and says how many it left.
   */
  bytes: { findings: 4_000_000, suppressed: 750_000, evidence: 1_250_000, identities: 500_000, ledger: 1_000_000, unrecognised: 250_000, problems: 250_000, errors: 250_000 },
} as const;

/** What a listing has left to spend. */
interface Budget {
  rows: number;
  bytes: number;
}

/** The rendered rows that fit the budget (spending it), and how many did not. */
function fit<T>(items: readonly T[], render: (item: T) => string, budget: Budget): { html: string; left: number } {
  const out: string[] = [];
  for (const item of items) {
    if (budget.rows <= 0) break;
    const row = render(item);
    const bytes = Buffer.byteLength(row) + 1;
    if (bytes > budget.bytes) break;
    budget.rows -= 1;
    budget.bytes -= bytes;
    out.push(row);
  }
  return { html: out.join('\n'), left: items.length - out.length };
}

/** The size the report stays under with REPORT_LIMITS, whatever the case (stated in the README). */
export const REPORT_MAX_BYTES = 10_000_000;

/** Plain text of a few items, each on its own list line, within its budget; then how many more and where. */
function listWithin<T>(items: readonly T[], render: (item: T) => string, rows: number, bytes: number, rest: string): string {
  const { html, left } = fit(items, render, { rows, bytes });
  return `<ul>${html}</ul>${left > 0 ? `<p class="more">${left} more ${rest}.</p>` : ''}`;
}

/** A log-derived field cut to REPORT_LIMITS.fieldChars, saying how much was cut; escaped. */
function clip(value: string | null | undefined): string {
  const v = value ?? '';
  const max = REPORT_LIMITS.fieldChars;
  return v.length > max ? `${h(v.slice(0, max))}… <span class="cut">(${v.length - max} more characters)</span>` : h(v);
}

/** Where every finding is, for a section that shows only some. */
function allFindingsHint(caseName: string): string {
  return `<code>amber detect --case ${h(caseName)} --out findings.jsonl</code> (or <code>--json</code>) lists every one`;
}

/**
 * What the findings rest on: objects analysed, unrecognised and unparsable, records loaded and set aside. A case
 * where nothing could be analysed says so first, so "no findings" is never read as "nothing found".
 */
function coverageSection(c: CaseCoverage | undefined, unrecognised: readonly { key: string; reason: string }[], problems: number): string {
  if (!c) return '';
  const o = c.objects;
  const nothing = o.analysed === 0;
  const rows = Object.entries(c.sources)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, s]) => `<tr><td><code>${h(id)}</code></td><td class="num">${s.objects}</td><td class="num">${s.records.loaded}</td><td class="num">${s.records.rejected}</td></tr>`);
  return `<section id="coverage">
  <h2>Coverage: what the findings rest on</h2>
  ${nothing ? `<p class="bad"><strong>Nothing analysed:</strong> none of the ${counted(o.total, 'preserved object')} is in a format Amber parses, so the absence of findings says nothing about the case.</p>` : ''}
  <p>${counted(o.analysed, 'object')} of ${o.total} analysed; ${counted(o.unrecognised, 'object')} in no format Amber parses; ${counted(o.unparsable, 'object')} that could not be parsed at all; ${counted(o.digests, 'CloudTrail digest')} (checked by <code>amber validate-logs</code>); ${counted(o.derived, 'derived copy', 'derived copies')}. ${counted(c.records.loaded, 'record')} loaded, ${counted(c.records.rejected, 'record')} set aside${problems ? ` (${counted(problems, 'problem')} listed under Evidence)` : ''}. Every object, analysed or not, is preserved and hashed.</p>
  ${rows.length ? `<table><thead><tr><th>Source</th><th>Objects</th><th>Records loaded</th><th>Records set aside</th></tr></thead><tbody>${rows.join('')}</tbody></table>` : ''}
  ${unrecognised.length ? `<h3>Objects not analysed (${unrecognised.length})</h3>${listWithin(unrecognised, (u) => `<li><code>${clip(u.key)}</code>: ${clip(u.reason)}</li>`, 500, REPORT_LIMITS.bytes.unrecognised, 'in <code>amber detect --json</code>')}` : ''}
</section>`;
}

/** Renders the report. */
export function renderHtmlReport(r: ReportInput): string {
  const bySeverity = SEVERITY_ORDER.map((s) => [s, r.findings.filter((f) => f.severity === s)] as const);
  const bytes = r.items.reduce((n, i) => n + i.size, 0);
  const evidence = fit(
    r.items,
    (i) => `<tr><td><code>${clip(i.key)}</code></td><td class="num">${i.size}</td><td><code class="hash">${h(i.sha256)}</code></td><td>${h(i.acquiredAt)}</td><td>${clip(i.acquiredBy)}</td><td><code>${clip(i.origin)}</code></td></tr>`,
    { rows: REPORT_LIMITS.evidence, bytes: REPORT_LIMITS.bytes.evidence },
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<title>Amber case report: ${h(r.case)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>Case ${h(r.case)}</h1>
  <p class="meta">Generated ${h(r.generatedAt)} by ${h(r.tool)} from ${h(r.locker)}</p>
  <div class="cards">
    ${card('Evidence objects', String(r.items.length), formatBytes(bytes))}
    ${card('Events', String(r.events), `${r.identities.length} identities`)}
    ${card('Findings', String(r.findings.length), [bySeverity.filter(([, f]) => f.length).map(([s, f]) => `${f.length} ${s}`).join(', ') || 'none', r.suppressed?.length ? `${r.suppressed.length} suppressed` : ''].filter(Boolean).join('; '))}
    ${card('Integrity', r.verification.intact ? 'INTACT' : 'FAILED', `${r.verification.failures.length} problems, checked ${r.verification.checkedAt}`, r.verification.intact ? 'ok' : 'bad')}
  </div>
</header>
<main>
${chainsSection(r.case, r.findings)}
${coverageSection(r.coverage, r.unrecognised ?? [], r.parseProblems.length)}
<section id="findings">
  <h2>Findings by severity</h2>
  ${r.findings.length === 0 ? '<p>No detection matched.</p>' : `${findingFilters(bySeverity.filter(([, f]) => f.length > 0).map(([s]) => s))}\n${findingsSection(r.case, bySeverity)}`}
  ${suppressedSection(r.case, r.suppressed ?? [])}
  ${r.detectionErrors.length ? `<h3>Detections that could not run</h3>${listWithin(r.detectionErrors, (e) => `<li><code>${h(e.detection)}</code>: ${clip(e.error)}</li>`, 500, REPORT_LIMITS.bytes.errors, 'in <code>amber detect --json</code>')}` : ''}
</section>
${inventorySection(r.inventory)}
<section id="timeline">
  <h2>Timeline</h2>
  ${activityPlot(r.activity, r.findings)}
</section>
<section id="identities">
  <h2>Activity per identity</h2>
  <p class="meta-dark">Identities are correlated across clouds by the e-mail address an actor names (AWS SSO and federated sessions, Entra UPNs, Google principals, Microsoft 365 users).</p>
  ${identityTable(r.identities, r.findings, r.case)}
</section>
<section id="evidence">
  <h2>Evidence</h2>
  <table><thead><tr><th>Key</th><th>Size</th><th>SHA-256</th><th>Acquired</th><th>By</th><th>Origin</th></tr></thead><tbody>
  ${evidence.html}
  </tbody></table>
  ${evidence.left > 0 ? `<p class="more">and ${evidence.left} more objects (${r.items.length} in all, in key order): the custody ledger and the sealed manifests name every one with its SHA-256; <code>amber verify --case ${h(r.case)} --json</code> re-hashes each.</p>` : ''}
  ${r.parseProblems.length ? `<h3>Records that could not be parsed (${r.parseProblems.length}; preserved and hashed all the same)</h3>${listWithin(r.parseProblems, (p) => `<li><code>${clip(p.key)}</code>${p.record === undefined ? '' : ` record ${p.record}`}: ${clip(p.reason)}</li>`, 500, REPORT_LIMITS.bytes.problems, 'in <code>amber detect --json</code>')}` : ''}
</section>
<section id="custody">
  <h2>Chain of custody</h2>
  <p>${r.verification.intact ? `Verified intact at ${h(r.verification.checkedAt)}: every object re-hashed, ${r.verification.ledgerEntries} ledger entries chained and anchored.` : `<strong class="bad">Integrity failure at ${h(r.verification.checkedAt)}:</strong>`}</p>
  ${r.verification.failures.length ? `<ul>${r.verification.failures.map((f) => `<li class="bad"><code>${h(f.kind)}</code> ${f.key ? `<code>${h(f.key)}</code>: ` : ''}${h(f.reason)}</li>`).join('')}</ul>` : ''}
  <table><thead><tr><th>#</th><th>Time (UTC)</th><th>Action</th><th>Actor</th><th>Tool</th><th>Items</th><th>Detail</th><th>Previous entry SHA-256</th></tr></thead><tbody>
  ${ledgerRows(r.ledger)}
  </tbody></table>
</section>
</main>
<footer>Amber evidence report. Hashes are SHA-256 of the preserved bytes; each finding names the preserved object and the record's index inside it.</footer>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

function card(label: string, value: string, sub: string, tone = ''): string {
  return `<div class="card ${tone}"><div class="label">${h(label)}</div><div class="value">${h(value)}</div><div class="sub">${h(sub)}</div></div>`;
}

/** "12:10:05Z", or "first .. last (N records, grouped M findings)" for a finding that stands for several. */
function span(f: Finding): string {
  const when = f.first_time !== null && f.last_time !== null && f.first_time !== f.last_time ? `${f.first_time} .. ${f.last_time}` : (f.first_time ?? f.event_time ?? '');
  const counts = [f.records > 1 ? `${f.records} records` : '', f.repeats > 1 ? `grouped ${f.repeats} findings` : ''].filter(Boolean).join(', ');
  return counts ? `${when} (${counts})` : when;
}

/**
 * Findings by severity, then by detection (in the run's order): each detection's first
 * REPORT_LIMITS.findingsPerDetection findings, at most REPORT_LIMITS.findings in all, and for the rest a count
 * and where to get them.
 */
function findingsSection(caseName: string, bySeverity: readonly (readonly [string, readonly Finding[]])[]): string {
  const budget: Budget = { rows: REPORT_LIMITS.findings, bytes: REPORT_LIMITS.bytes.findings };
  const out: string[] = [];
  for (const [severity, findings] of bySeverity) {
    if (findings.length === 0) continue;
    const byDetection = new Map<string, Finding[]>();
    for (const f of findings) {
      const group = byDetection.get(f.detection);
      if (group) group.push(f);
      else byDetection.set(f.detection, [f]);
    }
    out.push(`<h3 class="sev-${severity}">${h(severity)} (${findings.length})</h3>`);
    for (const group of byDetection.values()) {
      const first = group.slice(0, REPORT_LIMITS.findingsPerDetection);
      const shown = fit(first, findingRow, budget);
      const left = group.length - (first.length - shown.left);
      out.push(findingTable(group[0]!, group.length, shown.html));
      if (left > 0) out.push(`<p class="more">and ${counted(left, 'more finding')} of <code>${h(group[0]!.detection)}</code> not shown here (${group.length} in all): ${allFindingsHint(caseName)}.</p>`);
    }
  }
  return out.join('\n');
}

function findingTable(first: Finding, total: number, rows: string): string {
  return `<h4 class="detection">${h(first.title)} <code>${h(first.detection)}</code> (${counted(total, 'finding')})</h4>
${rows === '' ? '' : `<table class="findings sortable"><thead><tr><th>Time (UTC)</th><th>Detection</th><th>ATT&amp;CK</th><th>Actor</th><th>Source IP</th><th>Action</th><th>Target</th></tr></thead>
${rows}
</table>`}`;
}

/** Two rows per finding: the facts, then the explanation and the evidence it rests on, full width. */
function findingRow(f: Finding): string {
  return `<tbody class="finding" data-severity="${h(f.severity)}"><tr><td data-sort="${h(f.first_time ?? f.event_time ?? '')}">${h(span(f))}</td><td><strong>${h(f.title)}</strong>${f.outcome === 'failure' ? ` <span class="failed">failed attempt${f.error_code ? `: ${clip(f.error_code)}` : ''}</span>` : ''}<br><code>${h(f.detection)}</code></td><td>${f.mitre.map((m) => h(m)).join(' ')}</td><td><code>${clip(f.actor)}</code></td><td>${clip(f.source_ip)}</td><td>${clip(f.action)}</td><td><code>${clip(f.target)}</code></td></tr>
<tr class="sub"><td colspan="7"><div class="detail">${clip(f.detail)}</div><div class="context">${[f.account ? `account <code>${clip(f.account)}</code>` : '', f.region ? `region <code>${clip(f.region)}</code>` : '', f.user_agent ? `user agent <code>${clip(f.user_agent)}</code>` : ''].filter(Boolean).join(' &middot; ')}</div><div class="evidence">evidence <code>${h(f.evidence_key)}</code> record ${f.evidence_record ?? '(index unknown: locate by event id)'} &middot; <code class="hash">sha256 ${h(f.evidence_sha256 ?? 'unknown')}</code></div></td></tr></tbody>`;
}

/** Findings left out by the responder's rules: listed with the rule and its reason, never hidden. */
function suppressedSection(caseName: string, suppressed: readonly SuppressedFinding[]): string {
  if (suppressed.length === 0) return '';
  const rows = fit(
    suppressed,
    ({ finding: f, rule }) =>
      `<tr><td>${h(span(f))}</td><td><code>${h(f.detection)}</code></td><td><code>${clip(f.actor)}</code></td><td>${clip(f.action)}</td><td><code>${clip(f.target)}</code></td><td><code>${clip(f.user_agent)}</code></td><td>${rule.rule}</td><td>${clip(rule.reason)}</td><td><code>${h(f.evidence_key)}</code> record ${f.evidence_record ?? '?'}</td></tr>`,
    { rows: REPORT_LIMITS.suppressed, bytes: REPORT_LIMITS.bytes.suppressed },
  );
  const more = rows.left;
  return `<h3 id="suppressed">Suppressed (${suppressed.length})</h3>
<p class="meta-dark">Left out of the findings above by the suppression file given to this run; each names the rule that matched and why it is expected.</p>
<table><thead><tr><th>Time (UTC)</th><th>Detection</th><th>Actor</th><th>Action</th><th>Target</th><th>User agent</th><th>Rule</th><th>Reason</th><th>Evidence</th></tr></thead><tbody>
${rows.html}
</tbody></table>${more > 0 ? `\n<p class="more">and ${counted(more, 'more suppressed finding')} not shown here: <code>amber detect --case ${h(caseName)} --suppress FILE --json</code> lists every one.</p>` : ''}`;
}

function identityTable(identities: readonly IdentityActivity[], findings: readonly Finding[], caseName: string): string {
  if (identities.length === 0) return '<p>No events.</p>';
  const counts = new Map<string, number>();
  for (const f of findings) {
    const who = identityOf(f.actor);
    if (who) counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  // One tbody per identity: its activity row and the inventory's facts under it sort and filter as one unit.
  const shown = fit(identities, (i) => `<tbody class="unit"><tr${counts.get(i.actor) ? ' class="flagged"' : ''}><td><code>${clip(i.actor)}</code></td><td>${h(i.sources ?? '')}</td><td class="num">${i.events}</td><td class="num">${counts.get(i.actor) ?? 0}</td><td class="num">${i.errors}</td><td class="num">${i.sourceIps}</td><td class="num">${i.actions}</td><td>${h(i.first)}</td><td>${h(i.last)}</td></tr>${identityInventory(i)}</tbody>`, { rows: REPORT_LIMITS.identities, bytes: REPORT_LIMITS.bytes.identities });
  return `<table class="sortable"><thead><tr><th>Identity</th><th>Seen in</th><th>Events</th><th>Findings</th><th>Errors</th><th>Source IPs</th><th>Distinct actions</th><th>First seen</th><th>Last seen</th></tr></thead>
${shown.html}
</table>${shown.left > 0 ? `\n<p class="more">and ${shown.left} less busy identities not shown here: <code>amber timeline --case ${h(caseName)}</code> has every event of each.</p>` : ''}`;
}

/** The inventory's facts about an identity, under its activity row, each citing its answer and record. */
function identityInventory(i: IdentityActivity): string {
  if (!i.inventory || i.inventory.length === 0) return '';
  const facts = i.inventory.map((f) => `<li>${clip(f.fact)} <span class="evidence"><code>${h(f.evidence_key)}</code> record ${f.evidence_record}</span></li>`).join('');
  return `<tr class="sub inventory"><td colspan="9"><span class="meta-dark">In the inventory:</span><ul class="inventory-facts">${facts}</ul></td></tr>`;
}

/** The ledger's first and most recent entries, and how many lie between (the ledger file holds them all). */
function ledgerRows(ledger: readonly LedgerEntry[]): string {
  const { ledgerFirst, ledgerLast } = REPORT_LIMITS;
  if (ledger.length <= ledgerFirst + ledgerLast) return fit(ledger, ledgerRow, { rows: ledger.length, bytes: REPORT_LIMITS.bytes.ledger }).html;
  const skipped = ledger.length - ledgerFirst - ledgerLast;
  // Ledger rows are bounded (details cut at 300 characters), so the budget is split between the two ends.
  const half = { rows: ledgerFirst + ledgerLast, bytes: REPORT_LIMITS.bytes.ledger / 2 };
  return [
    fit(ledger.slice(0, ledgerFirst), ledgerRow, { ...half }).html,
    `<tr class="more"><td colspan="8">${counted(skipped, 'entry', 'entries')} (${ledger[ledgerFirst]!.seq} to ${ledger[ledgerFirst + skipped - 1]!.seq}) not shown here: <code>custody-ledger.jsonl</code> in the case holds every one, and the verification above checked them all.</td></tr>`,
    fit(ledger.slice(-ledgerLast), ledgerRow, { ...half }).html,
  ].join('\n');
}

function ledgerRow(e: LedgerEntry): string {
  const detail = e.detail ? JSON.stringify(e.detail) : '';
  return `<tr><td class="num">${e.seq}</td><td>${h(e.at)}</td><td>${h(e.action)}</td><td>${h(e.actor)}</td><td>${h(e.tool)}</td><td class="num">${e.items?.length ?? ''}</td><td class="detail"><code>${h(detail.length > 300 ? `${detail.slice(0, 300)}…` : detail)}</code></td><td><code class="hash">${h(e.prev.slice(0, 16))}…</code></td></tr>`;
}

function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} KB` : `${n} B`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d232b;background:#fafaf7}
header{background:#2b2118;color:#fff;padding:20px 32px}header h1{margin:0 0 4px;color:#ffbf47}.meta{margin:0;opacity:.8}
main{padding:8px 32px 32px}section{margin-top:24px}h2{border-bottom:2px solid #ffbf47;padding-bottom:4px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-top:16px}.card{background:#3a2d21;border-radius:8px;padding:10px 16px;min-width:180px}
.card .label{font-size:12px;opacity:.8}.card .value{font-size:24px;font-weight:600}.card .sub{font-size:12px;opacity:.8}
.card.ok .value{color:#8fdc8f}.card.bad .value{color:#ff8a80}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;background:#fff}th,td{border:1px solid #e2ded4;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f1ede3}td.num{text-align:right}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.hash{color:#6b5b45}td.detail{max-width:420px;word-break:break-word}tr.flagged{background:#fff4e0}
table.findings tbody.finding{border-top:2px solid #d8d2c4}tr.sub td{background:#fcfbf7;border-top:none}tr.sub .detail{margin-bottom:2px}tr.sub .evidence{font-size:12px;color:#555}tr.sub .context{font-size:12px;color:#555}.failed{color:#8b0000;font-size:12px}
.sev-critical{color:#8b0000}.sev-high{color:#c0392b}.sev-medium{color:#d35400}.sev-low{color:#7d6608}.sev-informational{color:#555}
.bad{color:#c0392b}svg{width:100%;max-width:960px;background:#fff;border:1px solid #e2ded4}
svg .ev{fill:#e0a43a}svg .err{fill:#c0392b}svg .finding{fill:#8b0000}svg .axis{stroke:#999}svg .lbl{font-size:11px;fill:#555}
.legend .sw{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}.sw.ev{background:#e0a43a}.sw.err{background:#c0392b}.sw.finding{background:#8b0000;border-radius:5px}
.meta-dark{color:#555;margin:4px 0}.more{color:#555;font-style:italic}.cut{color:#777;font-size:11px}h4.detection{margin:12px 0 2px}
.chain{border-left:3px solid #ffbf47;padding-left:12px;margin:12px 0}ol.stages{list-style:none;padding-left:0}li.stage h4{margin:8px 0 2px;text-transform:capitalize}ol.steps li{margin:4px 0}.when{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}.evidence{font-size:12px;color:#555}
footer{padding:16px 32px;color:#777;font-size:12px}
.filters{display:flex;gap:16px;align-items:center;flex-wrap:wrap;margin:8px 0}.filters input{min-width:280px}
table.sortable th{cursor:pointer}th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}[hidden]{display:none!important}`;
