/**
 * The catalogue against `amber demo`'s synthetic incident (shared/demo/incident.ts): every step of the story
 * that a detection covers is caught, with the right actor, address and target, and the day of benign
 * background activity around it raises nothing.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../../shared/detections/catalogue.ts';
import { runCatalogue, type CatalogueRun, type Finding } from '../../../shared/detections/run.ts';
import { ATTACKER_IPS, DEMO_DAY, generateIncident } from '../../../shared/demo/incident.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCloudTrailTable } from '../../../shared/query/tables/cloudtrail.ts';
import { tempDir } from '../../helpers/tmp.ts';
import type { CloudTrailRecord } from './helpers.ts';

const [INTRUDER_IP, ROOT_IP] = ATTACKER_IPS;

interface Expected {
  readonly detection: string;
  readonly actor: RegExp;
  readonly source_ip: string;
  readonly action: RegExp;
  readonly target?: RegExp;
  readonly detail?: RegExp;
}

/** The story's steps (see the header of shared/demo/incident.ts) and the finding each must produce. */
const STORY: readonly Expected[] = [
  { detection: 'console-login-failure-burst', actor: /^svc-backup$/, source_ip: INTRUDER_IP, action: /^ConsoleLogin$/, detail: /^6 failed console logins/ },
  { detection: 'console-login-without-mfa', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^ConsoleLogin$/ },
  { detection: 'access-denied-burst', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /./, detail: /^12 AccessDenied in 10 min across 12 actions/ },
  { detection: 'iam-credentials-for-other-user', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^CreateAccessKey$/, target: /^user\/alice$/ },
  { detection: 'iam-admin-permissions-granted', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^AttachUserPolicy$/, target: /^user\/svc-backup$/, detail: /AdministratorAccess/ },
  { detection: 'iam-credentials-for-other-user', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^CreateLoginProfile$/, target: /^user\/backup-admin2$/ },
  { detection: 'iam-admin-permissions-granted', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^PutRolePolicy$/, target: /^role\/web-app-role$/ },
  { detection: 'cloudtrail-logging-disabled', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^StopLogging$/, target: /trail\/org-trail$/ },
  { detection: 'flow-or-dns-logs-deleted', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^DeleteFlowLogs$/, target: /^fl-0123456789abcdef0$/ },
  { detection: 'guardduty-disabled-or-muted', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^DeleteDetector$/ },
  { detection: 'security-group-open-to-world', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^AuthorizeSecurityGroupIngress$/, target: /^sg-0ff11ee22dd33cc44$/, detail: /port 22 opened to 0\.0\.0\.0\/0/ },
  { detection: 'snapshot-shared-externally', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^ModifySnapshotAttribute$/, target: /^snap-0abc1234def567890$/, detail: /999988887777/ },
  { detection: 'secrets-bulk-retrieval', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^GetSecretValue$/, detail: /^15 distinct secrets/ },
  { detection: 's3-bucket-exposed', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^PutBucketPolicy$/, target: /^s3:\/\/customer-exports$/, detail: /anyone/ },
  { detection: 's3-large-download', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^GetObject$/, target: /^s3:\/\/customer-exports$/, detail: /^2\.93 GiB read in 30 GetObject/ },
  { detection: 'lambda-changed-outside-pipeline', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^CreateFunction/, target: /^log-shipper$/ },
  { detection: 'lambda-opened-to-other-accounts', actor: /:user\/svc-backup$/, source_ip: INTRUDER_IP, action: /^AddPermission/, target: /^log-shipper$/, detail: /any principal/ },
  { detection: 'instance-credentials-outside-aws', actor: /assumed-role\/web-app-role\/i-0a1b2c3d4e5f60718$/, source_ip: INTRUDER_IP, action: /^ListBuckets$/, detail: /first seen from 10\.0\.1\.25/ },
  { detection: 'root-account-usage', actor: /:root$/, source_ip: ROOT_IP, action: /^ConsoleLogin$/, detail: /ConsoleLogin, LeaveOrganization/ },
  { detection: 'console-login-without-mfa', actor: /:root$/, source_ip: ROOT_IP, action: /^ConsoleLogin$/ },
  { detection: 'organization-leave', actor: /:root$/, source_ip: ROOT_IP, action: /^LeaveOrganization$/ },
];

/**
 * Detections the story gives nothing to catch (reported to the demo's owner): no key is used from three or more
 * addresses, no policy version or group change, no role trust change, no lifecycle rule on the trail bucket.
 */
const NOT_IN_STORY = ['access-key-many-ips', 'iam-privilege-escalation', 'iam-role-trust-opened', 'cloudtrail-bucket-short-lifecycle'];

/** Principals of the benign background: none of their activity may raise a finding. */
const BENIGN_ACTORS = /(:user\/(alice|bob)$)|(assumed-role\/ci-deploy\/)|(^(alice|bob)$)/;

describe('Detection catalogue on the demo incident', () => {
  let engine: DuckDbQueryEngine;
  let run: CatalogueRun;
  let windowed: CatalogueRun;
  const recordsByKey = new Map<string, CloudTrailRecord[]>();

  beforeAll(async () => {
    // Prepare: the incident's files on disk, in CloudTrail's delivery layout, loaded as the product loads them.
    const dir = await tempDir('amber-demo-detect-');
    const sha256ByKey = new Map<string, string>();
    const inputs = [];
    for (const file of generateIncident()) {
      const path = join(dir, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.bytes);
      sha256ByKey.set(file.path, createHash('sha256').update(file.bytes).digest('hex'));
      recordsByKey.set(file.path, (JSON.parse(gunzipSync(file.bytes).toString('utf8')) as { Records: CloudTrailRecord[] }).Records);
      inputs.push({ path, key: file.path, shape: 'records' as const });
    }
    engine = await DuckDbQueryEngine.create({ threads: 2 });
    await loadCloudTrailTable(engine, inputs);
    const catalogue = await loadCatalogue();

    // Act
    run = await runCatalogue(engine, catalogue, { sources: { cloudtrail: 'main.cloudtrail' }, sha256ByKey });
    const since = new Date(`${DEMO_DAY}T00:00:00Z`);
    windowed = await runCatalogue(engine, catalogue, {
      sources: { cloudtrail: 'main.cloudtrail' },
      sha256ByKey,
      window: { since, until: new Date(since.getTime() + 86_400_000) },
    });
  });

  afterAll(async () => {
    await engine?.close();
  });

  it('runs every detection without error', () => {
    // Assess
    expect(run.errors).toEqual([]);
    expect(windowed.errors).toEqual([]);
  });

  it.each(STORY.map((e) => [`${e.detection}: ${e.action.source} by ${e.actor.source}`, e] as const))('catches %s', (_label, expected) => {
    // Act
    const hits = run.findings.filter((f) =>
      f.detection === expected.detection
      && expected.actor.test(f.actor ?? '')
      && f.source_ip === expected.source_ip
      && expected.action.test(f.action ?? '')
      && (!expected.target || expected.target.test(f.target ?? ''))
      && (!expected.detail || expected.detail.test(f.detail ?? '')));

    // Assess
    expect(hits, JSON.stringify(run.findings.filter((f) => f.detection === expected.detection), null, 2)).toHaveLength(1);
  });

  it('raises nothing beyond the story: each finding is one step of it, and the benign background is silent', () => {
    // Prepare
    const matchesStory = (f: Finding): boolean => STORY.some((e) =>
      e.detection === f.detection && e.actor.test(f.actor ?? '') && f.source_ip === e.source_ip && e.action.test(f.action ?? '')
      && (!e.target || e.target.test(f.target ?? '')));

    // Assess
    expect(run.findings.filter((f) => !matchesStory(f))).toEqual([]);
    expect(run.findings).toHaveLength(STORY.length);
    expect(run.findings.filter((f) => BENIGN_ACTORS.test(f.actor ?? ''))).toEqual([]);
    expect(run.findings.filter((f) => NOT_IN_STORY.includes(f.detection))).toEqual([]);
  });

  it('points every finding at the preserved record it is about, with the object hash from the manifest', () => {
    // Assess
    for (const f of run.findings) {
      expect(f.evidence_record).not.toBeNull();
      const record = recordsByKey.get(f.evidence_key)?.[f.evidence_record ?? -1];
      expect(record?.eventName, `${f.detection} ${f.evidence_key}#${f.evidence_record}`).toBe(f.action);
      expect(f.evidence_sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('finds the same when the run is limited to the incident day, as a scheduled run is', () => {
    // Assess
    const key = (f: Finding): string => `${f.detection}|${f.evidence_key}#${f.evidence_record}`;
    expect(windowed.findings.map(key).sort()).toEqual(run.findings.map(key).sort());
  });
});
