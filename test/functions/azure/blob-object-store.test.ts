/**
 * What Azurite cannot check, asserted at the HTTP level (nock answering with the documented Blob REST shapes):
 * the immutability policy requested on commit, blob versions in listings and in --all-versions collection,
 * the conditions on every write, and the errors for refused access.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import '../../helpers/promise-with-resolvers.ts';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AnonymousCredential, BlobServiceClient } from '@azure/storage-blob';
import { BlobObjectStore, BLOCK_SIZE } from '../../../functions/azure/adapters/blob-object-store.ts';
import { BlobEvidenceSource } from '../../../functions/azure/adapters/blob-source.ts';
import { blobServiceFromEnv, parseAzblobUri } from '../../../functions/azure/adapters/blob-client.ts';
import { InvalidInputError, StoreError } from '../../../shared/errors.ts';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ACCOUNT = 'amberevidence';
const HOST = `https://${ACCOUNT}.blob.core.windows.net`;
const CONTAINER = 'locker';
const KEY = 'cases/c1/azure/activity/log.json';
const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const NOW = new Date('2026-03-01T00:00:00Z');

function service(): BlobServiceClient {
  return new BlobServiceClient(HOST, new AnonymousCredential(), { retryOptions: { maxTries: 1 } });
}

/** Get Container Properties, with version-level immutability on or off. */
function containerProps(immutable: boolean) {
  return nock(HOST)
    .get(`/${CONTAINER}`)
    .query({ restype: 'container' })
    .reply(200, '', {
      ETag: '"0x8D0C"',
      'Last-Modified': 'Sun, 01 Mar 2026 00:00:00 GMT',
      'x-ms-immutable-storage-with-versioning-enabled': String(immutable),
      'x-ms-version': '2025-01-05',
    });
}

function blobAbsent(name: string) {
  return nock(HOST).head(`/${CONTAINER}/${name}`).reply(404, undefined, { 'x-ms-error-code': 'BlobNotFound' });
}

type Headers = Record<string, string | string[] | undefined>;

interface Captured {
  blocks: { id: string; headers: Headers }[];
  commit?: { headers: Headers; body: string };
}

/** Headers of a request nock received, lowercase names. */
function headersOf(req: { headers: unknown }): Headers {
  const h = req.headers as Headers | Map<string, string>;
  if (typeof (h as Map<string, string>).forEach === 'function') {
    const out: Headers = {};
    (h as Map<string, string>).forEach((v, k) => (out[k.toLowerCase()] = v));
    return out;
  }
  return Object.fromEntries(Object.entries(h as Headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Put Block and Put Block List, capturing what the store sends. */
function acceptUpload(name: string, captured: Captured) {
  const blocks = nock(HOST)
    .put(`/${CONTAINER}/${name}`)
    .query((q) => q.comp === 'block')
    .times(10)
    .reply(201, '', { 'x-ms-request-server-encrypted': 'true' });
  blocks.on('request', (req: { headers: unknown; path?: string; url?: string }) => {
    const url = new URL(req.path ?? req.url ?? '', HOST);
    if (url.searchParams.get('comp') === 'block') captured.blocks.push({ id: url.searchParams.get('blockid') ?? '', headers: headersOf(req) });
  });
  const commit = nock(HOST)
    .put(`/${CONTAINER}/${name}`)
    .query({ comp: 'blocklist' })
    .reply(201, '', { ETag: '"0x8D1"', 'Last-Modified': 'Sun, 01 Mar 2026 00:00:01 GMT', 'x-ms-version-id': '2026-03-01T00:00:01.0000000Z' });
  commit.on('request', (req: { headers: unknown; path?: string; url?: string }, _interceptor: unknown, body: string) => {
    const url = new URL(req.path ?? req.url ?? '', HOST);
    if (url.searchParams.get('comp') === 'blocklist') captured.commit = { headers: headersOf(req), body };
  });
}

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});

describe('Class: BlobObjectStore', () => {
  describe('Method: putImmutable', () => {
    it('requests a Locked immutability policy until the retention asked for, when the container has version-level immutability', async () => {
      containerProps(true);
      blobAbsent(KEY);
      const captured: Captured = { blocks: [] };
      acceptUpload(KEY, captured);
      const store = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container: CONTAINER, now: () => NOW });
      const until = new Date('2027-03-01T00:00:00Z');

      const put = await store.putImmutable(KEY, Buffer.from('evidence'), { retainUntil: until, mediaType: 'application/json' });

      expect(put).toMatchObject({ created: true, sha256: sha256Hex('evidence'), size: 8, retainUntil: until.toISOString(), versionId: '2026-03-01T00:00:01.0000000Z' });
      const headers = captured.commit!.headers;
      expect(headers['x-ms-immutability-policy-until-date']).toBe(until.toUTCString());
      expect(headers['x-ms-immutability-policy-mode']).toBe('Locked');
      expect(headers['if-none-match']).toBe('*');
      expect(headers['x-ms-meta-amber_sha256']).toBe(sha256Hex('evidence'));
      expect(headers['x-ms-blob-content-type']).toBe('application/json');
    });

    it('requests no immutability policy on a container without version-level immutability, and says none was applied', async () => {
      containerProps(false);
      blobAbsent(KEY);
      const captured: Captured = { blocks: [] };
      acceptUpload(KEY, captured);
      const store = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container: CONTAINER, now: () => NOW });

      const put = await store.putImmutable(KEY, Buffer.from('evidence'), { retainUntil: new Date('2027-03-01T00:00:00Z') });

      expect(put.retainUntil).toBeUndefined();
      expect(captured.commit!.headers['x-ms-immutability-policy-until-date']).toBeUndefined();
      expect(captured.commit!.headers['x-ms-immutability-policy-mode']).toBeUndefined();
    });

    it('stages blocks with their MD5 while hashing, and commits exactly those blocks in order', async () => {
      containerProps(false);
      blobAbsent(KEY);
      const captured: Captured = { blocks: [] };
      acceptUpload(KEY, captured);
      const store = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container: CONTAINER });
      const body = Buffer.alloc(BLOCK_SIZE + 10, 7);

      const put = await store.putImmutable(KEY, Readable.from([body.subarray(0, 1000), body.subarray(1000)]));

      expect(put.sha256).toBe(sha256Hex(body));
      expect(captured.blocks.map((b) => b.headers['content-length'])).toEqual([String(BLOCK_SIZE), '10']);
      const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('base64');
      expect(captured.blocks.map((b) => b.headers['content-md5'])).toEqual([md5(body.subarray(0, BLOCK_SIZE)), md5(body.subarray(BLOCK_SIZE))]);
      const committed = [...captured.commit!.body.matchAll(/<Latest>([^<]+)<\/Latest>/g)].map((m) => m[1]);
      expect(committed).toEqual(captured.blocks.map((b) => b.id));
    });

    it('refuses a retention date in the past instead of committing without one', async () => {
      containerProps(true);
      blobAbsent(KEY);
      const store = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container: CONTAINER, now: () => NOW });

      await expect(store.putImmutable(KEY, Buffer.from('x'), { retainUntil: new Date('2020-01-01T00:00:00Z') })).rejects.toBeInstanceOf(InvalidInputError);
    });
  });

  describe('Method: list', () => {
    it('with versions, lists a deleted blob by its newest version, flagged as hidden, and a live one by its current version', async () => {
      containerProps(false);
      nock(HOST)
        .get(`/${CONTAINER}`)
        .query((q) => q.comp === 'list' && q.include === 'versions')
        .reply(
          200,
          `<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="${HOST}/" ContainerName="${CONTAINER}">
  <Prefix>cases/c1/</Prefix>
  <Blobs>
    <Blob><Name>cases/c1/deleted.json</Name><VersionId>2026-03-01T00:00:01.0000000Z</VersionId><Properties><Last-Modified>Sun, 01 Mar 2026 00:00:01 GMT</Last-Modified><Etag>0x1</Etag><Content-Length>5</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>
    <Blob><Name>cases/c1/deleted.json</Name><VersionId>2026-03-01T00:00:02.0000000Z</VersionId><Properties><Last-Modified>Sun, 01 Mar 2026 00:00:02 GMT</Last-Modified><Etag>0x2</Etag><Content-Length>6</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>
    <Blob><Name>cases/c1/live.json</Name><VersionId>2026-03-01T00:00:03.0000000Z</VersionId><IsCurrentVersion>true</IsCurrentVersion><Properties><Last-Modified>Sun, 01 Mar 2026 00:00:03 GMT</Last-Modified><Etag>0x3</Etag><Content-Length>7</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>
  </Blobs>
  <NextMarker />
</EnumerationResults>`,
          { 'Content-Type': 'application/xml' },
        );
      const store = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container: CONTAINER, listVersions: true });

      const listed = [];
      for await (const o of store.list('cases/c1/')) listed.push(o);

      expect(listed).toEqual([
        { key: 'cases/c1/deleted.json', versionId: '2026-03-01T00:00:02.0000000Z', size: 6, deleteMarkerOnTop: true },
        { key: 'cases/c1/live.json', versionId: '2026-03-01T00:00:03.0000000Z', size: 7, deleteMarkerOnTop: false },
      ]);
    });
  });

  describe('Method: appendLog', () => {
    it('appends conditionally on the length and ETag it read (append position and If-Match), with the block MD5', async () => {
      containerProps(false);
      const ledger = 'cases/c1/custody-ledger.jsonl';
      nock(HOST).head(`/${CONTAINER}/${ledger}`).reply(200, undefined, { 'Content-Length': '42', ETag: '"0xLEDGER"', 'x-ms-blob-type': 'AppendBlob' });
      let headers: Headers = {};
      nock(HOST)
        .put(`/${CONTAINER}/${ledger}`)
        .query({ comp: 'appendblock' })
        .reply(201, '', { ETag: '"0xNEXT"', 'x-ms-blob-append-offset': '42', 'x-ms-blob-committed-block-count': '3' })
        .on('request', (req: { headers: unknown }) => {
          headers = headersOf(req);
        });
      const store = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container: CONTAINER });

      await store.appendLog(ledger, '{"seq":4}\n');

      expect(headers['x-ms-blob-condition-appendpos']).toBe('42');
      expect(headers['if-match']).toBe('"0xLEDGER"');
      expect(headers['content-md5']).toBe(createHash('md5').update('{"seq":4}\n').digest('base64'));
    });

    it('refuses to append to a ledger someone replaced with a block blob, naming it', async () => {
      containerProps(false);
      const ledger = 'cases/c1/custody-ledger.jsonl';
      nock(HOST).head(`/${CONTAINER}/${ledger}`).reply(200, undefined, { 'Content-Length': '42', ETag: '"0x1"', 'x-ms-blob-type': 'BlockBlob' });
      const store = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container: CONTAINER });

      await expect(store.appendLog(ledger, 'x\n')).rejects.toThrow(`azblob://${ACCOUNT}/${CONTAINER}/${ledger} is a BlockBlob`);
    });
  });

  describe('Errors', () => {
    it('a 403 names the blob and the role to grant', async () => {
      containerProps(false);
      nock(HOST)
        .head(`/${CONTAINER}/${KEY}`)
        .reply(403, undefined, { 'x-ms-error-code': 'AuthorizationPermissionMismatch' });
      const store = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container: CONTAINER });

      const error = await store.putImmutable(KEY, Buffer.from('x')).then(() => undefined, (e: unknown) => e);

      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toContain(`azblob://${ACCOUNT}/${CONTAINER}/${KEY}`);
      expect((error as StoreError).message).toContain('AuthorizationPermissionMismatch (HTTP 403)');
      expect((error as StoreError).hint).toContain('Storage Blob Data Contributor');
    });
  });
});

describe('Class: BlobEvidenceSource', () => {
  it('--all-versions: collects every version, the current one under its name, earlier ones under _versions/, each read by its version id', async () => {
    nock(HOST)
      .get(`/${CONTAINER}`)
      .query((q) => q.comp === 'list' && q.include === 'versions' && q.prefix === 'logs/')
      .reply(
        200,
        `<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="${HOST}/" ContainerName="${CONTAINER}">
  <Prefix>logs/</Prefix>
  <Blobs>
    <Blob><Name>logs/a.json</Name><VersionId>2026-03-01T00:00:01.0000000Z</VersionId><Properties><Etag>0x1</Etag><Content-Length>2</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>
    <Blob><Name>logs/a.json</Name><VersionId>2026-03-01T00:00:02.0000000Z</VersionId><IsCurrentVersion>true</IsCurrentVersion><Properties><Etag>0x2</Etag><Content-Length>2</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>
  </Blobs>
  <NextMarker />
</EnumerationResults>`,
        { 'Content-Type': 'application/xml' },
      );
    for (const [version, bytes] of [['2026-03-01T00:00:01.0000000Z', 'v1'], ['2026-03-01T00:00:02.0000000Z', 'v2']] as const) {
      nock(HOST).get(`/${CONTAINER}/logs/a.json`).query({ versionid: version }).reply(200, bytes, { 'Content-Length': '2', ETag: `"0x${version.slice(17, 19)}"`, 'x-ms-blob-type': 'BlockBlob', 'x-ms-version-id': version });
    }
    const source = new BlobEvidenceSource({ uri: `azblob://${ACCOUNT}/${CONTAINER}/logs/`, service: service(), allVersions: true });

    const found = [];
    for await (const o of source.list(() => undefined)) {
      const chunks: Buffer[] = [];
      for await (const c of await o.open()) chunks.push(Buffer.from(c as Buffer));
      found.push({ origin: o.origin, relPath: o.relPath, bytes: Buffer.concat(chunks).toString() });
    }

    expect(found).toEqual([
      { origin: `azblob://${ACCOUNT}/${CONTAINER}/logs/a.json?versionid=2026-03-01T00%3A00%3A01.0000000Z`, relPath: '_versions/2026-03-01T00-00-01.0000000Z/logs/a.json', bytes: 'v1' },
      { origin: `azblob://${ACCOUNT}/${CONTAINER}/logs/a.json?versionid=2026-03-01T00%3A00%3A02.0000000Z`, relPath: 'logs/a.json', bytes: 'v2' },
    ]);
  });
});

describe('Function: parseAzblobUri / blobServiceFromEnv', () => {
  it('parses account, container and prefix, and refuses malformed names with the expected form', () => {
    expect(parseAzblobUri('azblob://acct01/evidence/amber/x')).toEqual({ account: 'acct01', container: 'evidence', prefix: 'amber/x' });
    expect(() => parseAzblobUri('azblob://Bad_Account/evidence')).toThrow(/not a valid storage account name/);
    expect(() => parseAzblobUri('azblob://acct01/Ev')).toThrow(/not a valid blob container name/);
  });

  it('refuses a connection string for another account than the URI names', async () => {
    const env = { AZURE_STORAGE_CONNECTION_STRING: 'DefaultEndpointsProtocol=https;AccountName=otheracct;AccountKey=a2V5;EndpointSuffix=core.windows.net' };
    await expect(blobServiceFromEnv(ACCOUNT, env)).rejects.toThrow(/for the storage account 'otheracct', but the URI names 'amberevidence'/);
  });

  it('without a connection string signs in with Entra ID against AMBER_AZURE_BLOB_URL', async () => {
    const client = await blobServiceFromEnv(ACCOUNT, { AMBER_AZURE_BLOB_URL: 'https://{account}.blob.core.usgovcloudapi.net' });
    expect(client.url).toBe(`https://${ACCOUNT}.blob.core.usgovcloudapi.net/`);
    expect(client.credential.constructor.name).toBe('DefaultAzureCredential');
  });
});

describe('CLI: azblob:// flags', () => {
  it('refuses --all-versions without an azblob:// source, and a malformed azblob:// locker, with exit 2 and the expected form', async () => {
    const cwd = await tempDir('amber-azflags-');
    const versions = await runCli(['collect', '--case', 'c', '--from', 'logs', '--all-versions'], { cwd });
    const locker = await runCli(['cases', '--locker', 'azblob://Evidence/x'], { cwd });

    expect(versions.code).toBe(2);
    expect(versions.stderr).toContain('--all-versions applies only to s3://, azblob:// and gs:// sources');
    expect(locker.code).toBe(2);
    expect(locker.stderr).toContain('azblob://account/container');
  });
});
