/**
 * `amber collect --from api:aws-cloudtrail` end to end: the CLI with the SDK's own configuration (environment
 * credentials, AWS_REGION, AWS_ENDPOINT_URL_CLOUDTRAIL / _STS / _EC2 pointing at a fake on 127.0.0.1), then
 * `amber detect` over the preserved pages.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkLookupWindow } from '../../scripts/cli/cloudtrail-api.ts';
import { UsageError } from '../../shared/errors.ts';
import { FakeCloudTrail } from '../helpers/fake-cloudtrail.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const MINUTE = 60_000;
// A closed window ending an hour ago, on whole minutes so the flags read as a person would type them.
const UNTIL = new Date(Math.floor((Date.now() - 60 * MINUTE) / MINUTE) * MINUTE);
const SINCE = new Date(UNTIL.getTime() - 24 * 60 * MINUTE);
const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

let fake: FakeCloudTrail;

beforeEach(async () => {
  fake = await new FakeCloudTrail().start();
  const home = await tempDir();
  // Only the fake: no real profile, no instance metadata, no network.
  for (const [name, value] of Object.entries({
    AWS_ENDPOINT_URL_CLOUDTRAIL: fake.url,
    AWS_ENDPOINT_URL_STS: fake.url,
    AWS_ENDPOINT_URL_EC2: fake.url,
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

describe('amber collect --from api:aws-cloudtrail', () => {
  it('collects every enabled region, reports the one that denies access (exit 1), and detect cites the page and record', async () => {
    // Prepare: StopLogging is the 53rd newest event in eu-west-1, so it lands on page 2 as record 2
    const cwd = await tempDir();
    fake.regions(['eu-west-1', 'us-east-1']).deny('us-east-1');
    fake.addEvents('eu-west-1', 70, new Date(UNTIL.getTime() - 5 * MINUTE), {
      52: { eventName: 'StopLogging', eventSource: 'cloudtrail.amazonaws.com', requestParameters: { name: 'arn:aws:cloudtrail:eu-west-1:123456789012:trail/org' } },
    });
    const args = ['collect', '--case', 'INC-9', '--from', 'api:aws-cloudtrail', '--since', iso(SINCE), '--until', iso(UNTIL), '--all-regions', '--locker', 'ev'];

    // Act
    const collected = await runCli(args, { cwd });
    const detected = await runCli(['detect', '--case', 'INC-9', '--locker', 'ev', '--json'], { cwd });

    // Assess
    expect(collected.code).toBe(1);
    expect(collected.stdout).toContain('Collected 2 objects');
    expect(collected.stdout).toMatch(/NOT preserved \(1\)[\s\S]*region=us-east-1[\s\S]*AccessDeniedException/);
    expect(detected.code).toBe(0);
    const { findings } = JSON.parse(detected.stdout) as { findings: Array<{ detection: string; action: string; evidence_key: string; evidence_record: number }> };
    const stop = findings.find((f) => f.detection === 'cloudtrail-logging-disabled');
    expect(stop).toMatchObject({
      action: 'StopLogging',
      evidence_key: expect.stringMatching(/^cases\/INC-9\/aws\/cloudtrail-api\/123456789012\/eu-west-1\/management\/\d{8}T\d{6}Z_\d{8}T\d{6}Z\/page-00002\.json$/),
      evidence_record: 2,
    });
  });

  it('run again after the denied region is fixed, preserves only what was missing, and the case verifies', async () => {
    // Prepare
    const cwd = await tempDir();
    fake.addEvents('eu-west-1', 60, new Date(UNTIL.getTime() - 5 * MINUTE)).addEvents('us-east-1', 3, new Date(UNTIL.getTime() - 5 * MINUTE)).deny('us-east-1');
    const args = ['collect', '--case', 'INC-9', '--from', 'api:aws-cloudtrail', '--since', iso(SINCE), '--until', iso(UNTIL), '--region', 'eu-west-1', '--region', 'us-east-1', '--locker', 'ev', '--json'];
    const first = await runCli(args, { cwd });

    // Act: the region is allowed now
    fake.allow('us-east-1');
    const second = await runCli(args, { cwd });
    const verified = await runCli(['verify', '--case', 'INC-9', '--locker', 'ev'], { cwd });

    // Assess
    expect(first.code).toBe(1);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ created: 1, reacquired: 2, failures: [] });
    expect(verified.code).toBe(0);
  });

  it('names the credential chain when there are no credentials, and stores nothing', async () => {
    // Prepare
    const cwd = await tempDir();
    vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);

    // Act
    const run = await runCli(['collect', '--case', 'C', '--from', 'api:aws-cloudtrail', '--since', iso(SINCE), '--until', iso(UNTIL)], { cwd });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no AWS credentials for api:aws-cloudtrail: the default credential chain');
    expect(fake.lookups).toEqual([]);
    expect(existsSync(join(cwd, 'evidence'))).toBe(false);
  });

  it('reads a region named with --region when none is configured', async () => {
    // Prepare
    const cwd = await tempDir();
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    fake.addEvents('ap-south-1', 2, new Date(UNTIL.getTime() - 5 * MINUTE));

    // Act
    const run = await runCli(['collect', '--case', 'C', '--from', 'api:aws-cloudtrail', '--since', iso(SINCE), '--until', iso(UNTIL), '--region', 'ap-south-1', '--locker', 'ev'], { cwd });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(fake.lookups.map((l) => l.region)).toEqual(['ap-south-1']);
  });

  it.each([
    ['--region with --all-regions', ['--region', 'eu-west-1', '--all-regions'], '--region and --all-regions were both given'],
    ['a region that is not a region name', ['--region', 'Ireland'], '--region "Ireland" is not an AWS region name'],
  ])('refuses %s before calling AWS', async (_what, extra, message) => {
    // Act
    const run = await runCli(['collect', '--case', 'C', '--from', 'api:aws-cloudtrail', '--since', iso(SINCE), '--until', iso(UNTIL), ...extra], { cwd: await tempDir() });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(fake.lookups).toEqual([]);
  });

  it('refuses an api: source it does not know, naming the one it does', async () => {
    // Act
    const run = await runCli(['collect', '--case', 'C', '--from', 'api:aws-cloudtrial', '--since', iso(SINCE), '--until', iso(UNTIL)], { cwd: await tempDir() });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown API source "api:aws-cloudtrial"[\s\S]*api:aws-cloudtrail/);
  });

  it('refuses --since without an api: source, naming the flag', async () => {
    // Act
    const run = await runCli(['collect', '--case', 'C', '--from', '.', '--since', iso(SINCE)], { cwd: await tempDir() });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--since applies only to api: sources');
  });

  it('refuses a window without --until before calling AWS', async () => {
    // Act
    const run = await runCli(['collect', '--case', 'C', '--from', 'api:aws-cloudtrail', '--since', iso(SINCE), '--locker', 'ev'], { cwd: await tempDir() });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--since and --until are required');
    expect(fake.lookups).toEqual([]);
  });
});

describe('Function: checkLookupWindow', () => {
  const now = new Date('2026-06-01T12:00:00Z');

  it('accepts a closed window with zones and converts offsets to UTC', () => {
    expect(checkLookupWindow('2026-05-31T00:00:00+02:00', '2026-06-01T11:00:00Z', now)).toEqual({
      since: new Date('2026-05-30T22:00:00Z'),
      until: new Date('2026-06-01T11:00:00Z'),
      warnings: [],
    });
  });

  it.each([
    ['a time without a zone', '2026-05-31T00:00:00', '2026-06-01T00:00:00Z', /not an ISO-8601 time with a zone/],
    ['since after until', '2026-06-01T00:00:00Z', '2026-05-31T00:00:00Z', /is not before --until/],
    ['until in the future', '2026-05-31T00:00:00Z', '2026-06-01T13:00:00Z', /in the future.*byte for byte/],
    ['until not yet settled', '2026-05-31T00:00:00Z', '2026-06-01T11:50:00Z', /less than 15 minutes ago/],
    ['a window wholly older than 90 days', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', /event history keeps 90 days/],
  ])('refuses %s with the reason', (_what, since, until, reason) => {
    expect(() => checkLookupWindow(since, until, now)).toThrow(UsageError);
    expect(() => checkLookupWindow(since, until, now)).toThrow(reason);
  });

  it('warns when the window starts before the 90 days event history keeps', () => {
    expect(checkLookupWindow('2026-02-01T00:00:00Z', '2026-03-15T00:00:00Z', now).warnings).toEqual([expect.stringContaining('more than 90 days ago')]);
  });
});
