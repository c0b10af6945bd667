import { afterEach, describe, expect, it } from 'vitest';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parseS3Uri, S3EvidenceSource } from '../../../../functions/aws/adapters/s3-source.ts';
import { AcquisitionError, InvalidInputError } from '../../../../shared/errors.ts';
import type { SourceObject, SourceProblem } from '../../../../shared/ports/evidence-source.ts';
import { bodyOf, noSuchKey, readAll, s3Error, testClient } from '../../../helpers/s3.ts';

const s3Mock = mockClient(S3Client);

afterEach(() => {
  s3Mock.reset();
});

async function collect(source: S3EvidenceSource): Promise<{ objects: SourceObject[]; problems: SourceProblem[] }> {
  const objects: SourceObject[] = [];
  const problems: SourceProblem[] = [];
  for await (const o of source.list((p) => problems.push(p))) objects.push(o);
  return { objects, problems };
}

describe('Function: parseS3Uri', () => {
  it.each([
    ['s3://trail-bucket', { bucket: 'trail-bucket', prefix: '' }],
    ['s3://trail-bucket/', { bucket: 'trail-bucket', prefix: '' }],
    ['s3://trail-bucket/AWSLogs/111122223333/', { bucket: 'trail-bucket', prefix: 'AWSLogs/111122223333/' }],
    ['s3://my.bucket-1/a b?c#d', { bucket: 'my.bucket-1', prefix: 'a b?c#d' }],
  ])('parses %s', (uri, expected) => {
    expect(parseS3Uri(uri)).toEqual(expected);
  });

  it.each([
    ['trail-bucket/AWSLogs', /must start with s3:\/\//],
    ['S3://trail-bucket', /must start with s3:\/\//],
    ['s3://', /no bucket name/],
    ['s3:///AWSLogs', /no bucket name/],
    ['s3://Trail_Bucket/x', /'Trail_Bucket' .* is not a valid S3 bucket name/],
    ['s3://ab', /not a valid S3 bucket name/],
    ['s3://trail-bucket//AWSLogs', /starts with '\/'/],
  ])('throws InvalidInputError naming the URI for %s', (uri, message) => {
    expect(() => parseS3Uri(uri)).toThrow(InvalidInputError);
    expect(() => parseS3Uri(uri)).toThrow(message);
  });
});

describe('Class: S3EvidenceSource', () => {
  describe('Method: list', () => {
    it('lists every page lazily, keeping full keys as relative paths and the s3 location for copies', async () => {
      // Prepare
      s3Mock
        .on(ListObjectsV2Command, { Bucket: 'trail-bucket', Prefix: 'AWSLogs/', ContinuationToken: undefined })
        .resolves({ IsTruncated: true, NextContinuationToken: 't2', Contents: [{ Key: 'AWSLogs/a.json.gz', Size: 10 }] })
        .on(ListObjectsV2Command, { Bucket: 'trail-bucket', Prefix: 'AWSLogs/', ContinuationToken: 't2' })
        .resolves({ IsTruncated: false, Contents: [{ Key: 'AWSLogs/b.json.gz', Size: 20 }] });
      const source = new S3EvidenceSource({ uri: 's3://trail-bucket/AWSLogs/', client: testClient() });

      // Act
      const iterator = source.list(() => {})[Symbol.asyncIterator]();
      const first = await iterator.next();
      const callsAfterFirst = s3Mock.commandCalls(ListObjectsV2Command).length;
      const rest: SourceObject[] = [];
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest.push(r.value);

      // Assess
      expect(callsAfterFirst).toBe(1);
      const objects = [first.value as SourceObject, ...rest];
      expect(objects.map((o) => ({ origin: o.origin, relPath: o.relPath, size: o.size, s3: o.s3 }))).toEqual([
        { origin: 's3://trail-bucket/AWSLogs/a.json.gz', relPath: 'AWSLogs/a.json.gz', size: 10, s3: { bucket: 'trail-bucket', key: 'AWSLogs/a.json.gz' } },
        { origin: 's3://trail-bucket/AWSLogs/b.json.gz', relPath: 'AWSLogs/b.json.gz', size: 20, s3: { bucket: 'trail-bucket', key: 'AWSLogs/b.json.gz' } },
      ]);
      expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(2);
    });

    it('reports keys that cannot be kept as relative paths as problems, naming them, and goes on', async () => {
      // Prepare
      s3Mock.on(ListObjectsV2Command).resolves({
        IsTruncated: false,
        Contents: [
          { Key: 'logs/../escape.json' },
          { Key: '/rooted.json' },
          { Key: 'logs/folder/' },
          { Key: 'logs//double.json' },
          { Key: 'logs/ok.json' },
        ],
      });
      const source = new S3EvidenceSource({ uri: 's3://trail-bucket', client: testClient() });

      // Act
      const { objects, problems } = await collect(source);

      // Assess
      expect(objects.map((o) => o.relPath)).toEqual(['logs/ok.json']);
      expect(problems.map((p) => p.origin)).toEqual([
        's3://trail-bucket/logs/../escape.json',
        's3://trail-bucket//rooted.json',
        's3://trail-bucket/logs/folder/',
        's3://trail-bucket/logs//double.json',
      ]);
      expect(problems[0]!.reason).toMatch(/\.\. segment/);
    });

    it('throws AcquisitionError naming the source when the bucket cannot be listed', async () => {
      // Prepare
      s3Mock.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403));
      const source = new S3EvidenceSource({ uri: 's3://trail-bucket/AWSLogs/', client: testClient() });

      // Act
      const listing = collect(source);

      // Assess
      await expect(listing).rejects.toThrow(AcquisitionError);
      await expect(listing).rejects.toMatchObject({ origin: 's3://trail-bucket/AWSLogs/', hint: expect.stringContaining('s3:ListBucket') });
    });
  });

  describe('Method: open (of a listed object)', () => {
    it('streams the object bytes', async () => {
      // Prepare
      s3Mock.on(ListObjectsV2Command).resolves({ IsTruncated: false, Contents: [{ Key: 'a.json' }] });
      s3Mock.on(GetObjectCommand, { Bucket: 'trail-bucket', Key: 'a.json' }).resolves({ Body: bodyOf('{"Records":[]}') });
      const { objects } = await collect(new S3EvidenceSource({ uri: 's3://trail-bucket', client: testClient() }));

      // Act
      const bytes = await readAll(await objects[0]!.open());

      // Assess
      expect(bytes.toString()).toBe('{"Records":[]}');
    });

    it('throws AcquisitionError naming the origin when the object vanished after listing', async () => {
      // Prepare
      s3Mock.on(ListObjectsV2Command).resolves({ IsTruncated: false, Contents: [{ Key: 'a.json' }] });
      s3Mock.on(GetObjectCommand).rejects(noSuchKey());
      const { objects } = await collect(new S3EvidenceSource({ uri: 's3://trail-bucket', client: testClient() }));

      // Act
      const opening = objects[0]!.open();

      // Assess
      await expect(opening).rejects.toThrow(AcquisitionError);
      await expect(opening).rejects.toMatchObject({ origin: 's3://trail-bucket/a.json', hint: expect.stringContaining('deleted after it was listed') });
    });
  });
});
