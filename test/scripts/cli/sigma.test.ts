/**
 * `amber rules` and `amber detect --sigma`: a user's Sigma rules listed with the reason each one cannot run, and the
 * ones that compile run beside the catalogue with findings that cite the preserved record. Rules and case are
 * synthetic and written by the test.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

const RULE_ID = '5b0e7a52-0d6c-4b7e-9a55-1f1f0e1d2c3b';

/** A synthetic rule for CloudTrail, one with a field CloudTrail lacks, and one for a logsource with no table. */
async function rulesFolder(cwd: string): Promise<string> {
  const dir = join(cwd, 'sigma', 'cloud');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'bucket_policy_to_everyone.yml'),
    `title: Synthetic bucket policy opened to everyone
id: ${RULE_ID}
status: test
level: high
tags: [attack.t1530]
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: s3.amazonaws.com
    eventName: PutBucketPolicy
    requestParameters.bucketName|startswith: evidence-
  filter:
    userIdentity.type: AWSService
  condition: selection and not filter
`,
  );
  await writeFile(
    join(dir, 'unmapped_field.yml'),
    `title: Synthetic rule on a field CloudTrail does not have
id: 0b0e7a52-0d6c-4b7e-9a55-1f1f0e1d2c3b
status: test
logsource: {product: aws, service: cloudtrail}
detection:
  selection: {src_country: XX}
  condition: selection
`,
  );
  await writeFile(
    join(dir, 'okta.yml'),
    `title: Synthetic Okta rule
id: 1b0e7a52-0d6c-4b7e-9a55-1f1f0e1d2c3b
status: test
logsource: {product: okta, service: okta}
detection:
  selection: {eventType: user.session.start}
  condition: selection
`,
  );
  return dir;
}

const record = (eventName: string, bucketName: string, userType = 'IAMUser'): Record<string, unknown> => ({
  eventVersion: '1.08',
  eventTime: '2026-04-02T09:00:00Z',
  eventSource: 's3.amazonaws.com',
  eventName,
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.7',
  userIdentity: { type: userType, arn: `arn:aws:iam::111122223333:user/mallory` },
  requestParameters: { bucketName },
  eventID: `${eventName}-${bucketName}`,
});

describe('CLI: amber rules', () => {
  it('lists catalogue and Sigma rules as JSON, each unsupported rule with its exact reason', async () => {
    const cwd = await tempDir();
    const dir = await rulesFolder(cwd);
    const run = await runCli(['rules', '--sigma', dir, '--json'], { cwd });
    expect(run.code).toBe(0);
    const rules = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    for (const r of rules) expect(Object.keys(r)).toEqual(expect.arrayContaining(['id', 'title', 'origin', 'logsource', 'status', 'reason']));
    expect(rules.some((r) => r.origin === 'catalogue' && r.status === 'ok')).toBe(true);
    // Catalogue detections name the Stratus Red Team techniques they catch.
    expect(rules.find((r) => r.id === 'ssm-command-or-session-on-instances')?.stratus).toEqual(['aws.execution.ssm-send-command', 'aws.execution.ssm-start-session']);
    const sigma = rules.filter((r) => r.origin === 'sigma');
    expect(sigma.map((r) => [r.id, r.status, r.logsource])).toEqual([
      [RULE_ID, 'ok', 'aws/cloudtrail'],
      ['1b0e7a52-0d6c-4b7e-9a55-1f1f0e1d2c3b', 'unsupported', 'okta/okta'],
      ['0b0e7a52-0d6c-4b7e-9a55-1f1f0e1d2c3b', 'unsupported', 'aws/cloudtrail'],
    ]);
    expect(sigma[0]).toMatchObject({ reason: null, mitre: ['T1530'] });
    expect(sigma[1]!.reason).toMatch(/logsource okta\/okta has no Amber table/);
    expect(sigma[2]!.reason).toMatch(/field "src_country" has no column in cloudtrail/);
  });

  it('says which folder is missing and how to fix it', async () => {
    const cwd = await tempDir();
    const run = await runCli(['rules', '--sigma', join(cwd, 'nope')], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Sigma rules folder .*nope does not exist/);
    expect(run.stderr).toMatch(/fix: pass --sigma with a folder of Sigma \.yml rules/);
  });
});

describe('CLI: amber detect --sigma', () => {
  it('runs the Sigma rules beside the catalogue; a finding names sigma:<id> and cites the evidence object and record', async () => {
    const cwd = await tempDir();
    const dir = await rulesFolder(cwd);
    const key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/04/02/111122223333_CloudTrail_us-east-1_20260402T0900Z_sigma.json';
    await mkdir(join(cwd, 'export', key, '..'), { recursive: true });
    // Record 1 is the one the rule is for; 0 is another bucket, 2 is AWS itself (the rule's filter).
    await writeFile(
      join(cwd, 'export', key),
      JSON.stringify({ Records: [record('PutBucketPolicy', 'public-site'), record('PutBucketPolicy', 'evidence-prod'), record('PutBucketPolicy', 'evidence-logs', 'AWSService')] }),
    );
    expect((await runCli(['collect', '--case', 'C1', '--from', 'export'], { cwd })).code).toBe(0);

    const run = await runCli(['detect', '--case', 'C1', '--sigma', dir, '--json'], { cwd });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as { findings: Array<Record<string, unknown>>; errors: unknown[]; sigma: unknown };
    expect(out.errors).toEqual([]);
    expect(out.sigma).toEqual({ compiled: 1, unsupported: 2 });
    const sigma = out.findings.filter((f) => String(f.detection).startsWith('sigma:'));
    expect(sigma).toHaveLength(1);
    expect(sigma[0]).toMatchObject({
      detection: `sigma:${RULE_ID}`,
      title: 'Synthetic bucket policy opened to everyone',
      severity: 'high',
      evidence_key: expect.stringMatching(new RegExp(`${key.replace(/[.]/g, '\\.')}$`)),
      evidence_record: 1,
      evidence_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      action: 's3.amazonaws.com:PutBucketPolicy',
      source_ip: '198.51.100.7',
    });

    const text = await runCli(['detect', '--case', 'C1', '--sigma', dir], { cwd });
    expect(text.stdout).toMatch(/Synthetic bucket policy opened to everyone/);
    expect(text.stdout).toMatch(/Sigma rules from .*: 1 compiled and run, 2 not run \(amber rules --sigma .* says why for each\)/);
  });
});
