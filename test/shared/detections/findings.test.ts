/**
 * What the runner does to findings after the queries: a total order, failed attempts after successes, repeats
 * grouped, each finding given its cited record's account, region, user agent and outcome, unsound citations
 * reported, and the responder's suppressions applied.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enrichFindings, groupRepeats, sortFindings, UNENRICHED, type Finding } from '../../../shared/detections/run.ts';
import { applySuppressions, parseSuppressions } from '../../../shared/detections/suppress.ts';
import { InvalidInputError } from '../../../shared/errors.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';

const base: Finding = {
  detection: 'iam-credentials-for-other-user',
  title: 'Credentials created for another user',
  severity: 'high',
  mitre: ['T1098.001'],
  event_time: '2026-11-20T10:00:00Z',
  actor: 'arn:aws:iam::111122223333:user/mallory',
  source_ip: '203.0.113.9',
  action: 'CreateAccessKey',
  target: 'user/bob',
  detail: 'access key created',
  first_time: '2026-11-20T10:00:00Z',
  last_time: '2026-11-20T10:00:00Z',
  records: 1,
  repeats: 1,
  ...UNENRICHED,
  evidence_key: 'cases/c/a.json',
  evidence_record: 2,
  evidence_sha256: null,
};
const at = (time: string, more: Partial<Finding> = {}): Finding => ({ ...base, event_time: time, first_time: time, last_time: time, ...more });

describe('Function: sortFindings', () => {
  it('gives one order whatever the input order: severity, then successes before failures, time, detection, key, record, rest', () => {
    const findings = [
      at('2026-11-20T10:00:00Z', { evidence_record: 10 }),
      at('2026-11-20T10:00:00Z', { evidence_record: 9 }),
      at('2026-11-20T09:00:00Z', { outcome: 'failure' }),
      at('2026-11-20T11:00:00Z', { outcome: 'success' }),
      at('2026-11-20T12:00:00Z', { severity: 'critical' }),
      at('2026-11-20T10:00:00Z', { evidence_record: 9, detail: 'another finding on the same record' }),
    ];
    const orders = new Set<string>();
    for (let i = 0; i < 6; i++) orders.add(JSON.stringify(sortFindings([...findings.slice(i), ...findings.slice(0, i)].reverse())));
    expect(orders.size).toBe(1);
    const sorted = sortFindings([...findings]);
    expect(sorted[0]!.severity).toBe('critical');
    // The failed attempt is the earliest, yet ranks after every success of its severity.
    expect(sorted.at(-1)!.outcome).toBe('failure');
    // Record 9 before record 10: numbers, not text.
    expect(sorted.slice(1, 4).map((f) => f.evidence_record)).toEqual([9, 9, 10]);
  });
});

describe('Function: groupRepeats', () => {
  it('groups one actor repeating one action on one target into one finding citing the first, with counts and span', () => {
    const grouped = groupRepeats([
      at('2026-11-20T10:05:00Z', { evidence_record: 7 }),
      at('2026-11-20T10:00:00Z', { evidence_record: 3, records: 4, last_time: '2026-11-20T10:02:00Z' }),
      at('2026-11-20T10:09:00Z', { evidence_record: 8 }),
      at('2026-11-20T10:01:00Z', { target: 'user/carol', evidence_record: 5 }),
      at('2026-11-20T10:03:00Z', { evidence_record: 6, outcome: 'failure', error_code: 'AccessDenied' }),
    ]);
    expect(grouped).toHaveLength(3);
    const bob = grouped.find((f) => f.target === 'user/bob' && f.outcome !== 'failure')!;
    expect(bob).toMatchObject({ evidence_record: 3, event_time: '2026-11-20T10:00:00Z', first_time: '2026-11-20T10:00:00Z', last_time: '2026-11-20T10:09:00Z', records: 6, repeats: 3 });
    expect(grouped.find((f) => f.target === 'user/carol')).toMatchObject({ records: 1, repeats: 1 });
    expect(grouped.find((f) => f.outcome === 'failure')).toMatchObject({ evidence_record: 6, repeats: 1 });
  });
});

describe('Function: enrichFindings', () => {
  let engine: DuckDbQueryEngine;
  beforeEach(async () => {
    engine = await DuckDbQueryEngine.create();
    await engine.exec(`CREATE TABLE timeline AS SELECT * FROM (VALUES
      ('2026-11-20T10:00:00Z', 'aws', 'cloudtrail', '111122223333', 'eu-west-1', 'arn:aws:iam::111122223333:user/mallory', 'CreateAccessKey', 'aws-cli/2.15', 'failure', 'AccessDenied', 'cases/c/a.json', 2)
    ) t(time, cloud, source, account, region, actor, action, user_agent, outcome, error_code, evidence_key, evidence_record)`);
    await engine.exec(`CREATE TABLE shadows AS SELECT 'cases/c/s.json' AS evidence_key, 4 AS evidence_record`);
  });
  afterEach(async () => engine.close());

  it("gives each finding its cited record's account, region, user agent, outcome and error code", async () => {
    const { findings, errors } = await enrichFindings(engine, 'main.timeline', [base]);
    expect(errors).toEqual([]);
    expect(findings).toEqual([{ ...base, cloud: 'aws', source: 'cloudtrail', account: '111122223333', region: 'eu-west-1', user_agent: 'aws-cli/2.15', outcome: 'failure', error_code: 'AccessDenied' }]);
  });

  it('reports a finding whose cited record the case does not hold as its detection\'s error, and leaves it out', async () => {
    const { findings, errors } = await enrichFindings(engine, 'main.timeline', [{ ...base, evidence_record: 99 }, { ...base, evidence_key: 'cases/c/s.json', evidence_record: 4 }], ['main.shadows']);
    // The second is in a source table though not on the timeline: kept, without enrichment.
    expect(findings).toEqual([{ ...base, evidence_key: 'cases/c/s.json', evidence_record: 4 }]);
    expect(errors).toEqual([{ detection: base.detection, error: expect.stringMatching(/cites record 99 of cases\/c\/a\.json, which the case does not hold/) }]);
  });
});

describe('Function: parseSuppressions / applySuppressions', () => {
  const rules = parseSuppressions(
    `suppress:
  - userAgent: "Terraform/"
    reason: our Terraform pipeline
  - userAgentPattern: "^stratus-red-team_[0-9a-f-]+$"
    detection: iam-credentials-for-other-user
    reason: the red-team exercise of 20 November
  - principal: arn:aws:iam::111122223333:role/backup
    reason: the backup role
`,
    'rules.yml',
    'f'.repeat(64),
  ).rules;

  it('leaves out findings a rule matches, each with the rule that matched, and keeps the rest in order', () => {
    const findings = [
      { ...base, user_agent: 'APN/1.0 HashiCorp/1.0 Terraform/1.1.2' },
      { ...base, user_agent: 'stratus-red-team_1d949e3e-4092' },
      { ...base, detection: 'root-account-usage', user_agent: 'stratus-red-team_1d949e3e-4092' },
      { ...base, actor: 'arn:aws:iam::111122223333:role/backup' },
      { ...base, user_agent: 'terraform/1.1.2' },
    ];
    const { findings: kept, suppressed } = applySuppressions(findings, rules);
    expect(suppressed.map((s) => [s.finding.user_agent ?? s.finding.actor, s.rule.rule, s.rule.reason])).toEqual([
      ['APN/1.0 HashiCorp/1.0 Terraform/1.1.2', 1, 'our Terraform pipeline'],
      ['stratus-red-team_1d949e3e-4092', 2, 'the red-team exercise of 20 November'],
      ['arn:aws:iam::111122223333:role/backup', 3, 'the backup role'],
    ]);
    // Substrings are case-sensitive; the pattern rule is limited to its detection.
    expect(kept.map((f) => [f.detection, f.user_agent])).toEqual([
      ['root-account-usage', 'stratus-red-team_1d949e3e-4092'],
      ['iam-credentials-for-other-user', 'terraform/1.1.2'],
    ]);
  });

  it('reads JSON too', () => {
    expect(parseSuppressions('{"suppress": [{"detection": "vpc-public-top-talkers", "reason": "noisy here"}]}', 'r.json', 'a'.repeat(64)).rules).toEqual([
      { rule: 1, detection: 'vpc-public-top-talkers', reason: 'noisy here' },
    ]);
  });

  it.each([
    ['suppress:\n  - userAgent: x\n', /rule 1 gives no reason/],
    ['suppress:\n  - reason: everything\n', /rule 1 matches nothing/],
    ['suppress:\n  - reason: r\n    agent: x\n', /unknown field\(s\) agent/],
    ['suppress:\n  - reason: r\n    userAgentPattern: "(["\n', /userAgentPattern is not a regular expression/],
    ['rules: []\n', /no "suppress" list/],
  ])('rejects a file that cannot mean what its author wants, naming the rule: %j', (text, message) => {
    expect(() => parseSuppressions(text, 'rules.yml', 'a'.repeat(64))).toThrow(InvalidInputError);
    expect(() => parseSuppressions(text, 'rules.yml', 'a'.repeat(64))).toThrow(message);
  });
});
