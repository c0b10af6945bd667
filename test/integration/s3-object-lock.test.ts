/**
 * The S3 adapters against a REAL S3 endpoint with Object Lock (Ceph RADOS Gateway on 127.0.0.1):
 *
 *   bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a
 *   npx vitest run test/integration
 *
 * Without AWS_ENDPOINT_URL_S3 the suite is skipped, unless AMBER_REQUIRE_S3=1 (CI), which makes it fail.
 * Each test creates its own bucket with Object Lock and COMPLIANCE default retention of 1 day; the locked
 * objects cannot be removed before then, which is the point: the server keeps them in memory until it stops.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import { S3ObjectStore } from '../../functions/aws/adapters/s3-object-store.ts';
import { S3EvidenceSource } from '../../functions/aws/adapters/s3-source.ts';
import { ObjectNotFoundError, WriteOnceViolationError } from '../../shared/errors.ts';
import { collectEvidence } from '../../shared/evidence/collect.ts';
import { verifyCase } from '../../shared/evidence/verify.ts';
import { LocalEvidenceSource } from '../../shared/evidence/local-source.ts';
import { runCli } from '../helpers/cli.ts';
import type { StoredObject } from '../../shared/ports/object-store.ts';
import { readAll, sha256Base64, sha256Hex } from '../helpers/s3.ts';

const START_HINT =
  'start the local S3 server with: bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a';
const endpoint = process.env.AWS_ENDPOINT_URL_S3;
const required = process.env.AMBER_REQUIRE_S3 === '1';

if (!endpoint && required) {
  describe('S3 Object Lock integration', () => {
    it('needs a real S3 endpoint (AMBER_REQUIRE_S3=1)', () => {
      throw new Error(`AMBER_REQUIRE_S3=1 but AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
    });
  });
} else if (!endpoint) {
  console.warn(`[s3-object-lock] skipped: AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
}

const KEY = 'cases/c1/aws/cloudtrail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/trail.json';
const DAY = 24 * 60 * 60 * 1000;

let client: S3Client | undefined;
function s3(): S3Client {
  client ??= createS3Client({ ...s3ConfigFromEnv(), maxAttempts: 3 });
  return client;
}

/** A fresh bucket for one test: Object Lock with COMPLIANCE default retention of 1 day, unless `plain`. */
async function newBucket(label: string, plain = false): Promise<string> {
  const bucket = `amber-it-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await s3().send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: plain ? undefined : true }));
  if (!plain) {
    await s3().send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
      }),
    );
  }
  return bucket;
}

async function newStore(label: string): Promise<{ bucket: string; store: S3ObjectStore }> {
  const bucket = await newBucket(label);
  return { bucket, store: await S3ObjectStore.open({ bucket, client: s3() }) };
}

async function text(store: S3ObjectStore, key: string, versionId?: string): Promise<string> {
  return (await readAll(await store.get(key, versionId))).toString('utf8');
}

async function listAll(store: S3ObjectStore, prefix: string): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const o of store.list(prefix)) out.push(o);
  return out;
}

function s3Status(err: unknown): { name: string; status: number | undefined } {
  const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
  return { name: e.name, status: e.$metadata?.httpStatusCode };
}

describe.skipIf(!endpoint)('S3 Object Lock integration (real Ceph RADOS Gateway)', () => {
  describe('Class: S3ObjectStore', () => {
    describe('Method: open', () => {
      it('detects Object Lock with its COMPLIANCE default and versioning', async () => {
        // Prepare / Act
        const { store } = await newStore('open');

        // Assess
        expect(await store.capabilities()).toEqual({
          objectLock: true,
          defaultRetention: { mode: 'COMPLIANCE', days: 1, years: undefined },
          versioning: 'Enabled',
        });
        expect(await store.exists()).toBe(true);
        expect(await new S3ObjectStore({ bucket: 'amber-it-no-such-bucket-x', client: s3() }).exists()).toBe(false);
      });
    });

    describe('Method: putImmutable', () => {
      it('stores the bytes with their SHA-256, and the hash read back matches', async () => {
        // Prepare
        const { bucket, store } = await newStore('hash');
        const bytes = '{"Records":[{"eventName":"ConsoleLogin"}]}\n';

        // Act
        const result = await store.putImmutable(KEY, Readable.from([Buffer.from(bytes)]), { mediaType: 'application/json' });

        // Assess
        expect(result).toMatchObject({ created: true, size: Buffer.byteLength(bytes), sha256: sha256Hex(bytes) });
        expect(result.versionId).toBeTruthy();
        expect(sha256Hex(await readAll(await store.get(KEY, result.versionId)))).toBe(result.sha256);
        const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: KEY, VersionId: result.versionId }));
        expect(head.Metadata?.['amber-sha256']).toBe(result.sha256);
        expect(head.ObjectLockMode).toBe('COMPLIANCE');
        expect(head.ObjectLockRetainUntilDate?.toISOString()).toBe(result.retainUntil);
      });

      it('is idempotent for the same bytes: created false, same version, nothing new written', async () => {
        // Prepare
        const { bucket, store } = await newStore('idem');
        const first = await store.putImmutable(KEY, Buffer.from('same bytes'));

        // Act
        const again = await store.putImmutable(KEY, Readable.from([Buffer.from('same '), Buffer.from('bytes')]));

        // Assess
        expect(again).toMatchObject({ created: false, versionId: first.versionId, sha256: first.sha256 });
        const versions = await s3().send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: KEY }));
        expect(versions.Versions).toHaveLength(1);
      });

      it('a preserved object cannot be deleted while locked (DeleteObject of the version: AccessDenied)', async () => {
        // Prepare
        const { bucket, store } = await newStore('nodelete');
        const result = await store.putImmutable(KEY, Buffer.from('evidence'));

        // Act
        const deleting = s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: KEY, VersionId: result.versionId }));

        // Assess
        const err = await deleting.then(() => undefined, (e: unknown) => e);
        expect(s3Status(err)).toEqual({ name: 'AccessDenied', status: 403 });
        expect(await text(store, KEY, result.versionId)).toBe('evidence');
      });

      it('a preserved object cannot be overwritten: putImmutable refuses, and a raw PutObject leaves the locked version intact', async () => {
        // Prepare
        const { bucket, store } = await newStore('nooverwrite');
        const original = await store.putImmutable(KEY, Buffer.from('original evidence'));

        // Act
        const refused = await store.putImmutable(KEY, Buffer.from('tampered evidence')).then(
          () => undefined,
          (e: unknown) => e,
        );
        const raw = await s3().send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: 'tampered evidence' }));

        // Assess
        expect(refused).toBeInstanceOf(WriteOnceViolationError);
        expect(refused).toMatchObject({ existingSha256: original.sha256, newSha256: sha256Hex('tampered evidence') });
        expect(raw.VersionId).not.toBe(original.versionId);
        expect(await text(store, KEY, original.versionId)).toBe('original evidence');
        expect(sha256Hex(await readAll(await store.get(KEY, original.versionId)))).toBe(original.sha256);
      });

      it('retention cannot be shortened (PutObjectRetention with an earlier date: 403)', async () => {
        // Prepare
        const { bucket, store } = await newStore('retention');
        const result = await store.putImmutable(KEY, Buffer.from('evidence'));

        // Act
        const shortening = s3().send(
          new PutObjectRetentionCommand({
            Bucket: bucket,
            Key: KEY,
            VersionId: result.versionId,
            Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 60_000) },
          }),
        );

        // Assess
        const err = await shortening.then(() => undefined, (e: unknown) => e);
        expect(s3Status(err).status).toBe(403);
        const retention = await s3().send(new GetObjectRetentionCommand({ Bucket: bucket, Key: KEY, VersionId: result.versionId }));
        expect(retention.Retention?.Mode).toBe('COMPLIANCE');
        expect(retention.Retention?.RetainUntilDate?.toISOString()).toBe(result.retainUntil);
      });

      it('applies an explicit retainUntil in COMPLIANCE mode', async () => {
        // Prepare
        const { bucket, store } = await newStore('explicit');
        const retainUntil = new Date(Math.ceil((Date.now() + 2 * DAY) / 1000) * 1000);

        // Act
        const result = await store.putImmutable(KEY, Buffer.from('evidence'), { retainUntil });

        // Assess
        const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: KEY, VersionId: result.versionId }));
        expect(head.ObjectLockMode).toBe('COMPLIANCE');
        expect(head.ObjectLockRetainUntilDate?.getTime()).toBe(retainUntil.getTime());
        expect(result.retainUntil).toBe(retainUntil.toISOString());
      });

      it('stores a body over 8 MiB by multipart upload, locked, with the hash of the stream', async () => {
        // Prepare
        const { bucket, store } = await newStore('multipart');
        const big = randomBytes(12 * 1024 * 1024 + 123);
        const chunks = [big.subarray(0, 1_000_000), big.subarray(1_000_000, 9_500_000), big.subarray(9_500_000)];

        // Act
        const result = await store.putImmutable(KEY, Readable.from(chunks));
        const again = await store.putImmutable(KEY, Readable.from([big]));

        // Assess
        expect(result).toMatchObject({ created: true, size: big.byteLength, sha256: sha256Hex(big) });
        expect(sha256Hex(await readAll(await store.get(KEY, result.versionId)))).toBe(sha256Hex(big));
        const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: KEY, VersionId: result.versionId }));
        expect(head.ObjectLockMode).toBe('COMPLIANCE');
        expect(again).toMatchObject({ created: false, versionId: result.versionId });
      });

      it('works in a bucket without Object Lock, applying no retention', async () => {
        // Prepare
        const bucket = await newBucket('plain', true);
        const store = await S3ObjectStore.open({ bucket, client: s3() });

        // Act
        const result = await store.putImmutable(KEY, Buffer.from('evidence'), { retainUntil: new Date(Date.now() + DAY) });

        // Assess
        expect(await store.capabilities()).toMatchObject({ objectLock: false });
        expect(result).toMatchObject({ created: true, sha256: sha256Hex('evidence'), retainUntil: undefined });
        expect(await text(store, KEY)).toBe('evidence');
        await expect(store.putImmutable(KEY, Buffer.from('other'))).rejects.toThrow(WriteOnceViolationError);
      });
    });

    describe('Method: list', () => {
      it('a delete marker does not hide the locked version: list reports it and get by versionId returns the bytes', async () => {
        // Prepare
        const { bucket, store } = await newStore('marker');
        const original = await store.putImmutable(KEY, Buffer.from('original evidence'));
        await store.putImmutable('cases/c1/other.json', Buffer.from('{}'));

        // Act
        const marker = await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: KEY }));
        const listed = await listAll(store, 'cases/c1/');

        // Assess
        expect(marker.DeleteMarker).toBe(true);
        expect(listed).toContainEqual({ key: KEY, size: 17, versionId: original.versionId, deleteMarkerOnTop: true });
        expect(listed.find((o) => o.key === 'cases/c1/other.json')).toMatchObject({ deleteMarkerOnTop: false });
        await expect(store.get(KEY)).rejects.toThrow(ObjectNotFoundError);
        expect(await text(store, KEY, original.versionId)).toBe('original evidence');
        // The hidden version still counts as preserved: other bytes are refused, the same bytes settle.
        await expect(store.putImmutable(KEY, Buffer.from('replacement'))).rejects.toThrow(WriteOnceViolationError);
        expect(await store.putImmutable(KEY, Buffer.from('original evidence'))).toMatchObject({
          created: false,
          versionId: original.versionId,
        });
      });
    });

    describe('Method: appendLog', () => {
      it('keeps every previous ledger version, each locked', async () => {
        // Prepare
        const { bucket, store } = await newStore('ledger');
        const ledger = 'cases/c1/custody.jsonl';
        const lines = ['{"seq":1}\n', '{"seq":2}\n', '{"seq":3}\n'];

        // Act
        for (const line of lines) await store.appendLog(ledger, line);

        // Assess
        expect(await store.readText(ledger)).toBe(lines.join(''));
        const versions = (await s3().send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: ledger }))).Versions ?? [];
        expect(versions).toHaveLength(3);
        const contents = await Promise.all(versions.map((v) => text(store, ledger, v.VersionId)));
        expect(contents.sort()).toEqual([lines[0], lines.slice(0, 2).join(''), lines.join('')]);
        for (const v of versions) {
          const err = await s3()
            .send(new DeleteObjectCommand({ Bucket: bucket, Key: ledger, VersionId: v.VersionId }))
            .then(() => undefined, (e: unknown) => e);
          expect(s3Status(err).status).toBe(403);
        }
      });

      it('refuses to restart a ledger hidden by a delete marker', async () => {
        // Prepare
        const { bucket, store } = await newStore('ledgerhidden');
        const ledger = 'cases/c1/custody.jsonl';
        await store.appendLog(ledger, '{"seq":1}\n');
        await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: ledger }));

        // Act / Assess
        await expect(store.appendLog(ledger, '{"seq":2}\n')).rejects.toThrow(/hidden by a delete marker/);
      });
    });

    describe('Method: copyFrom', () => {
      it('copies between two buckets server-side, preserving the bytes and hash, locked', async () => {
        // Prepare
        const sourceBucket = await newBucket('src', true);
        const sourceKey = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/trail one.json';
        const bytes = randomBytes(64 * 1024);
        await s3().send(new PutObjectCommand({ Bucket: sourceBucket, Key: sourceKey, Body: bytes, ChecksumSHA256: sha256Base64(bytes) }));
        const { bucket, store } = await newStore('dest');
        const source = new S3EvidenceSource({ uri: `s3://${sourceBucket}/AWSLogs/`, client: s3() });
        const listed = [];
        for await (const o of source.list(() => {})) listed.push(o);

        // Act
        const result = await store.copyFrom(listed[0]!.s3!, `cases/c1/aws/cloudtrail/${listed[0]!.relPath}`);
        const again = await store.copyFrom(listed[0]!.s3!, `cases/c1/aws/cloudtrail/${listed[0]!.relPath}`);

        // Assess
        expect(listed.map((o) => o.relPath)).toEqual([sourceKey]);
        expect(result).toMatchObject({ created: true, size: bytes.byteLength, sha256: sha256Hex(bytes) });
        const copied = await readAll(await store.get(`cases/c1/aws/cloudtrail/${sourceKey}`, result.versionId));
        expect(copied.equals(bytes)).toBe(true);
        const head = await s3().send(
          new HeadObjectCommand({ Bucket: bucket, Key: `cases/c1/aws/cloudtrail/${sourceKey}`, VersionId: result.versionId }),
        );
        expect(head.ObjectLockMode).toBe('COMPLIANCE');
        expect(again).toMatchObject({ created: false, versionId: result.versionId, sha256: result.sha256 });
      });
    });
  });

  describe('Use case: collectEvidence + verifyCase on S3', () => {
    it('collects an S3 prefix into the Object Lock store and verifies the case intact', async () => {
      // Prepare
      const sourceBucket = await newBucket('trail', true);
      const files = {
        'AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/a.json': '{"Records":[{"eventName":"ConsoleLogin"}]}',
        'AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/b.json': '{"Records":[{"eventName":"StopLogging"}]}',
      };
      for (const [key, body] of Object.entries(files)) {
        await s3().send(new PutObjectCommand({ Bucket: sourceBucket, Key: key, Body: body }));
      }
      const { store } = await newStore('case');
      const actor = { principal: 'it@amber', tool: 'amber-test' };

      // Act
      const summary = await collectEvidence({
        store,
        caseName: 'case-s3',
        sources: [new S3EvidenceSource({ uri: `s3://${sourceBucket}/AWSLogs/`, client: s3() })],
        actor,
      });
      const report = await verifyCase({ store, caseName: 'case-s3', actor });

      // Assess
      expect(summary.failures).toEqual([]);
      expect(summary.created).toBe(2);
      expect(report.failures).toEqual([]);
      expect(report.intact).toBe(true);
      expect(report.items.map((i) => i.storedSha256).sort()).toEqual(Object.values(files).map((b) => sha256Hex(b)).sort());
    });
      it('verify still finds and hashes a locked object hidden by a delete marker, and warns about the marker', async () => {
      // Prepare
      const { bucket, store } = await newStore('marker');
      const actor = { principal: 'it@amber', tool: 'amber-test' };
      const dir = await mkdtemp(join(tmpdir(), 'amber-it-'));
      await writeFile(join(dir, 'vpc-flow.log'), 'version account-id interface-id\n2 111122223333 eni-0a1b2c3d\n');
      await collectEvidence({ store, caseName: 'case-marker', sources: [await LocalEvidenceSource.open(dir)], actor });
      const key = `cases/case-marker/${basename(dir)}/vpc-flow.log`;
      // Act: a plain DELETE (no version id) succeeds on a locked object: it only adds a delete marker
      await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      const report = await verifyCase({ store, caseName: 'case-marker', actor });
      // Assess
      expect(report.intact).toBe(true);
      expect(report.items).toEqual([expect.objectContaining({ key, ok: true, storedSha256: sha256Hex('version account-id interface-id\n2 111122223333 eni-0a1b2c3d\n') })]);
      expect(report.warnings).toEqual([expect.objectContaining({ key, reason: expect.stringMatching(/delete marker/) })]);
    });

    it('amber collect --from s3://bucket/prefix preserves into a local locker, keeping the object keys', async () => {
      const source = await newBucket('src', true);
      const key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T0100Z_abc.json.gz';
      await s3().send(new PutObjectCommand({ Bucket: source, Key: key, Body: 'gz-bytes' }));
      await s3().send(new PutObjectCommand({ Bucket: source, Key: 'other/ignored.txt', Body: 'outside the prefix' }));
      const cwd = await mkdtemp(join(tmpdir(), 'amber-it-s3src-'));
      const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const run = await runCli(['collect', '--case', 'from-s3', '--from', `s3://${source}/AWSLogs/`, '--json'], { cwd, env });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ items: 1, created: 1, failures: [] });
      const verified = JSON.parse((await runCli(['verify', '--case', 'from-s3', '--json'], { cwd, env })).stdout);
      expect(verified.items).toEqual([expect.objectContaining({ key: `cases/from-s3/${key}`, storedSha256: sha256Hex('gz-bytes') })]);
    });

    it('amber collect and amber verify work against an s3:// locker (exit 0, JSON reports the stored hash)', async () => {
      const { bucket } = await newStore('cli');
      const cwd = await mkdtemp(join(tmpdir(), 'amber-it-cli-'));
      await writeFile(join(cwd, 'audit.jsonl'), '{"eventName":"StopLogging"}\n');
      const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const collected = await runCli(['collect', '--case', 'cli', '--from', 'audit.jsonl', '--locker', `s3://${bucket}`, '--json'], { cwd, env });
      expect(collected.code).toBe(0);
      const verified = await runCli(['verify', '--case', 'cli', '--locker', `s3://${bucket}`, '--json'], { cwd, env });
      expect(verified.code).toBe(0);
      expect(JSON.parse(verified.stdout).items).toEqual([
        expect.objectContaining({ key: 'cases/cli/audit.jsonl', storedSha256: sha256Hex('{"eventName":"StopLogging"}\n'), versionId: expect.any(String) }),
      ]);
    });

    it('amber anchor writes a signed head into an Object Lock bucket that nobody can delete, and verify --anchor checks it', async () => {
      const { bucket } = await newStore('evidence');
      const anchors = await newBucket('anchors');
      const cwd = await mkdtemp(join(tmpdir(), 'amber-it-anchor-'));
      await writeFile(join(cwd, 'audit.jsonl'), '{"eventName":"StopLogging"}\n');
      const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
      expect((await runCli(['keys', 'init', '--out', join(cwd, 'case.key')], { cwd, env })).code).toBe(0);
      const signing = ['--signing-key', join(cwd, 'case.key')];
      expect((await runCli(['collect', '--case', 'anc', '--from', 'audit.jsonl', '--locker', `s3://${bucket}`, ...signing], { cwd, env })).code).toBe(0);
      const anchored = await runCli(['anchor', '--case', 'anc', '--to', `s3://${anchors}/heads`, '--locker', `s3://${bucket}`, ...signing, '--json'], { cwd, env });
      expect(anchored.stderr).toBe('');
      expect(anchored.code).toBe(0);
      const verified = await runCli(['verify', '--case', 'anc', '--locker', `s3://${bucket}`, '--anchor', `s3://${anchors}/heads`, '--json'], { cwd, env });
      expect(verified.code).toBe(0);
      expect(JSON.parse(verified.stdout).anchors).toEqual([expect.objectContaining({ ok: true })]);
      // The anchor object is locked: deleting its version is refused by the server.
      const listed = await s3().send(new ListObjectVersionsCommand({ Bucket: anchors, Prefix: 'heads/anc/' }));
      expect(listed.Versions).toHaveLength(1);
      const version = listed.Versions![0]!;
      await expect(s3().send(new DeleteObjectCommand({ Bucket: anchors, Key: version.Key, VersionId: version.VersionId }))).rejects.toThrow();
    });
  });
});
