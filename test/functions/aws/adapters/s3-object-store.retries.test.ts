/**
 * Retries come from the SDK's retry middleware, which aws-sdk-client-mock bypasses (it replaces `send`).
 * These tests therefore run the real client (serialisation, signing, retry strategy) against a fake HTTP
 * handler: nothing leaves the process.
 */
import { describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../../functions/aws/adapters/s3-object-store.ts';
import { StoreError } from '../../../../shared/errors.ts';
import { errorXml, FakeS3Http, sha256Hex, testClient, type FakeHttpAnswer, type SeenRequest } from '../../../helpers/s3.ts';

const KEY = 'cases/c1/aws/cloudtrail/a.json';

/** A bucket without Object Lock or versioning whose object PUTs are answered by `puts`, in order. */
function bucketAnswering(puts: FakeHttpAnswer[]): FakeS3Http {
  let putIndex = 0;
  return new FakeS3Http((request: SeenRequest) => {
    if ('object-lock' in request.query) return { status: 404, body: errorXml('ObjectLockConfigurationNotFoundError') };
    if ('versioning' in request.query) return { status: 200, body: '<VersioningConfiguration/>' };
    if (request.method === 'HEAD') return { status: 404 };
    if (request.method === 'PUT') {
      const answer = puts[Math.min(putIndex, puts.length - 1)]!;
      putIndex += 1;
      return answer;
    }
    return { status: 400, body: errorXml('UnexpectedRequest', `${request.method} ${request.path}`) };
  });
}

function putsOf(http: FakeS3Http): SeenRequest[] {
  return http.seen.filter((r) => r.method === 'PUT');
}

const ok: FakeHttpAnswer = { status: 200, headers: { etag: '"e"', 'x-amz-version-id': 'v1' } };

describe('Class: S3ObjectStore', () => {
  describe('Method: putImmutable (retries)', () => {
    it('retries SlowDown answers and preserves the item', async () => {
      // Prepare
      const http = bucketAnswering([
        { status: 503, body: errorXml('SlowDown') },
        { status: 503, body: errorXml('SlowDown') },
        ok,
      ]);
      const store = new S3ObjectStore({ bucket: 'evidence-bucket', client: testClient({ requestHandler: http, maxAttempts: 3 }) });

      // Act
      const result = await store.putImmutable(KEY, Buffer.from('evidence'));

      // Assess
      expect(result).toMatchObject({ created: true, versionId: 'v1', sha256: sha256Hex('evidence') });
      expect(putsOf(http)).toHaveLength(3);
      expect(putsOf(http)[0]!.headers['x-amz-checksum-sha256']).toBe(Buffer.from(sha256Hex('evidence'), 'hex').toString('base64'));
    });

    it('retries a ThrottlingException and preserves the item', async () => {
      // Prepare
      const http = bucketAnswering([{ status: 400, body: errorXml('ThrottlingException') }, ok]);
      const store = new S3ObjectStore({ bucket: 'evidence-bucket', client: testClient({ requestHandler: http, maxAttempts: 3 }) });

      // Act
      const result = await store.putImmutable(KEY, Buffer.from('evidence'));

      // Assess
      expect(result.created).toBe(true);
      expect(putsOf(http)).toHaveLength(2);
    });

    it('throws StoreError naming the bucket, key and attempts when 5xx answers outlive the retries', async () => {
      // Prepare
      const http = bucketAnswering([{ status: 500, body: errorXml('InternalError') }]);
      const store = new S3ObjectStore({ bucket: 'evidence-bucket', client: testClient({ requestHandler: http, maxAttempts: 4 }) });

      // Act
      const putting = store.putImmutable(KEY, Buffer.from('evidence'));

      // Assess
      await expect(putting).rejects.toThrow(StoreError);
      await expect(putting).rejects.toThrow(`s3://evidence-bucket/${KEY}`);
      await expect(putting).rejects.toMatchObject({ hint: expect.stringContaining('after 4 attempts') });
      expect(putsOf(http)).toHaveLength(4);
      expect(http.seen.every((r) => r.method !== 'PUT' || r.path.endsWith(KEY))).toBe(true);
    });

    it('does not retry a refusal that retrying cannot fix (AccessDenied)', async () => {
      // Prepare
      const http = bucketAnswering([{ status: 403, body: errorXml('AccessDenied') }]);
      const store = new S3ObjectStore({ bucket: 'evidence-bucket', client: testClient({ requestHandler: http, maxAttempts: 4 }) });

      // Act / Assess
      await expect(store.putImmutable(KEY, Buffer.from('evidence'))).rejects.toThrow(StoreError);
      expect(putsOf(http)).toHaveLength(1);
    });
  });
});
