/**
 * A report that stays readable at scale: each detection's findings grouped, the first 50 shown with a count of
 * the rest and where to get them, and the file under the stated bound whatever the number of findings,
 * objects, identities and ledger entries, even when every log-derived field is huge.
 */
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../shared/detections/run.ts';
import type { EvidenceItem, LedgerEntry } from '../../../shared/evidence/model.ts';
import { REPORT_LIMITS, REPORT_MAX_BYTES, renderHtmlReport, type ReportInput } from '../../../shared/reports/html-report.ts';

function finding(detection: string, i: number, severity: Finding['severity'] = 'medium', text = ''): Finding {
  const time = new Date(Date.UTC(2026, 10, 20) + i * 1000).toISOString();
  return {
    detection, title: `Title of ${detection}`, severity, mitre: ['T1078'], event_time: time, actor: `arn:aws:iam::111122223333:user/u${i % 7}${text}`, source_ip: '198.51.100.23',
    action: `Call${text}`, target: `target-${i}${text}`, detail: `detail ${i}${text}`, first_time: time, last_time: time, records: 1, repeats: 1, cloud: 'aws', source: 'cloudtrail',
    account: '111122223333', region: 'eu-west-1', user_agent: `ua${text}`, outcome: 'success', error_code: null, evidence_key: `cases/C/f${i % 50}.json`, evidence_record: i, evidence_sha256: 'a'.repeat(64),
  };
}

function input(findings: Finding[], scale: { items: number; ledger: number; identities: number }, text = ''): ReportInput {
  const items: EvidenceItem[] = Array.from({ length: scale.items }, (_, i) => ({
    id: `ev-${i}`, case: 'C', origin: `file:///src/${i}${text}`, key: `cases/C/${String(i).padStart(6, '0')}${text}.json.gz`, size: 1000, sha256: 'b'.repeat(64), acquiredAt: '2026-11-21T00:00:00Z', acquiredBy: `analyst${text}`, retainUntil: null, mediaType: 'application/gzip',
  }));
  const ledger: LedgerEntry[] = Array.from({ length: scale.ledger }, (_, i) => ({ seq: i + 1, prev: '0'.repeat(64), at: '2026-11-21T00:00:00Z', action: 'acquired', actor: 'analyst', tool: 'amber/test', case: 'C', detail: { note: `n${text}` } }));
  return {
    case: 'C', generatedAt: '2026-11-21T00:00:00Z', tool: 'amber/test', locker: 'file:///tmp/locker', items, events: 1_000_000, findings, suppressed: [],
    activity: [{ hour: '2026-11-20T00:00:00.000Z', events: 10, errors: 1 }],
    identities: Array.from({ length: scale.identities }, (_, i) => ({ actor: `user${i}@corp.example${text}`, events: 1000 - i, first: '2026-11-20T00:00:00Z', last: '2026-11-21T00:00:00Z', sourceIps: 2, actions: 3, errors: 0 })),
    ledger,
    verification: { case: 'C', locker: 'file:///tmp/locker', intact: true, checkedAt: '2026-11-21T00:00:01Z', ledgerEntries: scale.ledger, bytes: 10, items: [], failures: [], accepted: [], warnings: [] },
    parseProblems: [], detectionErrors: [],
  };
}

describe('Function: renderHtmlReport, at scale', () => {
  it('shows the first 50 findings of a flooding detection with "and K more" and where to get them all, and every finding of a small one', () => {
    const findings = [...Array.from({ length: 3000 }, (_, i) => finding('noisy', i)), ...Array.from({ length: 40 }, (_, i) => finding('quiet', 5000 + i, 'high'))];
    const html = renderHtmlReport(input(findings, { items: 10, ledger: 10, identities: 10 }));
    expect(html.match(/<tbody class="finding"[ >]/g)).toHaveLength(50 + 40);
    expect(html).toContain('and 2950 more findings of <code>noisy</code> not shown here (3000 in all): <code>amber detect --case C --out findings.jsonl</code> (or <code>--json</code>) lists every one');
    expect(html).not.toContain('more findings of <code>quiet</code>');
    // Grouped per detection, with its full count; the first ones shown are the run's first (earliest here).
    expect(html).toContain('Title of noisy <code>noisy</code> (3000 findings)');
    expect(html).toContain('detail 49<');
    expect(html).not.toContain('detail 50<');
    // The summary card still counts every finding.
    expect(html).toMatch(/Findings<\/div><div class="value">3040</);
  });

  it('stays under the stated bound with thousands of findings, objects, identities and ledger entries whose fields are all huge', () => {
    // Escaped characters (each becomes a longer entity) and no long run a regular expression could backtrack over.
    const huge = '<x&"> '.repeat(20_000);
    const detections = Array.from({ length: 80 }, (_, d) => `det-${d}`);
    const findings = detections.flatMap((d, n) => Array.from({ length: 60 }, (_, i) => finding(d, n * 100 + i, 'critical', huge)));
    const html = renderHtmlReport(input(findings, { items: 20_000, ledger: 20_000, identities: 5000 }, huge));
    expect(Buffer.byteLength(html)).toBeLessThan(REPORT_MAX_BYTES);
    const shown = html.match(/<tbody class="finding"[ >]/g)!.length;
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThanOrEqual(REPORT_LIMITS.findings);
    // Detections past the budget are still named, with their counts and where to get their findings.
    expect(html).toContain('Title of det-79 <code>det-79</code> (60 findings)');
    expect(html).toContain('and 60 more findings of <code>det-79</code>');
    const objects = Number(/and (\d+) more objects \(20000 in all, in key order\)/.exec(html)?.[1]);
    expect(objects + (html.match(/class="hash">b{64}</g) ?? []).length).toBe(20_000);
    expect(html).toMatch(/and \d+ less busy identities not shown here/);
    expect(html).toContain('19500 entries (101 to 19600) not shown here');
    expect(html).toMatch(/\(1195\d\d more characters\)/);
  });
});
