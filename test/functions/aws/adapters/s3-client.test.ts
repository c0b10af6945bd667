import { describe, expect, it } from 'vitest';
import { createS3Client, DEFAULT_S3_MAX_ATTEMPTS, s3ConfigFromEnv } from '../../../../functions/aws/adapters/s3-client.ts';
import { TEST_CREDENTIALS } from '../../../helpers/s3.ts';

describe('Function: s3ConfigFromEnv', () => {
  it('reads the region and the custom endpoint', () => {
    // Act
    const config = s3ConfigFromEnv({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:17480' });

    // Assess
    expect(config).toEqual({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:17480' });
  });

  it('falls back to AWS_DEFAULT_REGION and leaves the endpoint out when unset', () => {
    expect(s3ConfigFromEnv({ AWS_DEFAULT_REGION: 'us-west-2' })).toEqual({ region: 'us-west-2' });
  });

  it('leaves the region to the SDK chain (AWS_PROFILE config) when none is set, but not for a local endpoint', () => {
    expect(s3ConfigFromEnv({})).toEqual({});
    expect(s3ConfigFromEnv({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:17480' })).toEqual({ region: 'us-east-1', endpoint: 'http://127.0.0.1:17480' });
  });

  it('throws InvalidInputError naming a malformed endpoint', () => {
    expect(() => s3ConfigFromEnv({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: '127.0.0.1:17480' })).toThrow(/'127.0.0.1:17480'/);
  });
});

describe('Function: createS3Client', () => {
  it('uses path-style addressing and checksums only when required for a custom endpoint (Ceph answers 411 otherwise)', async () => {
    // Act
    const client = createS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:17480', credentials: TEST_CREDENTIALS });

    // Assess
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.maxAttempts()).toBe(DEFAULT_S3_MAX_ATTEMPTS);
  });

  it('keeps the SDK defaults for AWS itself', async () => {
    // Act
    const client = createS3Client({ region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 4 });

    // Assess
    expect(client.config.forcePathStyle).toBe(false);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    expect(await client.config.maxAttempts()).toBe(4);
  });

  it('throws InvalidInputError for maxAttempts below 1', () => {
    expect(() => createS3Client({ region: 'us-east-1', maxAttempts: 0 })).toThrow(/maxAttempts must be a whole number of at least 1, got 0/);
  });
});
