/**
 * The report's interactive part: its one inline script is the only one the page's CSP allows (by SHA-256), it
 * fetches nothing and writes no markup, hostile log strings around it stay escaped, and the filter it runs hides
 * exactly the findings and identities that do not match.
 */
import { createHash } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../shared/detections/run.ts';
import { renderHtmlReport, type ReportInput } from '../../../shared/reports/html-report.ts';
import { REPORT_SCRIPT } from '../../../shared/reports/interactive.ts';

const EVIL = `</script><script>alert(1)</script><img src=x onerror=alert(2)>"'`;

function finding(over: Partial<Finding>): Finding {
  return {
    detection: 'root-account-usage', title: 'Root user used', severity: 'high', mitre: ['T1078.004'], event_time: '2026-11-20T04:00:00Z', actor: 'arn:aws:iam::111122223333:root',
    source_ip: '198.51.100.23', action: 'ConsoleLogin', target: 'account 111122223333', detail: 'root user made 1 call', first_time: '2026-11-20T04:00:00Z', last_time: '2026-11-20T04:00:00Z',
    records: 1, repeats: 1, cloud: 'aws', source: 'cloudtrail', account: '111122223333', region: 'us-east-1', user_agent: 'aws-cli/2', outcome: 'success', error_code: null,
    evidence_key: 'cases/INC-1/a.json', evidence_record: 0, evidence_sha256: 'a'.repeat(64),
    ...over,
  };
}

function input(findings: readonly Finding[]): ReportInput {
  return {
    case: 'INC-1', generatedAt: '2026-11-21T00:00:00Z', tool: 'amber/test', locker: 'file:///tmp/locker',
    items: [], events: 3, findings, suppressed: [], activity: [],
    identities: [
      { actor: 'alice@contoso.example', events: 2, first: '2026-11-20T04:00:00Z', last: '2026-11-20T04:10:00Z', sourceIps: 1, actions: 2, errors: 0 },
      { actor: EVIL, events: 1, first: '2026-11-20T05:00:00Z', last: '2026-11-20T05:00:00Z', sourceIps: 1, actions: 1, errors: 1 },
    ],
    ledger: [],
    verification: { case: 'INC-1', locker: 'file:///tmp/locker', intact: true, checkedAt: '2026-11-21T00:00:01Z', ledgerEntries: 0, bytes: 0, items: [], failures: [], accepted: [], warnings: [] },
    parseProblems: [], detectionErrors: [],
  };
}

const FINDINGS = [
  finding({ severity: 'high', actor: 'mallory@evil.example', detail: `opened ${EVIL}` }),
  finding({ severity: 'medium', detection: 'ses-enumeration', title: 'SES enumerated', actor: 'alice@contoso.example', action: 'GetSendQuota', evidence_record: 1 }),
  finding({ severity: 'medium', detection: 'ses-enumeration', title: 'SES enumerated', actor: 'bob@contoso.example', action: 'ListIdentities', evidence_record: 2 }),
];

const scriptsOf = (html: string): string[] => [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
const cspOf = (html: string): Map<string, string[]> => {
  const content = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1] ?? '';
  return new Map(content.split(';').map((d) => d.trim().split(/\s+/)).filter((p) => p[0]).map((p) => [p[0]!, p.slice(1)]));
};

/** Just enough of a DOM for the script's filter: nodes with text, attributes, `hidden` and event listeners. */
class FakeNode {
  hidden = false;
  value = '';
  tabIndex = -1;
  title = '';
  readonly listeners = new Map<string, () => void>();
  constructor(public textContent: string, private readonly attributes: Record<string, string> = {}) {}
  getAttribute(name: string): string | null { return this.attributes[name] ?? null; }
  addEventListener(type: string, fn: () => void): void { this.listeners.set(type, fn); }
  fire(type: string): void { this.listeners.get(type)?.(); }
}

/** The page's findings and identity rows, read from the rendered HTML (text without tags, entities decoded). */
function fakeDocument(html: string): { document: unknown; findings: FakeNode[]; identities: FakeNode[]; byId: Map<string, FakeNode> } {
  const text = (s: string): string => s.replace(/<[^>]*>/g, ' ').replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
  const findings = [...html.matchAll(/<tbody class="finding" data-severity="([^"]*)">([\s\S]*?)<\/tbody>/g)].map((m) => new FakeNode(text(m[2]!), { 'data-severity': m[1]! }));
  const identitySection = html.slice(html.indexOf('id="identities"'), html.indexOf('id="evidence"'));
  // One tbody per identity (its activity row and the inventory's facts under it), filtered as one unit.
  const identities = [...identitySection.matchAll(/<tbody class="unit">([\s\S]*?)<\/tbody>/g)].map((m) => new FakeNode(text(m[1]!)));
  const byId = new Map([['finding-filter', new FakeNode('')], ['finding-severity', new FakeNode('')], ['finding-count', new FakeNode('')]]);
  const document = {
    getElementById: (id: string) => (html.includes(`id="${id}"`) ? byId.get(id) ?? null : null),
    querySelectorAll: (selector: string) => (selector === '#findings tbody.finding' ? findings : selector === '#identities tbody' ? identities : []),
  };
  return { document, findings, identities, byId };
}

describe('Interactive report', () => {
  it('allows exactly its own inline script through the CSP, by the SHA-256 of the script as placed in the page', () => {
    // Act
    const html = renderHtmlReport(input(FINDINGS));
    const scripts = scriptsOf(html);
    const csp = cspOf(html);

    // Assess
    expect(scripts).toEqual([REPORT_SCRIPT]);
    expect(csp.get('script-src')).toEqual([`'sha256-${createHash('sha256').update(scripts[0]!, 'utf8').digest('base64')}'`]);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect([...csp.keys()].sort()).toEqual(['default-src', 'img-src', 'script-src', 'style-src']);
  });

  it('fetches nothing and writes no markup: the script only reads text and sets hidden, order and aria-sort', () => {
    // Assess
    expect(REPORT_SCRIPT).not.toMatch(/\b(fetch|XMLHttpRequest|WebSocket|EventSource|sendBeacon|importScripts|eval|Function)\b|import\(/);
    expect(REPORT_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|createElement|setAttribute\('(on|src|href)/);
    expect(REPORT_SCRIPT).not.toMatch(/https?:|<\/script/i);
  });

  it('keeps hostile log strings escaped next to the script: no second script, no tag from the evidence', () => {
    // Act
    const html = renderHtmlReport(input(FINDINGS));

    // Assess
    expect(html.match(/<script/gi)).toHaveLength(1);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('</script><script>');
    expect(html).toContain('&#60;/script&#62;&#60;script&#62;alert(1)');
    expect(html).toContain('<option value="high">high</option><option value="medium">medium</option></select>');
  });

  it('filters the findings by text and severity, and the identities by text, counting what is shown', () => {
    // Prepare
    const page = fakeDocument(renderHtmlReport(input(FINDINGS)));
    runInNewContext(REPORT_SCRIPT, { document: page.document });
    const filter = page.byId.get('finding-filter')!;
    const severity = page.byId.get('finding-severity')!;
    const shown = (nodes: FakeNode[]): boolean[] => nodes.map((n) => !n.hidden);
    expect(page.findings).toHaveLength(3);
    expect(page.identities).toHaveLength(2);
    const count = (): string => (page.byId.get('finding-count') as unknown as { textContent: string }).textContent;
    expect(count()).toBe('3 of 3 findings shown');

    // Act / Assess: text over every field shown, case aside.
    filter.value = 'ALICE@contoso';
    filter.fire('input');
    expect(shown(page.findings)).toEqual([false, true, false]);
    expect(shown(page.identities)).toEqual([true, false]);

    // Act / Assess: severity alone, then both.
    filter.value = '';
    filter.fire('input');
    severity.value = 'medium';
    severity.fire('change');
    expect(shown(page.findings)).toEqual([false, true, true]);
    filter.value = 'listidentities';
    filter.fire('input');
    expect(shown(page.findings)).toEqual([false, false, true]);
    expect(count()).toBe('1 of 3 findings shown');

    // Act / Assess: a hostile string is plain text to the filter.
    severity.value = '';
    severity.fire('change');
    filter.value = '<script>alert(1)';
    filter.fire('input');
    expect(shown(page.findings)).toEqual([true, false, false]);
    expect(shown(page.identities)).toEqual([false, true]);
  });
});
