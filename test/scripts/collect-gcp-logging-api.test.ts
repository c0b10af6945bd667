/**
 * `amber collect --from api:gcp-logging` end to end: the CLI reading Cloud Audit Logs from a fake Cloud Logging
 * API on 127.0.0.1 (AMBER_GCP_LOGGING_URL, AMBER_GCP_TOKEN), then `amber detect` and `amber verify` over the
 * preserved pages.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FAKE_PROJECT, FakeGcpLogging } from '../helpers/fake-gcp-logging.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const MINUTE = 60_000;
// A closed window ending an hour ago, on whole minutes.
const UNTIL = new Date(Math.floor((Date.now() - 60 * MINUTE) / MINUTE) * MINUTE);
const SINCE = new Date(UNTIL.getTime() - 48 * 60 * MINUTE);
const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');
const window = ['--since', iso(SINCE), '--until', iso(UNTIL)];

let fake: FakeGcpLogging;
let env: Record<string, string>;

beforeEach(async () => {
  fake = await new FakeGcpLogging().start();
  env = { AMBER_GCP_TOKEN: fake.token, AMBER_GCP_LOGGING_URL: fake.url };
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await fake.stop();
});

describe('amber collect --from api:gcp-logging', () => {
  it('preserves every page as received, and detect cites the page and record of a deleted log sink', async () => {
    // Prepare: 1,200 Admin Activity entries, 1,000 a page; DeleteSink is entry 1,003, so page 2 record 2
    const cwd = await tempDir();
    fake.addEntries(1200, new Date(SINCE.getTime() + MINUTE), {
      1002: {
        methodName: 'google.logging.v2.ConfigServiceV2.DeleteSink',
        serviceName: 'logging.googleapis.com',
        resourceName: `projects/${FAKE_PROJECT}/sinks/to-siem`,
        principalEmail: 'mallory@example.com',
        request: { '@type': 'type.googleapis.com/google.logging.v2.DeleteSinkRequest', sinkName: `projects/${FAKE_PROJECT}/sinks/to-siem` },
      },
    });

    // Act
    const collected = await runCli(['collect', '--case', 'INC-G1', '--from', 'api:gcp-logging', '--project', FAKE_PROJECT, '--log', 'activity', ...window, '--locker', 'ev', '--json'], { cwd, env });
    const detected = await runCli(['detect', '--case', 'INC-G1', '--locker', 'ev', '--json'], { cwd, env });

    // Assess: both pages kept byte for byte, with the exact request in their origin
    expect(collected.code).toBe(0);
    const summary = JSON.parse(collected.stdout) as { created: number; sources: Record<string, number> };
    expect(summary).toMatchObject({ created: 2, sources: { 'gcp-audit': 2 } });
    const folder = join(cwd, 'ev', 'cases', 'INC-G1', 'gcp', 'logging-api', FAKE_PROJECT, 'activity');
    const [windowDir] = (await import('node:fs')).readdirSync(folder);
    expect(await readFile(join(folder, windowDir!, 'page-00001.json'))).toEqual(fake.served[0]);
    expect(await readFile(join(folder, windowDir!, 'page-00002.json'))).toEqual(fake.served[1]);
    expect(fake.requests.map((r) => r.body.filter)).toEqual([
      `logName=("projects/${FAKE_PROJECT}/logs/cloudaudit.googleapis.com%2Factivity") AND timestamp>="${SINCE.toISOString()}" AND timestamp<"${UNTIL.toISOString()}"`,
      `logName=("projects/${FAKE_PROJECT}/logs/cloudaudit.googleapis.com%2Factivity") AND timestamp>="${SINCE.toISOString()}" AND timestamp<"${UNTIL.toISOString()}"`,
    ]);
    expect(fake.requests[1]!.body.pageToken).toMatch(/^pt-1000-/);
    expect(detected.code).toBe(0);
    const { findings } = JSON.parse(detected.stdout) as { findings: Array<{ detection: string; actor: string; evidence_key: string; evidence_record: number }> };
    const sink = findings.find((f) => f.detection === 'gcp-logging-sink-disabled-or-deleted');
    expect(sink).toMatchObject({
      actor: 'mallory@example.com',
      evidence_key: expect.stringMatching(new RegExp(`^cases/INC-G1/gcp/logging-api/${FAKE_PROJECT}/activity/\\d{8}T\\d{6}Z_\\d{8}T\\d{6}Z/page-00002\\.json$`)),
      evidence_record: 2,
    });
  });

  it('resumes an interrupted run after the last preserved page, without asking for it again, and the case verifies', async () => {
    // Prepare: the API breaks after page 1
    const cwd = await tempDir();
    fake.addEntries(2500, new Date(SINCE.getTime() + MINUTE)).breakAfter(1);
    const args = ['collect', '--case', 'INC-G2', '--from', 'api:gcp-logging', '--project', FAKE_PROJECT, ...window, '--locker', 'ev', '--json'];
    const first = await runCli(args, { cwd, env });

    // Act
    fake.breakAfter(undefined);
    const second = await runCli(args, { cwd, env });
    const verified = await runCli(['verify', '--case', 'INC-G2', '--locker', 'ev'], { cwd, env });

    // Assess
    expect(first.code).toBe(1);
    const failed = JSON.parse(first.stdout) as { created: number; failures: Array<{ origin: string; reason: string }> };
    expect(failed.created).toBe(1);
    expect(failed.failures[0]!.origin).toContain('page=2');
    expect(failed.failures[0]!.reason).toMatch(/page 2 was not read .*FAILED_PRECONDITION/);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ created: 2, reacquired: 1, failures: [] });
    // The resumed run's first request carried page 1's nextPageToken, not a fresh start.
    const served = JSON.parse(fake.served[0]!.toString('utf8')) as { nextPageToken: string };
    expect(fake.requests.filter((r) => r.status === 200).map((r) => r.body.pageToken)).toEqual([undefined, served.nextPageToken, expect.stringMatching(/^pt-2000-/)]);
    expect(verified.code).toBe(0);
  });

  it('reports the page it could not read when access is denied, and names the roles to grant', async () => {
    // Prepare
    const cwd = await tempDir();
    fake.addEntries(3, new Date(SINCE.getTime() + MINUTE)).deny();

    // Act
    const run = await runCli(['collect', '--case', 'INC-G3', '--from', 'api:gcp-logging', '--project', FAKE_PROJECT, ...window, '--locker', 'ev'], { cwd, env });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/NOT preserved \(1\)[\s\S]*page=1[\s\S]*PERMISSION_DENIED[\s\S]*roles\/logging\.privateLogViewer/);
  });

  it('refuses a window that has not settled, a missing --project and an unknown --log, before any request', async () => {
    const cwd = await tempDir();
    const soon = iso(new Date(Math.floor(Date.now() / MINUTE) * MINUTE));
    const runs = await Promise.all([
      runCli(['collect', '--case', 'X', '--from', 'api:gcp-logging', '--project', FAKE_PROJECT, '--since', iso(SINCE), '--until', soon], { cwd, env }),
      runCli(['collect', '--case', 'X', '--from', 'api:gcp-logging', ...window], { cwd, env }),
      runCli(['collect', '--case', 'X', '--from', 'api:gcp-logging', '--project', FAKE_PROJECT, '--log', 'admin', ...window], { cwd, env }),
      runCli(['collect', '--case', 'X', '--from', './logs', '--project', FAKE_PROJECT], { cwd, env }),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(runs[0]!.stderr).toContain('less than 15 minutes ago');
    expect(runs[1]!.stderr).toContain('needs --project');
    expect(runs[2]!.stderr).toMatch(/--log "admin" is not a Cloud Audit Log[\s\S]*activity, data_access, system_event, policy/);
    expect(runs[3]!.stderr).toContain('--project applies only to api: sources');
    expect(fake.requests).toEqual([]);
  });

  it('names the ways to give credentials when there are none, and stores nothing', async () => {
    // Prepare: no token, and Application Default Credentials pointing at a missing key file (no metadata server is asked)
    const cwd = await tempDir();
    vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', join(cwd, 'missing-key.json'));

    // Act
    const run = await runCli(['collect', '--case', 'INC-G4', '--from', 'api:gcp-logging', '--project', FAKE_PROJECT, ...window, '--locker', 'ev'], { cwd, env: { AMBER_GCP_LOGGING_URL: fake.url } });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no Google Cloud credentials[\s\S]*gcloud auth application-default login[\s\S]*AMBER_GCP_TOKEN/);
    expect(existsSync(join(cwd, 'ev'))).toBe(false);
    expect(fake.requests).toEqual([]);
  });
});
