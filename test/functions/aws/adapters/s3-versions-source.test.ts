/**
 * S3VersionsSource through the real S3 client (serialisation, signing, retries, XML parsing) against a fake HTTP
 * handler answering ListObjectVersions pages and the bucket configuration calls with the documented response
 * shapes: nothing leaves the process.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BUCKET_CONFIGURATIONS, S3VersionsSource, versionSegment } from '../../../../functions/aws/adapters/s3-versions-source.ts';
import { collectEvidence } from '../../../../shared/evidence/collect.ts';
import { TEST_ACTOR } from '../../../helpers/case.ts';
import { MemoryObjectStore } from '../../../helpers/memory-store.ts';
import { errorXml, FakeS3Http, testClient, type FakeHttpAnswer, type SeenRequest } from '../../../helpers/s3.ts';

const BUCKET = 'trail-bucket';
const NOW = new Date('2026-03-05T10:00:00Z');
const OWNER = '<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>owner</DisplayName></Owner>';

interface Entry {
  readonly key: string;
  readonly versionId: string;
  readonly body?: string;
  readonly marker?: boolean;
  readonly latest: boolean;
}

/** Versions in ListObjectVersions order: by key, newest first within a key. */
const ENTRIES: readonly Entry[] = [
  { key: 'logs/a.json', versionId: 'A3', marker: true, latest: true },
  { key: 'logs/a.json', versionId: 'A2', body: '{"v":"a2 tampered"}', latest: false },
  { key: 'logs/a.json', versionId: 'A1', body: '{"v":"a1 original"}', latest: false },
  { key: 'logs/b.json', versionId: 'B1', body: '{"v":"b1"}', latest: true },
  { key: 'logs/c.json', versionId: 'null', body: '{"v":"c from before versioning"}', latest: true },
];

function entryXml(e: Entry): string {
  const common = `<Key>${e.key}</Key><VersionId>${e.versionId}</VersionId><IsLatest>${e.latest}</IsLatest><LastModified>2026-03-01T12:00:00.000Z</LastModified>`;
  if (e.marker) return `<DeleteMarker>${common}${OWNER}</DeleteMarker>`;
  return `<Version>${common}<ETag>"${createHash('md5').update(e.body!).digest('hex')}"</ETag><Size>${Buffer.byteLength(e.body!)}</Size><StorageClass>STANDARD</StorageClass>${OWNER}</Version>`;
}

/** The ListObjectVersions page starting after (key-marker, version-id-marker), `max-keys` entries long. */
function listPage(query: Record<string, unknown>): string {
  const max = Number(query['max-keys']);
  const keyMarker = query['key-marker'] as string | undefined;
  const vidMarker = query['version-id-marker'] as string | undefined;
  let start = 0;
  if (keyMarker !== undefined) start = ENTRIES.findIndex((e) => e.key === keyMarker && e.versionId === vidMarker) + 1;
  const page = ENTRIES.slice(start, start + max);
  const truncated = start + max < ENTRIES.length;
  const last = page.at(-1)!;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>${BUCKET}</Name><Prefix>logs/</Prefix><KeyMarker>${keyMarker ?? ''}</KeyMarker><VersionIdMarker>${vidMarker ?? ''}</VersionIdMarker>` +
    (truncated ? `<NextKeyMarker>${last.key}</NextKeyMarker><NextVersionIdMarker>${last.versionId}</NextVersionIdMarker>` : '') +
    `<MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${page.map(entryXml).join('')}</ListVersionsResult>`
  );
}

const ACL = `<?xml version="1.0" encoding="UTF-8"?><AccessControlPolicy>${OWNER}<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`;

interface FakeOptions {
  /** Answers of the listing requests, in order, before the real pages (e.g. a throttle). */
  readonly listFailures?: FakeHttpAnswer[];
  /** The listing of this page number (1-based) fails with this answer every time. */
  readonly brokenPage?: { readonly page: number; readonly answer: FakeHttpAnswer };
}

/** A versioned bucket: a policy-less, lock-less bucket whose public access block the caller may not read. */
function bucket(options: FakeOptions = {}): FakeS3Http {
  const failures = [...(options.listFailures ?? [])];
  let pages = 0;
  return new FakeS3Http((r: SeenRequest) => {
    if (r.method !== 'GET') return { status: 400, body: errorXml('UnexpectedRequest', `${r.method} ${r.path}`) };
    const q = r.query;
    if ('versions' in q) {
      const failure = failures.shift();
      if (failure) return failure;
      pages += 1;
      if (options.brokenPage && options.brokenPage.page === pages) return options.brokenPage.answer;
      return { status: 200, body: listPage(q) };
    }
    if ('policy' in q) return { status: 404, body: errorXml('NoSuchBucketPolicy') };
    if ('acl' in q) return { status: 200, body: ACL };
    if ('publicAccessBlock' in q) return { status: 403, body: errorXml('AccessDenied', 'Access Denied') };
    if ('versioning' in q) return { status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>' };
    if ('object-lock' in q) return { status: 404, body: errorXml('ObjectLockConfigurationNotFoundError') };
    if ('lifecycle' in q) return { status: 404, body: errorXml('NoSuchLifecycleConfiguration') };
    if ('logging' in q) return { status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><BucketLoggingStatus xmlns="http://doc.s3.amazonaws.com/2006-03-01"/>' };
    if ('replication' in q) return { status: 404, body: errorXml('ReplicationConfigurationNotFoundError') };
    if ('encryption' in q) {
      return { status: 200, body: '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>' };
    }
    if ('notification' in q) return { status: 200, body: '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>' };
    const key = decodeURIComponent(r.path.slice(`/${BUCKET}/`.length));
    const entry = ENTRIES.find((e) => e.key === key && e.versionId === q.versionId && !e.marker);
    if (entry) return { status: 200, headers: { 'content-type': 'application/json', 'x-amz-version-id': entry.versionId }, body: entry.body };
    return { status: 404, body: errorXml('NoSuchVersion') };
  });
}

async function collect(http: FakeS3Http, pageSize = 2) {
  const store = new MemoryObjectStore(false);
  const source = new S3VersionsSource({ uri: `s3://${BUCKET}/logs/`, client: testClient({ requestHandler: http, forcePathStyle: true, maxAttempts: 3 }), now: () => NOW, pageSize });
  const summary = await collectEvidence({ store, caseName: 'c1', sources: [source], actor: TEST_ACTOR, concurrency: 1 });
  return { store, summary };
}

function text(store: MemoryObjectStore, relPath: string): string | undefined {
  return store.objects.get(`cases/c1/aws/s3/${BUCKET}/${relPath}`)?.toString('utf8');
}

describe('Class: S3VersionsSource', () => {
  describe('Method: list', () => {
    it('preserves every version of every key under its own key, across listing pages', async () => {
      // Prepare
      const http = bucket();

      // Act
      const { store, summary } = await collect(http);

      // Assess
      expect(summary.failures).toEqual([]);
      for (const e of ENTRIES.filter((x) => !x.marker)) {
        expect(text(store, `versions/${e.versionId}/${e.key}`), `${e.key} ${e.versionId}`).toBe(e.body);
      }
      // Each listing request asked for the version after the last one of the previous page.
      const listings = http.seen.filter((r) => 'versions' in r.query);
      expect(listings.map((r) => [r.query['key-marker'], r.query['version-id-marker']])).toEqual([
        [undefined, undefined],
        ['logs/a.json', 'A2'],
        ['logs/b.json', 'B1'],
      ]);
    });

    it('records the manifest origin of each version with its version id and the SHA-256 of its bytes', async () => {
      // Prepare / Act
      const { store } = await collect(bucket());

      // Assess
      const manifest = [...store.objects.entries()].find(([k]) => k.includes('_amber/manifests/'));
      const items = (JSON.parse(manifest![1].toString('utf8')) as { items: { origin: string; key: string; sha256: string }[] }).items;
      const a1 = items.find((i) => i.key.endsWith('/versions/A1/logs/a.json'));
      expect(a1).toMatchObject({ origin: `s3://${BUCKET}/logs/a.json?versionId=A1`, sha256: createHash('sha256').update('{"v":"a1 original"}').digest('hex') });
    });

    it('records a delete marker as an item naming its key, version id, time and owner', async () => {
      // Prepare / Act
      const { store } = await collect(bucket());

      // Assess
      const marker = JSON.parse(text(store, 'delete-markers/A3/logs/a.json.delete-marker.json')!) as Record<string, unknown>;
      expect(marker).toEqual({
        deleteMarker: true,
        bucket: BUCKET,
        key: 'logs/a.json',
        versionId: 'A3',
        lastModified: '2026-03-01T12:00:00.000Z',
        owner: { id: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a', displayName: 'owner' },
      });
    });

    it('keeps each listing page byte for byte as S3 sent it', async () => {
      // Prepare / Act
      const { store } = await collect(bucket());

      // Assess
      const pages = [...store.objects.keys()].filter((k) => k.includes('/listings/')).sort();
      expect(pages).toHaveLength(3);
      expect(pages[0]).toMatch(/\/listings\/20260305T100000Z-[0-9a-f]{8}\/page-00001\.xml$/);
      expect(store.objects.get(pages[1]!)!.toString('utf8')).toBe(listPage({ 'max-keys': 2, 'key-marker': 'logs/a.json', 'version-id-marker': 'A2' }));
    });

    it('records each configuration as sent, absent ones as none and refused ones as access-denied, without failing', async () => {
      // Prepare / Act
      const { store, summary } = await collect(bucket());

      // Assess
      expect(summary.failures).toEqual([]);
      const dir = 'configuration/20260305T100000Z';
      expect(text(store, `${dir}/acl.xml`)).toBe(ACL);
      expect(text(store, `${dir}/versioning.xml`)).toContain('<Status>Enabled</Status>');
      expect(JSON.parse(text(store, `${dir}/policy.none.json`)!)).toMatchObject({ configuration: 'policy', state: 'none', errorCode: 'NoSuchBucketPolicy', httpStatus: 404 });
      expect(JSON.parse(text(store, `${dir}/public-access-block.access-denied.json`)!)).toMatchObject({ state: 'access-denied', errorCode: 'AccessDenied', httpStatus: 403 });
      for (const name of ['object-lock', 'lifecycle', 'replication']) expect(JSON.parse(text(store, `${dir}/${name}.none.json`)!)).toMatchObject({ state: 'none' });
      const configs = [...store.objects.keys()].filter((k) => k.includes('/configuration/'));
      expect(configs).toHaveLength(BUCKET_CONFIGURATIONS.length);
    });

    it('rides out a throttled listing page and still lists every version', async () => {
      // Prepare
      const http = bucket({ listFailures: [{ status: 503, body: errorXml('SlowDown') }] });

      // Act
      const { store, summary } = await collect(http);

      // Assess
      expect(summary.failures).toEqual([]);
      expect([...store.objects.keys()].filter((k) => k.includes('/versions/'))).toHaveLength(4);
    });

    it('keeps what was listed and names the page when a later page is refused', async () => {
      // Prepare
      const http = bucket({ brokenPage: { page: 2, answer: { status: 403, body: errorXml('AccessDenied') } } });

      // Act
      const { store, summary } = await collect(http);

      // Assess
      expect(text(store, 'versions/A1/logs/a.json')).toBeUndefined(); // on the refused page
      expect(text(store, 'versions/A2/logs/a.json')).toBe('{"v":"a2 tampered"}');
      expect(summary.failures).toHaveLength(1);
      expect(summary.failures[0]!.origin).toContain('KeyMarker=logs%2Fa.json&VersionIdMarker=A2');
      expect(summary.failures[0]!.reason).toMatch(/after page 1 .*AccessDenied \(HTTP 403\).*s3:ListBucketVersions/);
    });

    it('gives the same keys and bytes on a second run, so re-collecting records nothing new', async () => {
      // Prepare
      const http = bucket();
      const store = new MemoryObjectStore(false);
      const source = new S3VersionsSource({ uri: `s3://${BUCKET}/logs/`, client: testClient({ requestHandler: http, forcePathStyle: true }), now: () => NOW, pageSize: 2 });
      await collectEvidence({ store, caseName: 'c1', sources: [source], actor: TEST_ACTOR });

      // Act
      const again = await collectEvidence({ store, caseName: 'c1', sources: [source], actor: TEST_ACTOR });

      // Assess
      expect(again.failures).toEqual([]);
      expect(again.created).toBe(0);
      expect(again.reacquired).toBe(ENTRIES.length + BUCKET_CONFIGURATIONS.length + 3);
    });
  });

  describe('Function: versionSegment', () => {
    it('keeps URL-safe version ids and encodes ones that would add or climb a folder', () => {
      expect(versionSegment('3HL4kqtJlcpXroDTDmJ.rbOcoL_tC3Q')).toBe('3HL4kqtJlcpXroDTDmJ.rbOcoL_tC3Q');
      expect(versionSegment('a/b')).toBe('a%2Fb');
      expect(versionSegment('..')).toBe('%2E%2E');
      expect(versionSegment('.')).toBe('%2E');
    });
  });
});
