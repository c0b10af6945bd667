/** One shared fake finding: a root console sign-in, single record, every field set; tests override what they test. */
import type { Finding } from '../../shared/detections/run.ts';

/** A finding as the runner returns it, with `overrides` applied. */
export function aFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    detection: 'root-account-usage',
    title: 'Root user used',
    severity: 'high',
    mitre: ['T1078.004'],
    event_time: '2026-03-01T11:00:00Z',
    actor: 'arn:aws:iam::111122223333:root',
    source_ip: '203.0.113.7',
    action: 'ConsoleLogin',
    target: 'account 111122223333',
    detail: 'root signed in to the console',
    first_time: '2026-03-01T11:00:00Z',
    last_time: '2026-03-01T11:00:00Z',
    records: 1,
    repeats: 1,
    cloud: 'aws',
    source: 'cloudtrail',
    account: '111122223333',
    region: 'eu-west-1',
    user_agent: 'console.amazonaws.com',
    outcome: 'success',
    error_code: null,
    evidence_key: 'cases/INC-7/a.json.gz',
    evidence_record: 0,
    evidence_sha256: 'a'.repeat(64),
    ...overrides,
  };
}
