import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../shared/detections/run.ts';
import { renderHtmlReport, type ReportInput } from '../../../shared/reports/html-report.ts';
import { REPORT_SCRIPT } from '../../../shared/reports/interactive.ts';

const EVIL = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`;

/** A single-record finding whose every log-derived field is hostile. */
function finding(evil: string): Finding {
  return {
    detection: 'root-account-usage', title: 'Root account used', severity: 'high', mitre: ['T1078.004'], event_time: '2026-11-20T04:00:00Z', actor: evil,
    source_ip: '198.51.100.23', action: 'ConsoleLogin', target: evil, detail: evil, first_time: '2026-11-20T04:00:00Z', last_time: '2026-11-20T04:00:00Z',
    records: 1, repeats: 1, cloud: 'aws', source: 'cloudtrail', account: evil, region: evil, user_agent: `terraform/1.5 ${evil}`, outcome: 'success', error_code: null,
    evidence_key: `cases/INC-1/${evil}.json`, evidence_record: 7, evidence_sha256: 'a'.repeat(64),
  };
}

function input(): ReportInput {
  return {
    case: 'INC-1',
    generatedAt: '2026-11-21T00:00:00Z',
    tool: 'amber/test',
    locker: 'file:///tmp/locker',
    items: [{ id: 'ev-1', case: 'INC-1', origin: `file:///x/${EVIL}`, key: `cases/INC-1/${EVIL}.json`, size: 10, sha256: 'a'.repeat(64), acquiredAt: '2026-11-21T00:00:00Z', acquiredBy: 'analyst', retainUntil: null, mediaType: 'application/json' }],
    events: 2,
    findings: [
      {
        ...finding(EVIL),
        first_time: '2026-11-20T04:00:00Z',
        last_time: '2026-11-20T04:09:00Z',
        records: 12,
        repeats: 3,
        outcome: 'failure',
        error_code: `AccessDenied${EVIL}`,
      },
    ],
    suppressed: [{ finding: { ...finding(EVIL), evidence_record: 9 }, rule: { rule: 2, reason: `our pipeline ${EVIL}`, userAgent: 'terraform/' } }],
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
    // The only script is the report's own (filter and sort), placed once, at the end of the body.
    expect(html.split(/<script/i)).toHaveLength(2);
    expect(html).toContain(`<script>${REPORT_SCRIPT}</script>\n</body>`);
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/onerror=alert\(2\)>/);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('shows what the inventory says about an identity under its activity, escaped, each fact with its answer and record', () => {
    // Prepare: a fact and an evidence key carrying markup (names and tags come from the cloud)
    const base = input();
    const identity = { ...base.identities[0]!, actor: 'arn:aws:iam::111122223333:user/alice', inventory: [
      { fact: `ADMIN policy attached: ${EVIL}`, evidence_key: `cases/INC-1/aws/inventory/111122223333/20260314T090000Z/global/iam/ListAttachedUserPolicies/${EVIL}/page-00001.xml`, evidence_record: 1 },
      { fact: 'no MFA device (ListMFADevices answered none)', evidence_key: 'cases/INC-1/aws/inventory/111122223333/20260314T090000Z/global/iam/ListMFADevices/alice/page-00001.xml', evidence_record: 0 },
    ] };

    // Act
    const html = renderHtmlReport({ ...base, identities: [identity, { ...base.identities[0]!, actor: 'someone-else' }] });

    // Assess
    const section = /<section id="identities">[\s\S]*?<\/section>/.exec(html)![0];
    expect(section).not.toContain('<script');
    expect(section).not.toContain('<img');
    expect(section).toContain('<tr class="sub inventory"><td colspan="9"><span class="meta-dark">In the inventory:</span><ul class="inventory-facts"><li>ADMIN policy attached: &#60;script&#62;alert(1)&#60;/script&#62;');
    expect(section).toContain('ListMFADevices/alice/page-00001.xml</code> record 0');
    // Only the identity the inventory knows gets the row
    expect(section.match(/class="sub inventory"/g)).toHaveLength(1);
  });

    it('is self-contained: no external fetch, no script but its own, and a CSP that forbids the rest', () => {
    const html = renderHtmlReport(input());
    expect(html).not.toMatch(/<(link|iframe)\b/i);
    expect(html).not.toMatch(/<script\b[^>]*\bsrc\s*=/i);
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

  it('marks a failed attempt with its error code, shows the span, record and grouping counts, account, region and user agent', () => {
    const html = renderHtmlReport(input());
    expect(html).toContain('failed attempt: AccessDenied&#60;script&#62;');
    expect(html).toContain('2026-11-20T04:00:00Z .. 2026-11-20T04:09:00Z (12 records, grouped 3 findings)');
    expect(html).toContain('user agent <code>terraform/1.5 &#60;script&#62;');
    expect(html).toMatch(/account <code>&#60;script&#62;/);
    expect(html).toMatch(/region <code>&#60;script&#62;/);
  });

  it('lists suppressed findings in their own section with the rule number and reason, escaped', () => {
    const html = renderHtmlReport(input());
    const section = html.slice(html.indexOf('id="suppressed"'));
    expect(html).toContain('id="suppressed"');
    expect(section).toContain('our pipeline &#60;script&#62;');
    expect(section).toMatch(/<td>2<\/td><td>our pipeline/);
    expect(section).toContain('record 9');
    expect(html).toMatch(/1 high; 1 suppressed/);
  });

  it('has no suppressed section when nothing was suppressed', () => {
    expect(renderHtmlReport({ ...input(), suppressed: [] })).not.toContain('id="suppressed"');
  });

  it('says what the findings rest on: objects analysed, not analysed (named, escaped) and records set aside', () => {
    const html = renderHtmlReport({
      ...input(),
      coverage: {
        objects: { total: 3, analysed: 1, unrecognised: 1, unparsable: 1, digests: 0, derived: 0 },
        records: { loaded: 2, rejected: 1 },
        sources: { cloudtrail: { objects: 1, records: { loaded: 2, rejected: 1 } } },
      },
      unrecognised: [{ key: `cases/INC-1/${EVIL}.bin`, reason: 'not a format Amber parses yet' }],
    });
    const section = html.slice(html.indexOf('id="coverage"'), html.indexOf('id="findings"'));
    expect(section).toContain('1 object of 3 analysed');
    expect(section).toContain('1 record set aside');
    expect(section).toContain('not a format Amber parses yet');
    expect(section).not.toContain('<script>');
    expect(section).not.toContain('Nothing analysed');
  });

  it('puts "nothing analysed" before any finding when no object could be read, so no findings is not read as clean', () => {
    const html = renderHtmlReport({
      ...input(),
      findings: [],
      coverage: { objects: { total: 2, analysed: 0, unrecognised: 2, unparsable: 0, digests: 0, derived: 0 }, records: { loaded: 0, rejected: 0 }, sources: {} },
    });
    expect(html.indexOf('Nothing analysed')).toBeGreaterThan(0);
    expect(html.indexOf('Nothing analysed')).toBeLessThan(html.indexOf('No detection matched'));
  });
});
