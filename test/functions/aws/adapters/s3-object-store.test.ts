import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3ObjectStore, SINGLE_PUT_LIMIT } from '../../../../functions/aws/adapters/s3-object-store.ts';
import {
  AcquisitionError,
  IntegrityError,
  InvalidInputError,
  NotImplementedError,
  ObjectNotFoundError,
  StoreError,
  WriteOnceViolationError,
} from '../../../../shared/errors.ts';
import type { StoredObject } from '../../../../shared/ports/object-store.ts';
import {
  bodyOf,
  givenBucket,
  noSuchKey,
  notFound,
  readAll,
  s3Error,
  sha256Base64,
  sha256Hex,
  testClient,
} from '../../../helpers/s3.ts';

const s3Mock = mockClient(S3Client);
const NOW = new Date('2026-03-01T12:00:00.000Z');
const KEY = 'cases/c1/aws/cloudtrail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/a.json.gz';

function newStore(options: { prefix?: string } = {}): S3ObjectStore {
  return new S3ObjectStore({ bucket: 'evidence-bucket', client: testClient(), now: () => NOW, ...options });
}

afterEach(() => {
  s3Mock.reset();
});

describe('Class: S3ObjectStore', () => {
  describe('Method: open', () => {
    it('detects Object Lock, its default retention and versioning', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 30, versioning: 'Enabled' });

      // Act
      const store = await S3ObjectStore.open({ bucket: 'evidence-bucket', client: testClient() });

      // Assess
      expect(store.uri).toBe('s3://evidence-bucket');
      expect(await store.capabilities()).toEqual({
        objectLock: true,
        defaultRetention: { mode: 'COMPLIANCE', days: 30, years: undefined },
        versioning: 'Enabled',
      });
    });

    it('works without Object Lock when the bucket has no lock configuration', async () => {
      // Prepare
      givenBucket(s3Mock, {});

      // Act
      const store = await S3ObjectStore.open({ bucket: 'evidence-bucket', client: testClient() });

      // Assess
      expect(await store.capabilities()).toMatchObject({ objectLock: false, versioning: 'Disabled' });
    });

    it('throws StoreError naming the bucket and how to create it when the bucket does not exist', async () => {
      // Prepare
      s3Mock.rejects(s3Error('NoSuchBucket', 404));

      // Act
      const opening = S3ObjectStore.open({ bucket: 'missing-bucket', client: testClient() });

      // Assess
      await expect(opening).rejects.toThrow(StoreError);
      await expect(opening).rejects.toThrow(/s3:\/\/missing-bucket does not exist/);
      await expect(opening).rejects.toMatchObject({ hint: expect.stringContaining('--object-lock-enabled-for-bucket') });
    });

    it('rejects an invalid bucket name, naming it', () => {
      // Act / Assess
      expect(() => new S3ObjectStore({ bucket: 'Bad_Bucket', client: testClient() })).toThrow(InvalidInputError);
      expect(() => new S3ObjectStore({ bucket: 'Bad_Bucket', client: testClient() })).toThrow(/'Bad_Bucket'/);
    });

    it('keeps keys under the prefix and names it in the uri', async () => {
      // Prepare
      givenBucket(s3Mock, {});
      s3Mock.on(HeadObjectCommand).rejects(notFound());
      s3Mock.on(PutObjectCommand).resolves({});

      // Act
      const store = newStore({ prefix: 'amber' });
      await store.putImmutable('cases/c1/x.json', Buffer.from('{}'));

      // Assess
      expect(store.uri).toBe('s3://evidence-bucket/amber');
      expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input.Key).toBe('amber/cases/c1/x.json');
    });
  });

  describe('Method: putImmutable', () => {
    beforeEach(() => {
      s3Mock.on(HeadObjectCommand).rejects(notFound());
      s3Mock.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });
    });

    it('sends the SHA-256 of the bytes as ChecksumSHA256 and as amber-sha256 metadata', async () => {
      // Prepare
      givenBucket(s3Mock, {});
      s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
      const bytes = Buffer.from('{"Records":[{"eventName":"ConsoleLogin"}]}');

      // Act
      const result = await newStore().putImmutable(KEY, Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]), {
        mediaType: 'application/json',
      });

      // Assess
      expect(result).toEqual({
        key: KEY,
        size: bytes.byteLength,
        sha256: sha256Hex(bytes),
        created: true,
        versionId: 'v1',
        retainUntil: undefined,
      });
      const input = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
      expect(input.ChecksumSHA256).toBe(sha256Base64(bytes));
      expect(input.ChecksumAlgorithm).toBe('SHA256');
      expect(input.Metadata).toEqual({ 'amber-sha256': sha256Hex(bytes) });
      expect(input.ContentType).toBe('application/json');
      expect(input.IfNoneMatch).toBe('*');
      expect(Buffer.from(input.Body as Uint8Array)).toEqual(bytes);
    });

    it('reports progress as the bytes arrive (bytes per chunk, as the local locker does)', async () => {
      // Prepare
      givenBucket(s3Mock, {});
      s3Mock.on(PutObjectCommand).resolves({});
      const seen: number[] = [];

      // Act
      await newStore().putImmutable(KEY, Readable.from([Buffer.from('abc'), Buffer.from('de')]), {
        onProgress: (bytes) => seen.push(bytes),
      });

      // Assess
      expect(seen).toEqual([3, 2]);
    });

    it('sets COMPLIANCE retention until the bucket default when the bucket has Object Lock', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });

      // Act
      const result = await newStore().putImmutable(KEY, Buffer.from('x'));

      // Assess
      const input = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
      expect(input.ObjectLockMode).toBe('COMPLIANCE');
      expect(input.ObjectLockRetainUntilDate).toEqual(new Date('2026-03-02T12:00:00.000Z'));
      expect(result.retainUntil).toBe('2026-03-02T12:00:00.000Z');
    });

    it('sets the retainUntil asked for when the bucket has Object Lock', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
      const retainUntil = new Date('2033-01-01T00:00:00.000Z');

      // Act
      const result = await newStore().putImmutable(KEY, Buffer.from('x'), { retainUntil });

      // Assess
      const input = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
      expect(input.ObjectLockMode).toBe('COMPLIANCE');
      expect(input.ObjectLockRetainUntilDate).toEqual(retainUntil);
      expect(result.retainUntil).toBe('2033-01-01T00:00:00.000Z');
    });

    it('sends no Object Lock headers, and reports no retention, when the bucket has no Object Lock', async () => {
      // Prepare
      givenBucket(s3Mock, { versioning: 'Enabled' });
      s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });

      // Act
      const result = await newStore().putImmutable(KEY, Buffer.from('x'), { retainUntil: new Date('2033-01-01') });

      // Assess
      const input = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
      expect(input).not.toHaveProperty('ObjectLockMode');
      expect(input).not.toHaveProperty('ObjectLockRetainUntilDate');
      expect(result.retainUntil).toBeUndefined();
    });

    it('throws InvalidInputError for a retainUntil in the past', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });

      // Act
      const putting = newStore().putImmutable(KEY, Buffer.from('x'), { retainUntil: new Date('2020-01-01') });

      // Assess
      await expect(putting).rejects.toThrow(InvalidInputError);
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });

    it('returns created: false without uploading when the key already holds the same bytes', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      const bytes = Buffer.from('same bytes');
      s3Mock.on(HeadObjectCommand).resolves({
        VersionId: 'v0',
        ContentLength: bytes.byteLength,
        Metadata: { 'amber-sha256': sha256Hex(bytes) },
        ObjectLockRetainUntilDate: new Date('2026-03-02T00:00:00.000Z'),
      });

      // Act
      const result = await newStore().putImmutable(KEY, Readable.from([bytes]));

      // Assess
      expect(result).toEqual({
        key: KEY,
        size: bytes.byteLength,
        sha256: sha256Hex(bytes),
        created: false,
        versionId: 'v0',
        retainUntil: '2026-03-02T00:00:00.000Z',
      });
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
      expect(s3Mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
    });

    it('throws WriteOnceViolationError naming both hashes, and uploads nothing, when the key holds other bytes', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock.on(HeadObjectCommand).resolves({ VersionId: 'v0', Metadata: { 'amber-sha256': sha256Hex('original') } });

      // Act
      const putting = newStore().putImmutable(KEY, Buffer.from('tampered'));

      // Assess
      await expect(putting).rejects.toThrow(WriteOnceViolationError);
      await expect(putting).rejects.toMatchObject({
        key: KEY,
        existingSha256: sha256Hex('original'),
        newSha256: sha256Hex('tampered'),
      });
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });

    it('compares with the full-object ChecksumSHA256 when the object has no amber-sha256 metadata', async () => {
      // Prepare
      givenBucket(s3Mock, {});
      s3Mock.on(HeadObjectCommand).resolves({ ChecksumSHA256: sha256Base64('abc'), ChecksumType: 'FULL_OBJECT' });

      // Act
      const result = await newStore().putImmutable(KEY, Buffer.from('abc'));

      // Assess
      expect(result.created).toBe(false);
      expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
    });

    it('reads and hashes the existing object when it carries no usable hash (multipart upload)', async () => {
      // Prepare
      givenBucket(s3Mock, { versioning: 'Enabled' });
      s3Mock.on(HeadObjectCommand).resolves({ VersionId: 'v0', ChecksumSHA256: 'AAAA-3', ChecksumType: 'COMPOSITE' });
      s3Mock.on(GetObjectCommand, { Key: KEY, VersionId: 'v0' }).resolves({ Body: bodyOf('stored bytes') });

      // Act
      const putting = newStore().putImmutable(KEY, Buffer.from('other bytes'));

      // Assess
      await expect(putting).rejects.toMatchObject({ existingSha256: sha256Hex('stored bytes') });
    });

    it('treats a version hidden under a delete marker as preserved evidence', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock.on(HeadObjectCommand).rejects(notFound());
      s3Mock.on(ListObjectVersionsCommand).resolves({
        IsTruncated: false,
        Versions: [{ Key: KEY, VersionId: 'v-locked', IsLatest: false, Size: 8 }],
        DeleteMarkers: [{ Key: KEY, VersionId: 'dm', IsLatest: true }],
      });
      s3Mock
        .on(HeadObjectCommand, { Key: KEY, VersionId: 'v-locked' })
        .resolves({ VersionId: 'v-locked', Metadata: { 'amber-sha256': sha256Hex('original') } });

      // Act
      const putting = newStore().putImmutable(KEY, Buffer.from('replaced'));

      // Assess
      await expect(putting).rejects.toThrow(WriteOnceViolationError);
      await expect(putting).rejects.toMatchObject({ hint: expect.stringContaining('delete marker hides version v-locked') });
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });

    it('settles a conditional write lost to another writer (412) by comparing with what it wrote', async () => {
      // Prepare
      givenBucket(s3Mock, {});
      s3Mock
        .on(HeadObjectCommand)
        .rejectsOnce(notFound())
        .resolves({ VersionId: 'v-other', Metadata: { 'amber-sha256': sha256Hex('abc') } });
      s3Mock.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));

      // Act
      const result = await newStore().putImmutable(KEY, Buffer.from('abc'));

      // Assess
      expect(result).toMatchObject({ created: false, versionId: 'v-other', sha256: sha256Hex('abc') });
    });

    it('throws StoreError naming the bucket and key when S3 refuses the write', async () => {
      // Prepare
      givenBucket(s3Mock, {});
      s3Mock.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));

      // Act
      const putting = newStore().putImmutable(KEY, Buffer.from('x'));

      // Assess
      await expect(putting).rejects.toThrow(StoreError);
      await expect(putting).rejects.toThrow(`s3://evidence-bucket/${KEY}`);
      await expect(putting).rejects.toMatchObject({ hint: expect.stringContaining('IAM policy') });
    });

    it('rejects a key with a .. segment before touching S3', async () => {
      // Act
      const putting = newStore().putImmutable('cases/c1/../c2/x', Buffer.from('x'));

      // Assess
      await expect(putting).rejects.toThrow(InvalidInputError);
      expect(s3Mock.calls()).toHaveLength(0);
    });

    describe('bodies over 8 MiB', () => {
      const big = Buffer.alloc(SINGLE_PUT_LIMIT + 1024 * 1024, 'a');
      big.write('start', 0);
      big.write('end', big.byteLength - 3);

      it('uploads in parts, each with a SHA-256 checksum, hashing the stream as it goes', async () => {
        // Prepare
        givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
        s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
        s3Mock.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"etag-${input.PartNumber}"` }));
        s3Mock.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'v-big' });
        const chunks = [big.subarray(0, 3_000_000), big.subarray(3_000_000, 9_000_000), big.subarray(9_000_000)];

        let progressed = 0;

        // Act
        const result = await newStore().putImmutable(KEY, Readable.from(chunks), { onProgress: (n) => (progressed += n) });

        // Assess
        expect(result).toMatchObject({ size: big.byteLength, sha256: sha256Hex(big), created: true, versionId: 'v-big' });
        expect(progressed).toBe(big.byteLength);
        expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
        const create = s3Mock.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input;
        expect(create).toMatchObject({ ChecksumAlgorithm: 'SHA256', ObjectLockMode: 'COMPLIANCE' });
        const parts = s3Mock.commandCalls(UploadPartCommand).map((c) => c.args[0].input);
        expect(parts.map((p) => p.ChecksumAlgorithm)).toEqual(['SHA256', 'SHA256']);
        const sent = Buffer.concat(
          [...parts].sort((a, b) => a.PartNumber! - b.PartNumber!).map((p) => Buffer.from(p.Body as Uint8Array)),
        );
        expect(sha256Hex(sent)).toBe(sha256Hex(big));
        expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input).toMatchObject({ IfNoneMatch: '*' });
      });

      it('aborts the multipart upload when a part fails, and throws StoreError', async () => {
        // Prepare
        givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
        s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
        s3Mock
          .on(UploadPartCommand)
          .resolvesOnce({ ETag: '"etag-1"' })
          .rejects(s3Error('InternalError', 500, 6));
        s3Mock.on(AbortMultipartUploadCommand).resolves({});

        // Act
        const putting = newStore().putImmutable(KEY, Readable.from([big]));

        // Assess
        await expect(putting).rejects.toThrow(StoreError);
        await expect(putting).rejects.toThrow(`s3://evidence-bucket/${KEY}`);
        await expect(putting).rejects.toMatchObject({ hint: expect.stringContaining('after 6 attempts') });
        expect(s3Mock.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([
          { Bucket: 'evidence-bucket', Key: KEY, UploadId: 'up-2' },
        ]);
        expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
      });

      it('rethrows the body error, and aborts, when the source stream fails midway', async () => {
        // Prepare
        givenBucket(s3Mock, {});
        s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-3' });
        s3Mock.on(UploadPartCommand).resolves({ ETag: '"e"' });
        s3Mock.on(AbortMultipartUploadCommand).resolves({});
        const failing = Readable.from(
          (async function* () {
            yield big;
            yield big;
            throw new Error('disk read failed');
          })(),
        );

        // Act
        const putting = newStore().putImmutable(KEY, failing);

        // Assess
        await expect(putting).rejects.toThrow(/^disk read failed$/);
        await expect(putting).rejects.not.toBeInstanceOf(StoreError);
        expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
        expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
      });

      it('throws IntegrityError when the composite checksum S3 reports does not match the parts sent', async () => {
        // Prepare
        givenBucket(s3Mock, {});
        s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-4' });
        s3Mock.on(UploadPartCommand).resolves({ ETag: '"e"' });
        s3Mock.on(CompleteMultipartUploadCommand).resolves({
          VersionId: 'v-bad',
          ChecksumSHA256: `${sha256Base64('something else')}-2`,
          ChecksumType: 'COMPOSITE',
        });
        s3Mock.on(DeleteObjectCommand).resolves({});

        // Act
        const putting = newStore().putImmutable(KEY, Readable.from([big]));

        // Assess
        await expect(putting).rejects.toThrow(IntegrityError);
        expect(s3Mock.commandCalls(DeleteObjectCommand)[0]!.args[0].input).toMatchObject({ Key: KEY, VersionId: 'v-bad' });
      });
    });
  });

  describe('Method: get', () => {
    it('returns the bytes of the version asked for', async () => {
      // Prepare
      s3Mock.on(GetObjectCommand, { Bucket: 'evidence-bucket', Key: KEY, VersionId: 'v1' }).resolves({ Body: bodyOf('v1 bytes') });

      // Act
      const stream = await newStore().get(KEY, 'v1');

      // Assess
      expect((await readAll(stream)).toString()).toBe('v1 bytes');
    });

    it('throws ObjectNotFoundError with a hint about delete markers when the key is absent', async () => {
      // Prepare
      s3Mock.on(GetObjectCommand).rejects(noSuchKey());

      // Act
      const getting = newStore().get(KEY);

      // Assess
      await expect(getting).rejects.toThrow(ObjectNotFoundError);
      await expect(getting).rejects.toMatchObject({ key: KEY, hint: expect.stringContaining('delete marker') });
    });
  });

  describe('Method: readText', () => {
    it('returns undefined when the object is absent', async () => {
      // Prepare
      s3Mock.on(GetObjectCommand).rejects(noSuchKey());

      // Act / Assess
      expect(await newStore().readText('cases/c1/ledger.jsonl')).toBeUndefined();
    });
  });

  describe('Method: list', () => {
    it('lists keys hidden by a delete marker with their newest real version', async () => {
      // Prepare
      s3Mock.on(ListObjectVersionsCommand).resolves({
        IsTruncated: false,
        Versions: [
          { Key: 'cases/c1/a', VersionId: 'a2', IsLatest: true, Size: 2 },
          { Key: 'cases/c1/a', VersionId: 'a1', IsLatest: false, Size: 1 },
          { Key: 'cases/c1/b', VersionId: 'b1', IsLatest: false, Size: 3 },
        ],
        DeleteMarkers: [
          { Key: 'cases/c1/b', VersionId: 'b-dm', IsLatest: true },
          { Key: 'cases/c1/gone', VersionId: 'g-dm', IsLatest: true },
        ],
      });

      // Act
      const listed: StoredObject[] = [];
      for await (const o of newStore().list('cases/c1/')) listed.push(o);

      // Assess
      expect(listed).toEqual([
        { key: 'cases/c1/a', size: 2, versionId: 'a2', deleteMarkerOnTop: false },
        { key: 'cases/c1/b', size: 3, versionId: 'b1', deleteMarkerOnTop: true },
      ]);
    });

    it('follows pages, joining a key whose versions span two pages, and strips the store prefix', async () => {
      // Prepare
      s3Mock
        .on(ListObjectVersionsCommand, { Prefix: 'amber/cases/', KeyMarker: undefined })
        .resolves({
          IsTruncated: true,
          NextKeyMarker: 'amber/cases/b',
          NextVersionIdMarker: 'b-dm',
          Versions: [{ Key: 'amber/cases/a', VersionId: 'a1', IsLatest: true, Size: 1 }],
          DeleteMarkers: [{ Key: 'amber/cases/b', VersionId: 'b-dm', IsLatest: true }],
        })
        .on(ListObjectVersionsCommand, { Prefix: 'amber/cases/', KeyMarker: 'amber/cases/b', VersionIdMarker: 'b-dm' })
        .resolves({
          IsTruncated: false,
          Versions: [{ Key: 'amber/cases/b', VersionId: 'b1', IsLatest: false, Size: 5 }],
        });

      // Act
      const listed: StoredObject[] = [];
      for await (const o of newStore({ prefix: 'amber/' }).list('cases/')) listed.push(o);

      // Assess
      expect(listed).toEqual([
        { key: 'cases/a', size: 1, versionId: 'a1', deleteMarkerOnTop: false },
        { key: 'cases/b', size: 5, versionId: 'b1', deleteMarkerOnTop: true },
      ]);
    });
  });

  describe('Method: appendLog', () => {
    it('writes a new version holding the old bytes plus the text, retained like evidence', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock.on(GetObjectCommand).resolves({ Body: bodyOf('{"n":1}\n') });
      s3Mock.on(PutObjectCommand).resolves({ VersionId: 'l2' });

      // Act
      await newStore().appendLog('cases/c1/ledger.jsonl', '{"n":2}\n');

      // Assess
      const input = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
      expect(Buffer.from(input.Body as Uint8Array).toString()).toBe('{"n":1}\n{"n":2}\n');
      expect(input.ChecksumSHA256).toBe(sha256Base64('{"n":1}\n{"n":2}\n'));
      expect(input.ObjectLockMode).toBe('COMPLIANCE');
      expect(input).not.toHaveProperty('IfNoneMatch');
    });

    it('creates the log when it does not exist', async () => {
      // Prepare
      givenBucket(s3Mock, { versioning: 'Enabled' });
      s3Mock.on(GetObjectCommand).rejects(noSuchKey());
      s3Mock.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });
      s3Mock.on(PutObjectCommand).resolves({});

      // Act
      await newStore().appendLog('cases/c1/ledger.jsonl', 'first\n');

      // Assess
      const input = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
      expect(Buffer.from(input.Body as Uint8Array).toString()).toBe('first\n');
    });

    it('refuses to start a new log over one hidden by a delete marker', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock.on(GetObjectCommand).rejects(noSuchKey());
      s3Mock.on(ListObjectVersionsCommand).resolves({
        IsTruncated: false,
        Versions: [{ Key: 'cases/c1/ledger.jsonl', VersionId: 'l7', IsLatest: false }],
        DeleteMarkers: [{ Key: 'cases/c1/ledger.jsonl', VersionId: 'dm', IsLatest: true }],
      });

      // Act
      const appending = newStore().appendLog('cases/c1/ledger.jsonl', 'x\n');

      // Assess
      await expect(appending).rejects.toThrow(IntegrityError);
      await expect(appending).rejects.toThrow(/newest version l7/);
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });
  });

  describe('Method: exists', () => {
    it('is true when HeadBucket succeeds', async () => {
      // Prepare
      s3Mock.on(HeadBucketCommand).resolves({});

      // Act / Assess
      expect(await newStore().exists()).toBe(true);
    });

    it('is false when the bucket does not exist', async () => {
      // Prepare
      s3Mock.on(HeadBucketCommand).rejects(notFound());

      // Act / Assess
      expect(await newStore().exists()).toBe(false);
    });

    it('throws StoreError when access is denied (the bucket may exist)', async () => {
      // Prepare
      s3Mock.on(HeadBucketCommand).rejects(s3Error('Forbidden', 403));

      // Act / Assess
      await expect(newStore().exists()).rejects.toThrow(StoreError);
    });
  });

  describe('Method: lock', () => {
    it('returns a release function without touching S3 (S3 has no lock)', async () => {
      // Act
      const release = await newStore().lock('cases/c1');
      await release();

      // Assess
      expect(s3Mock.calls()).toHaveLength(0);
    });
  });

  describe('Method: copyFrom', () => {
    const source = { bucket: 'trail-bucket', key: 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/a.json.gz' };
    const bytes = Buffer.from('cloudtrail bytes');

    beforeEach(() => {
      s3Mock.on(HeadObjectCommand, { Bucket: 'evidence-bucket' }).rejects(notFound());
      s3Mock.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });
    });

    it('copies server-side with a SHA-256 checksum and verifies the copy by reading it back', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock
        .on(HeadObjectCommand, { Bucket: 'trail-bucket' })
        .resolves({ ContentLength: bytes.byteLength, VersionId: 'src-v1', ChecksumSHA256: sha256Base64(bytes), ChecksumType: 'FULL_OBJECT' });
      s3Mock.on(CopyObjectCommand).resolves({ VersionId: 'copy-v1', CopyObjectResult: { ChecksumSHA256: sha256Base64(bytes) } });
      s3Mock.on(GetObjectCommand, { Bucket: 'evidence-bucket', Key: KEY, VersionId: 'copy-v1' }).resolves({ Body: bodyOf(bytes) });

      // Act
      const result = await newStore().copyFrom(source, KEY);

      // Assess
      expect(result).toEqual({
        key: KEY,
        size: bytes.byteLength,
        sha256: sha256Hex(bytes),
        created: true,
        versionId: 'copy-v1',
        retainUntil: '2026-03-02T12:00:00.000Z',
      });
      expect(s3Mock.commandCalls(CopyObjectCommand)[0]!.args[0].input).toMatchObject({
        Bucket: 'evidence-bucket',
        Key: KEY,
        CopySource: `trail-bucket/${source.key}?versionId=src-v1`,
        ChecksumAlgorithm: 'SHA256',
        ObjectLockMode: 'COMPLIANCE',
      });
    });

    it('reads back the version now on top when CopyObject answers without a version id (Ceph)', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock.on(HeadObjectCommand, { Bucket: 'trail-bucket' }).resolves({ ContentLength: bytes.byteLength });
      s3Mock.on(CopyObjectCommand).resolves({ CopyObjectResult: {} });
      s3Mock
        .on(HeadObjectCommand, { Bucket: 'evidence-bucket' })
        .rejectsOnce(notFound())
        .resolves({ VersionId: 'copy-v9' });
      s3Mock.on(GetObjectCommand, { Bucket: 'evidence-bucket', Key: KEY, VersionId: 'copy-v9' }).resolves({ Body: bodyOf(bytes) });

      // Act
      const result = await newStore().copyFrom(source, KEY);

      // Assess
      expect(result).toMatchObject({ created: true, versionId: 'copy-v9', sha256: sha256Hex(bytes) });
    });

    it('throws IntegrityError naming both hashes when the copy read back differs from the source checksum', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock
        .on(HeadObjectCommand, { Bucket: 'trail-bucket' })
        .resolves({ ContentLength: bytes.byteLength, ChecksumSHA256: sha256Base64(bytes) });
      s3Mock.on(CopyObjectCommand).resolves({ VersionId: 'copy-v1', CopyObjectResult: {} });
      s3Mock.on(GetObjectCommand).resolves({ Body: bodyOf('corrupted bytes!') });
      s3Mock.on(DeleteObjectCommand).rejects(s3Error('AccessDenied', 403));

      // Act
      const copying = newStore().copyFrom(source, KEY);

      // Assess
      await expect(copying).rejects.toThrow(IntegrityError);
      await expect(copying).rejects.toThrow(sha256Hex('corrupted bytes!'));
      await expect(copying).rejects.toThrow(sha256Hex(bytes));
      await expect(copying).rejects.toMatchObject({ hint: expect.stringContaining('Object Lock retains it') });
    });

    it('returns created: false when the key already holds the source bytes', async () => {
      // Prepare
      givenBucket(s3Mock, { versioning: 'Enabled' });
      s3Mock.on(HeadObjectCommand, { Bucket: 'trail-bucket' }).resolves({ ContentLength: bytes.byteLength, VersionId: 'src-v1' });
      s3Mock.on(GetObjectCommand, { Bucket: 'trail-bucket' }).resolves({ Body: bodyOf(bytes) });
      s3Mock
        .on(HeadObjectCommand, { Bucket: 'evidence-bucket' })
        .resolves({ VersionId: 'v0', Metadata: { 'amber-sha256': sha256Hex(bytes) } });

      // Act
      const result = await newStore().copyFrom(source, KEY);

      // Assess
      expect(result).toMatchObject({ created: false, versionId: 'v0', sha256: sha256Hex(bytes) });
      expect(s3Mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
    });

    it('throws WriteOnceViolationError when the key holds other bytes', async () => {
      // Prepare
      givenBucket(s3Mock, { versioning: 'Enabled' });
      s3Mock
        .on(HeadObjectCommand, { Bucket: 'trail-bucket' })
        .resolves({ ContentLength: 3, ChecksumSHA256: sha256Base64('new'), ChecksumType: 'FULL_OBJECT' });
      s3Mock
        .on(HeadObjectCommand, { Bucket: 'evidence-bucket' })
        .resolves({ VersionId: 'v0', Metadata: { 'amber-sha256': sha256Hex('old') } });

      // Act / Assess
      await expect(newStore().copyFrom(source, KEY)).rejects.toThrow(WriteOnceViolationError);
      expect(s3Mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
    });

    it('throws NotImplementedError naming the 5 GiB limit for larger objects', async () => {
      // Prepare
      givenBucket(s3Mock, {});
      s3Mock.on(HeadObjectCommand, { Bucket: 'trail-bucket' }).resolves({ ContentLength: 6 * 1024 ** 3 });

      // Act
      const copying = newStore().copyFrom(source, KEY);

      // Assess
      await expect(copying).rejects.toThrow(NotImplementedError);
      await expect(copying).rejects.toThrow(/over 5 GiB needs UploadPartCopy/);
      expect(s3Mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
    });

    it('throws AcquisitionError naming the origin when the source is missing', async () => {
      // Prepare
      givenBucket(s3Mock, {});
      s3Mock.on(HeadObjectCommand, { Bucket: 'trail-bucket' }).rejects(notFound());

      // Act
      const copying = newStore().copyFrom(source, KEY);

      // Assess
      await expect(copying).rejects.toThrow(AcquisitionError);
      await expect(copying).rejects.toMatchObject({ origin: `s3://trail-bucket/${source.key}` });
    });
  });
});
