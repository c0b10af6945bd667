import { describe, expect, it } from 'vitest';
import { describeFindings } from '../../../scripts/cli/detect.ts';
import type { CaseSession } from '../../../scripts/cli/case-session.ts';
import { UNENRICHED, type Finding } from '../../../shared/detections/run.ts';

/** Only what describeFindings reads of a session. */
const session = { caseName: 'INC-1', tables: { events: { cloudtrail: 1 }, problems: [], unrecognised: [], coverage: { objects: { total: 1, analysed: 1, unrecognised: 0, unparsable: 0, digests: 0, derived: 0 }, records: { loaded: 1, rejected: 0 }, sources: {} } } } as unknown as CaseSession;

const finding: Finding = {
  detection: 'access-denied-burst', title: 'Burst of AccessDenied', severity: 'medium', mitre: ['T1580'], event_time: '2026-11-20T10:00:05Z',
  actor: 'arn:aws:iam::111122223333:user/mallory', source_ip: '203.0.113.9', action: 'ListBuckets', target: '5 services', detail: '14 AccessDenied in 10 min',
  first_time: '2026-11-20T10:00:05Z', last_time: '2026-11-20T10:08:59Z', records: 14, repeats: 2, ...UNENRICHED,
  account: '111122223333', region: 'eu-west-1', user_agent: 'aws-cli/2.15 \u001b[31mred', outcome: 'failure', error_code: 'AccessDenied',
  evidence_key: 'cases/INC-1/a.json', evidence_record: 4, evidence_sha256: 'a'.repeat(64),
};

describe('Function: describeFindings', () => {
  it('shows the span, record and grouping counts, the failed outcome, account, region and user agent, terminal-safe', () => {
    const text = describeFindings(session, [finding], 1);
    expect(text).toContain('1 event, 1 detection run, 1 finding (1 of them failed attempts)');
    expect(text).toContain('2026-11-20T10:00:05Z .. 2026-11-20T10:08:59Z (14 records, grouped 2 findings)  Burst of AccessDenied [failed attempt]');
    expect(text).toContain('FAILED (AccessDenied)  account 111122223333  region eu-west-1  agent aws-cli/2.15 ');
    expect(text).not.toContain('\u001b');
    expect(text).toContain('evidence cases/INC-1/a.json record 4');
  });

  it('lists suppressed findings apart, with the rule number and reason', () => {
    const text = describeFindings(session, [], 1, [{ finding: { ...finding, outcome: 'success' }, rule: { rule: 3, reason: 'CI runner', userAgent: 'aws-cli/' } }]);
    expect(text).toContain('0 findings, 1 suppressed');
    expect(text).toContain('Suppressed (1 finding, by the rules in the --suppress file):');
    expect(text).toMatch(/access-denied-burst .*\[rule 3: CI runner\] {2}evidence cases\/INC-1\/a\.json record 4/);
  });
});
