/**
 * `amber inventory --cloud aws` end to end: the CLI with the SDK's own configuration (environment credentials,
 * AWS_ENDPOINT_URL_<SERVICE> pointing at a fake estate on 127.0.0.1), then `amber verify`, `amber detect` and the
 * exports over what was preserved.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ESTATE_ACCOUNT, FakeAwsEstate } from '../helpers/fake-aws-estate.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

let fake: FakeAwsEstate;

beforeEach(async () => {
  fake = await new FakeAwsEstate().start();
  const home = await tempDir();
  for (const [name, value] of Object.entries({
    ...fake.env(),
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_REGION: 'eu-west-1',
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  })) vi.stubEnv(name, value);
  vi.stubEnv('AWS_PROFILE', undefined);
  vi.stubEnv('AWS_SESSION_TOKEN', undefined);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await fake.stop();
});

interface Summary {
  account: string;
  answers: Record<string, number>;
  problems: Array<{ region: string; service: string; code: string }>;
  collect: { items: number; failures: Array<{ origin: string; reason: string }> };
}

describe('amber inventory --cloud aws', () => {
  it('preserves every answer through paging, throttling, a disabled region and a denied service, and detect cites them', async () => {
    // Prepare: 5 instances 2 to a page; EC2 throttles twice; KMS denies; ap-southeast-3 is not enabled
    const cwd = await tempDir();
    fake.throttle('ec2', 2).deny('kms').disable('ap-southeast-3');

    // Act
    const run = await runCli(['inventory', '--case', 'INV-1', '--cloud', 'aws', '--region', 'eu-west-1', '--region', 'ap-southeast-3', '--locker', 'ev', '--json'], { cwd });
    const verify = await runCli(['verify', '--case', 'INV-1', '--locker', 'ev'], { cwd });
    const detect = await runCli(['detect', '--case', 'INV-1', '--locker', 'ev', '--json'], { cwd });

    // Assess: refusals are reported and recorded, never fatal
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.account).toBe(ESTATE_ACCOUNT);
    expect(summary.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ region: 'eu-west-1', service: 'kms', code: 'AccessDeniedException' }),
        expect.objectContaining({ region: 'ap-southeast-3', service: '*', code: 'AuthFailure' }),
      ]),
    );
    expect(summary.problems).toHaveLength(2);
    expect(summary.collect.failures.map((f) => f.reason).join('\n')).toMatch(/AccessDeniedException[\s\S]*AuthFailure/);
    // Three pages of instances, each kept under its own key; the throttled attempts left no page behind
    const base = join(cwd, 'ev', 'cases', 'INV-1', 'aws', 'inventory', ESTATE_ACCOUNT);
    const [taken] = await readdir(base);
    const pages = await readdir(join(base, taken!, 'eu-west-1', 'ec2', 'DescribeInstances'));
    expect(pages).toEqual(['page-00001.xml', 'page-00002.xml', 'page-00003.xml']);
    // The ledger's SHA-256 of a page is that of the bytes on disk, which are the fake's answer byte for byte
    const page2 = await readFile(join(base, taken!, 'eu-west-1', 'ec2', 'DescribeInstances', 'page-00002.xml'));
    expect(page2.toString('utf8')).toMatch(/^<DescribeInstancesResponse xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/"><requestId>r-DescribeInstances<\/requestId><reservationSet>.*<nextToken>4<\/nextToken><\/DescribeInstancesResponse>$/);
    const ledger = await readFile(join(cwd, 'ev', 'cases', 'INV-1', 'custody-ledger.jsonl'), 'utf8');
    expect(ledger).toContain(`"sha256":"${createHash('sha256').update(page2).digest('hex')}"`);
    // The throttled attempts were retried by the SDK: every EC2 answer kept (the refused region's too), plus the 2 throttled
    expect(fake.calls.ec2).toBe(summary.answers.ec2! + 2);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // Exposure findings, each citing a preserved answer and its record
    expect(detect.code, detect.stderr).toBe(0);
    const { findings, errors } = JSON.parse(detect.stdout) as { errors: unknown[]; findings: Array<{ detection: string; target: string; evidence_key: string; evidence_record: number; evidence_sha256: string }> };
    expect(errors).toEqual([]);
    const byDetection = (id: string) => findings.filter((f) => f.detection === id);
    expect(byDetection('inventory-instance-public-admin-port').map((f) => f.target)).toEqual(['i-0public0000000001']);
    expect(byDetection('inventory-security-group-open-to-world').map((f) => f.target)).toEqual(['sg-0open']);
    expect(byDetection('inventory-storage-public').map((f) => f.target)).toEqual(['site-assets']);
    expect(byDetection('inventory-snapshot-shared').map((f) => f.target).sort()).toEqual(['ami-0a1', 'snap-0public']);
    expect(byDetection('inventory-iam-user-without-mfa').map((f) => f.target)).toEqual(['bob']);
    expect(byDetection('inventory-access-key-old-or-unused').map((f) => f.target).sort()).toEqual(['AKIAALICEKEY00000001', 'AKIABOBKEY00000001']);
    expect(byDetection('inventory-lambda-url-public')).toHaveLength(1);
    expect(byDetection('inventory-cloudtrail-not-logging')).toHaveLength(1);
    expect(byDetection('inventory-vpc-without-flow-logs').map((f) => f.target)).toEqual(['vpc-0a2']);
    expect(byDetection('inventory-guardduty-off').map((f) => f.target)).toEqual(['eu-west-1']);
    // No account-level Block Public Access (S3 Control answered NoSuchPublicAccessBlockConfiguration): a low finding of its own
    expect(byDetection('inventory-s3-account-public-access-block-off').map((f) => [f.target, f.evidence_key.replace(/^.*\/global\//, '')])).toEqual([
      [ESTATE_ACCOUNT, 's3control/GetPublicAccessBlock/page-00001.xml'],
    ]);
    const open = byDetection('inventory-instance-public-admin-port')[0]!;
    expect(open.evidence_key).toMatch(new RegExp(`^cases/INV-1/aws/inventory/${ESTATE_ACCOUNT}/\\d{8}T\\d{6}Z/eu-west-1/ec2/DescribeInstances/page-00001\\.xml$`));
    const cited = await readFile(join(cwd, 'ev', open.evidence_key));
    expect(open.evidence_sha256).toBe(createHash('sha256').update(cited).digest('hex'));

    // The report's inventory section: counts per type and every exposure finding with the answer it cites
    const report = await runCli(['report', '--case', 'INV-1', '--locker', 'ev', '--out', 'report.html'], { cwd });
    expect(report.code, report.stderr).toBe(0);
    const html = await readFile(join(cwd, 'report.html'), 'utf8');
    const section = /<section id="inventory">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(section).toContain('<td>ec2:instance</td><td class="num">5</td>');
    expect(section).toContain(`Exposure findings (${findings.filter((f) => f.detection.startsWith('inventory-')).length})`);
    expect(section).toContain(open.evidence_key);
  }, 180_000);

  it('goes on past a refused call about one bucket, prints what was refused, and exports the normalised rows in the same bytes every time', async () => {
    // Prepare: the account blocks public access account-wide, which overrides site-assets' public policy
    const cwd = await tempDir();
    fake.deny('guardduty').denyBucketAcl('site-assets').accountBlock({ blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true });
    const taken = await runCli(['inventory', '--case', 'INV-2', '--cloud', 'aws', '--region', 'eu-west-1', '--locker', 'ev'], { cwd });
    expect(taken.code, taken.stderr).toBe(0);
    // The terminal names the account, the answers kept per service and what was refused
    expect(taken.stdout).toContain(`Inventory of AWS account ${ESTATE_ACCOUNT} (eu-west-1) preserved in case INV-2`);
    expect(taken.stdout).toMatch(/answers: {2}iam \d+, s3 \d+, s3control 1, ec2 \d+, lambda \d+, rds \d+, kms \d+, cloudtrail \d+, guardduty 1/);
    expect(taken.stdout).toMatch(/not read \(2; recorded in the manifest\):\n {4}global s3 GetBucketAcl: AccessDenied: Access Denied \(about site-assets\); its answer is preserved; the other resources were read\n {4}eu-west-1 guardduty ListDetectors: AccessDeniedException: /);

    // Act
    const csv1 = await runCli(['inventory', '--case', 'INV-2', '--format', 'csv', '--locker', 'ev'], { cwd });
    const csv2 = await runCli(['inventory', '--case', 'INV-2', '--format', 'csv', '--locker', 'ev'], { cwd });
    const json = await runCli(['inventory', '--case', 'INV-2', '--format', 'json', '--locker', 'ev'], { cwd });

    // Assess
    expect(csv1.code, csv1.stderr).toBe(0);
    expect(csv1.stdout).toBe(csv2.stdout);
    expect(csv1.stdout.split('\n')[0]).toBe('cloud,account,region,service,operation,type,id,name,tags,created_at,observed_at,attributes,evidence_key,evidence_record,evidence_sha256');
    const rows = JSON.parse(json.stdout) as Array<{ type: string; id: string; region: string; evidence_sha256: string }>;
    expect(rows.filter((r) => r.type === 'ec2:instance')).toHaveLength(5);
    expect(rows.filter((r) => r.type === 's3:bucket').map((r) => r.id)).toEqual(['private-data', 'site-assets']);
    // A refused call about one bucket cost only that answer: the other bucket's ACL and the bucket's other answers are there
    expect(rows.filter((r) => r.type === 's3:bucket-grant').map((r) => r.id)).toEqual(['private-data']);
    expect(rows.filter((r) => r.type === 's3:bucket-policy-status').map((r) => r.id)).toEqual(['private-data', 'site-assets']);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.evidence_sha256))).toBe(true);
    const order = rows.map((r) => `${r.region}\u0000${r.type}\u0000${r.id}`);
    expect(order).toEqual([...order].sort());
    // The account-level block is a row of its own, and with it on, no bucket is public and the account raises nothing
    expect(rows.filter((r) => r.type === 's3:account-public-access-block').map((r) => r.id)).toEqual([ESTATE_ACCOUNT]);
    const detect = await runCli(['detect', '--case', 'INV-2', '--locker', 'ev', '--json'], { cwd });
    const { findings } = JSON.parse(detect.stdout) as { findings: Array<{ detection: string }> };
    expect(findings.filter((f) => f.detection === 'inventory-storage-public' || f.detection === 'inventory-s3-account-public-access-block-off')).toEqual([]);
    expect(findings.filter((f) => f.detection === 'inventory-lambda-url-public')).toHaveLength(1);
  }, 120_000);

  it('shows in the report, beside each identity\'s activity, what the inventory says about it, each fact citing its answer', async () => {
    // Prepare: the inventory, and a synthetic CloudTrail file with activity by alice, by bob and by a deploy-role session
    const cwd = await tempDir();
    const taken = await runCli(['inventory', '--case', 'INV-4', '--cloud', 'aws', '--region', 'eu-west-1', '--locker', 'ev'], { cwd });
    expect(taken.code, taken.stderr).toBe(0);
    const event = (n: number, identity: Record<string, unknown>) => ({
      eventVersion: '1.09', userIdentity: { accountId: ESTATE_ACCOUNT, ...identity }, eventTime: `2026-03-14T08:0${n}:00Z`, eventSource: 's3.amazonaws.com', eventName: 'ListBuckets',
      awsRegion: 'eu-west-1', sourceIPAddress: '198.51.100.7', userAgent: 'aws-cli/2.15', requestParameters: null, responseElements: null, eventID: `00000000-0000-4000-8000-00000000000${n}`,
      readOnly: true, eventType: 'AwsApiCall', managementEvent: true, recipientAccountId: ESTATE_ACCOUNT, eventCategory: 'Management',
    });
    const trail = { Records: [
      event(1, { type: 'IAMUser', principalId: 'AIDAALICE', arn: `arn:aws:iam::${ESTATE_ACCOUNT}:user/alice`, userName: 'alice' }),
      event(2, { type: 'IAMUser', principalId: 'AIDABOB', arn: `arn:aws:iam::${ESTATE_ACCOUNT}:user/bob`, userName: 'bob' }),
      event(3, { type: 'AssumedRole', principalId: 'AROADEPLOY:ci', arn: `arn:aws:sts::${ESTATE_ACCOUNT}:assumed-role/deploy/ci` }),
    ] };
    await writeFile(join(cwd, 'trail.json'), JSON.stringify(trail));
    const collected = await runCli(['collect', '--case', 'INV-4', '--from', join(cwd, 'trail.json'), '--locker', 'ev'], { cwd });
    expect(collected.code, collected.stderr).toBe(0);

    // Act
    const report = await runCli(['report', '--case', 'INV-4', '--locker', 'ev', '--out', 'report.html'], { cwd });

    // Assess
    expect(report.code, report.stderr).toBe(0);
    const html = await readFile(join(cwd, 'report.html'), 'utf8');
    const section = /<section id="identities">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    const factsOf = (actor: string): string => new RegExp(`<code>${actor.replace(/[/.]/g, '\\$&')}</code>[\\s\\S]*?</tr>(<tr class="sub inventory">[\\s\\S]*?</tr>)`).exec(section)?.[1] ?? '';
    const alice = factsOf(`arn:aws:iam::${ESTATE_ACCOUNT}:user/alice`);
    expect(alice).toContain('ADMIN policy attached: AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess)');
    expect(alice).toContain(`MFA device arn:aws:iam::${ESTATE_ACCOUNT}:mfa/alice`);
    expect(alice).toMatch(/access key AKIAALICEKEY00000001 Active, created 2024-01-01T00:00:00Z \(\d+ days old\)/);
    expect(alice).toMatch(/access key AKIAALICEKEY00000001 last used \d{4}-/);
    expect(alice).toMatch(new RegExp(`<code>cases/INV-4/aws/inventory/${ESTATE_ACCOUNT}/\\d{8}T\\d{6}Z/global/iam/ListAttachedUserPolicies/alice/page-00001\\.xml</code> record 1`));
    const bob = factsOf(`arn:aws:iam::${ESTATE_ACCOUNT}:user/bob`);
    expect(bob).toContain('no MFA device (ListMFADevices answered none)');
    expect(bob).not.toContain('ADMIN');
    // The role's session is shown with its role: who may assume it, what is attached
    const deploy = factsOf(`arn:aws:sts::${ESTATE_ACCOUNT}:assumed-role/deploy/ci`);
    expect(deploy).toContain('IAM role, trusted accounts 999988887777');
    expect(deploy).toContain('policy attached: ReadOnlyAccess');
  }, 120_000);

  it('refuses an unknown cloud, and Azure or GCP flags on an AWS inventory, before reading anything', async () => {
    // Prepare
    const cwd = await tempDir();

    // Act
    const other = await runCli(['inventory', '--case', 'INV-3', '--cloud', 'oci', '--locker', 'ev'], { cwd });
    const mixed = await runCli(['inventory', '--case', 'INV-3', '--cloud', 'aws', '--subscription', 'aaaaaaaa-1111-4222-8333-444444444444', '--locker', 'ev'], { cwd });
    const project = await runCli(['inventory', '--case', 'INV-3', '--cloud', 'aws', '--project', 'acme-prod-1', '--locker', 'ev'], { cwd });

    // Assess
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/unknown --cloud "oci"/);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--subscription and --tenant apply to --cloud azure/);
    expect(project.code).toBe(2);
    expect(project.stderr).toMatch(/--project and --organization apply to --cloud gcp/);
    expect(fake.calls).toEqual({});
  });
});
