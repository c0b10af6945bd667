/**
 * Shared fakes for the S3 adapter tests: SDK errors as S3 throws them, stream bodies, hashes, a bucket
 * answering capability detection, and a fake HTTP handler for tests that need the SDK's real middleware.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  NoSuchKey,
  NotFound,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { HttpResponse, type HttpRequest } from '@smithy/core/protocols';
import type { AwsStub } from 'aws-sdk-client-mock';
import { createS3Client, type AmberS3ClientConfig } from '../../functions/aws/adapters/s3-client.ts';

/** Lowercase hex SHA-256. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Base64 SHA-256, as S3 checksums carry it. */
export function sha256Base64(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** A GetObject Body as the SDK returns it in Node. */
export function bodyOf(bytes: Uint8Array | string) {
  return sdkStreamMixin(Readable.from([Buffer.from(bytes)]));
}

/** Reads a whole stream. */
export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** HEAD's bare 404. */
export function notFound(): NotFound {
  return new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } });
}

/** GET's 404 for a missing key (or one hidden by a delete marker). */
export function noSuchKey(): NoSuchKey {
  return new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
}

/** Any S3 error by code and status. */
export function s3Error(name: string, status: number, attempts = 1): S3ServiceException {
  return new S3ServiceException({
    name,
    message: `${name} from the fake`,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts },
  });
}

/** Test credentials: nothing ever reaches AWS. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

/** A client for mocked tests: a fixed region, fake credentials, no environment. */
export function testClient(config: Partial<AmberS3ClientConfig> = {}): S3Client {
  return createS3Client({ region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 3, retryBaseDelayMs: 1, ...config });
}

export interface FakeBucket {
  /** Object Lock with this default retention in days (0: lock without default); undefined: no Object Lock. */
  readonly lockDays?: number;
  readonly versioning?: 'Enabled' | 'Suspended';
}

/** Answers the capability detection (GetObjectLockConfiguration, GetBucketVersioning) of a mocked client. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function givenBucket(mock: AwsStub<any, any, any>, bucket: FakeBucket): void {
  if (bucket.lockDays === undefined) {
    mock.on(GetObjectLockConfigurationCommand).rejects(s3Error('ObjectLockConfigurationNotFoundError', 404));
  } else {
    mock.on(GetObjectLockConfigurationCommand).resolves({
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        ...(bucket.lockDays > 0 ? { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: bucket.lockDays } } } : {}),
      },
    });
  }
  mock.on(GetBucketVersioningCommand).resolves(bucket.versioning === undefined ? {} : { Status: bucket.versioning });
}

/** One answer of the fake HTTP endpoint. */
export interface FakeHttpAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** What the fake HTTP endpoint saw. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

/** The XML body S3 sends with an error. */
export function errorXml(code: string, message = `${code} from the fake endpoint`): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`;
}

/**
 * A fake HTTP handler: the SDK's real middleware (serialisation, signing, retries) runs and every request
 * ends here, answered by `answer`. aws-sdk-client-mock replaces `send`, which skips the retry middleware,
 * so retry behaviour is tested through this instead.
 */
export class FakeS3Http {
  readonly seen: SeenRequest[] = [];
  constructor(private readonly answer: (request: SeenRequest) => FakeHttpAnswer) {}

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const body: unknown = request.body;
    if (body instanceof Readable) await readAll(body);
    const seen: SeenRequest = {
      method: request.method,
      path: request.path,
      query: request.query as Record<string, unknown>,
      headers: request.headers,
    };
    this.seen.push(seen);
    const out = this.answer(seen);
    return {
      response: new HttpResponse({
        statusCode: out.status,
        headers: { 'content-type': 'application/xml', ...out.headers },
        body: Readable.from([Buffer.from(out.body ?? '')]),
      }),
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}
