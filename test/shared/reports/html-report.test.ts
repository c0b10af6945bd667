import { describe, expect, it } from 'vitest';
import { renderHtmlReport, type ReportInput } from '../../../shared/reports/html-report.ts';

const EVIL = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`;

function input(): ReportInput {
  return {
    case: 'INC-1',
    generatedAt: '2026-11-21T00:00:00Z',
    tool: 'amber/test',
    locker: 'file:///tmp/locker',
    items: [{ id: 'ev-1', case: 'INC-1', origin: `file:///x/${EVIL}`, key: `cases/INC-1/${EVIL}.json`, size: 10, sha256: 'a'.repeat(64), acquiredAt: '2026-11-21T00:00:00Z', acquiredBy: 'analyst', retainUntil: null, mediaType: 'application/json' }],
    events: 2,
    findings: [
      { detection: 'root-account-usage', title: 'Root account used', severity: 'high', mitre: ['T1078.004'], event_time: '2026-11-20T04:00:00Z', actor: EVIL, source_ip: '198.51.100.23', action: 'ConsoleLogin', target: EVIL, detail: EVIL, evidence_key: `cases/INC-1/${EVIL}.json`, evidence_record: 7, evidence_sha256: 'a'.repeat(64) },
    ],
    activity: [{ hour: '2026-11-20T04:00:00.000Z', events: 2, errors: 1 }],
    identities: [{ actor: EVIL, events: 2, first: '2026-11-20T04:00:00Z', last: '2026-11-20T04:10:00Z', sourceIps: 1, actions: 2, errors: 1 }],
    ledger: [{ seq: 1, prev: '0'.repeat(64), at: '2026-11-21T00:00:00Z', action: 'acquired', actor: 'analyst', tool: 'amber/test', case: 'INC-1', detail: { note: EVIL } }],
    verification: { case: 'INC-1', locker: 'file:///tmp/locker', intact: true, checkedAt: '2026-11-21T00:00:01Z', ledgerEntries: 1, bytes: 10, items: [], failures: [], accepted: [], warnings: [] },
    parseProblems: [{ key: `cases/INC-1/${EVIL}`, record: 3, reason: EVIL }],
    detectionErrors: [],
  };
}

describe('Function: renderHtmlReport', () => {
  it('escapes every log-derived string: no markup from the evidence reaches the page', () => {
    const html = renderHtmlReport(input());
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/onerror=alert\(2\)>/);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('is self-contained: no script, no external fetch, and a CSP that forbids both', () => {
    const html = renderHtmlReport(input());
    expect(html).not.toMatch(/<(script|link|iframe)\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?https?:/i);
    expect(html).toContain(`Content-Security-Policy" content="default-src 'none'`);
  });

  it('shows each finding with its evidence key, record index and SHA-256, and the integrity verdict', () => {
    const html = renderHtmlReport(input());
    expect(html).toContain('record 7');
    expect(html).toContain(`sha256 ${'a'.repeat(64)}`);
    expect(html).toContain('T1078.004');
    expect(html).toMatch(/class="value">INTACT</);
  });
});
