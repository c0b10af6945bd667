import { afterEach, describe, expect, it } from 'vitest';
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3ObjectStore } from '../../../../functions/aws/adapters/s3-object-store.ts';
import { ConcurrentWriteError, StoreError } from '../../../../shared/errors.ts';
import { bodyOf, givenBucket, noSuchKey, s3Error, testClient } from '../../../helpers/s3.ts';

const s3Mock = mockClient(S3Client);
afterEach(() => s3Mock.reset());
const store = () => new S3ObjectStore({ bucket: 'evidence-bucket', client: testClient() });

describe('Class: S3ObjectStore', () => {
  describe('Method: appendLog (compare-and-swap)', () => {
    it('writes back only if the ledger still has the ETag it read', async () => {
      // Prepare
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock.on(GetObjectCommand).resolves({ Body: bodyOf('{"n":1}\n'), ETag: '"e1"' });
      s3Mock.on(PutObjectCommand).resolves({ VersionId: 'l2' });

      // Act
      await store().appendLog('cases/c1/custody-ledger.jsonl', '{"n":2}\n');

      // Assess
      expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ IfMatch: '"e1"' });
    });

    it('creates a new ledger only if none appeared meanwhile', async () => {
      // Prepare
      givenBucket(s3Mock, { versioning: 'Enabled' });
      s3Mock.on(GetObjectCommand).rejects(noSuchKey());
      s3Mock.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });
      s3Mock.on(PutObjectCommand).resolves({});

      // Act
      await store().appendLog('cases/c1/custody-ledger.jsonl', 'first\n');

      // Assess
      expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ IfNoneMatch: '*' });
    });

    it('throws ConcurrentWriteError, having written nothing, when another writer appended in between', async () => {
      // Prepare: the ledger read has ETag e1; by the time the write lands, another writer made it e2
      givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
      s3Mock.on(GetObjectCommand).resolvesOnce({ Body: bodyOf('{"n":1}\n'), ETag: '"e1"' }).resolves({ Body: bodyOf('{"n":1}\n{"other":1}\n'), ETag: '"e2"' });
      s3Mock.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));

      // Act
      const appending = store().appendLog('cases/c1/custody-ledger.jsonl', '{"n":2}\n');

      // Assess
      await expect(appending).rejects.toThrow(ConcurrentWriteError);
      await expect(appending).rejects.toThrow('s3://evidence-bucket/cases/c1/custody-ledger.jsonl');
    });

    it('keeps other failures as StoreError', async () => {
      // Prepare
      givenBucket(s3Mock, {});
      s3Mock.on(GetObjectCommand).resolves({ Body: bodyOf('x\n'), ETag: '"e1"' });
      s3Mock.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));

      // Act / Assess
      await expect(store().appendLog('cases/c1/custody-ledger.jsonl', 'y\n')).rejects.toThrow(StoreError);
    });
  });
});

describe('Class: S3ObjectStore (endpoints without compare-and-swap)', () => {
  it('appends unconditionally, from then on, when the endpoint refuses an If-Match although nothing changed (Ceph RGW)', async () => {
    // Prepare
    givenBucket(s3Mock, { lockDays: 1, versioning: 'Enabled' });
    s3Mock.on(GetObjectCommand).callsFake(async () => ({ Body: bodyOf('{"n":1}\n'), ETag: '"e1"' }));
    s3Mock.on(PutObjectCommand).callsFake(async (input: { IfMatch?: string }) => {
      if (input.IfMatch !== undefined) throw s3Error('PreconditionFailed', 412);
      return { VersionId: 'l2' };
    });
    const s = store();

    // Act
    await s.appendLog('cases/c1/custody-ledger.jsonl', '{"n":2}\n');
    await s.appendLog('cases/c1/custody-ledger.jsonl', '{"n":3}\n');

    // Assess
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.IfMatch)).toEqual(['"e1"', undefined, undefined]);
  });
});
