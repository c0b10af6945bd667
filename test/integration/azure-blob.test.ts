/**
 * The Azure Blob adapters against a REAL Blob service (Azurite on 127.0.0.1):
 *
 *   bash scripts/azurite.sh start .azurite && set -a && . .azurite/env && set +a
 *   npx vitest run test/integration/azure-blob.test.ts
 *
 * Without AMBER_AZURITE the suite is skipped, unless AMBER_REQUIRE_AZURITE=1 (CI), which makes it fail.
 * Azurite implements neither immutability policies nor blob versioning: those requests are asserted at the
 * HTTP level in test/functions/azure/blob-object-store.test.ts. Each test uses its own container.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BlobServiceClient } from '@azure/storage-blob';
import { BlobObjectStore } from '../../functions/azure/adapters/blob-object-store.ts';
import { BlobEvidenceSource } from '../../functions/azure/adapters/blob-source.ts';
import { ConcurrentWriteError, ObjectNotFoundError, StoreError, WriteOnceViolationError } from '../../shared/errors.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const START_HINT = 'start Azurite with: bash scripts/azurite.sh start .azurite && set -a && . .azurite/env && set +a';
const connection = process.env.AMBER_AZURITE === '1' ? process.env.AZURE_STORAGE_CONNECTION_STRING : undefined;
const required = process.env.AMBER_REQUIRE_AZURITE === '1';
const ACCOUNT = 'devstoreaccount1';

if (!connection && required) {
  describe('Azure Blob integration', () => {
    it('needs Azurite (AMBER_REQUIRE_AZURITE=1)', () => {
      throw new Error(`AMBER_REQUIRE_AZURITE=1 but AMBER_AZURITE / AZURE_STORAGE_CONNECTION_STRING are not set; ${START_HINT}`);
    });
  });
} else if (!connection) {
  console.warn(`[azure-blob] skipped: no Azurite (AMBER_AZURITE=1 with AZURE_STORAGE_CONNECTION_STRING); ${START_HINT}`);
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const KEY = 'cases/c1/azure/activity/2026/03/01/activity.json';

let serviceClient: BlobServiceClient | undefined;
function service(): BlobServiceClient {
  serviceClient ??= BlobServiceClient.fromConnectionString(connection!);
  return serviceClient;
}

async function newContainer(label: string): Promise<string> {
  const name = `amber-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await service().getContainerClient(name).create();
  return name;
}

async function newStore(label: string): Promise<{ container: string; store: BlobObjectStore }> {
  const container = await newContainer(label);
  return { container, store: await BlobObjectStore.open({ service: service(), account: ACCOUNT, container }) };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

function cliEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

describe.skipIf(!connection)('Azure Blob integration (Azurite)', () => {
  describe('Class: BlobObjectStore', () => {
    it('stores once with the SHA-256 Amber computed, reads the same bytes back, and records the hash in the metadata', async () => {
      const { container, store } = await newStore('put');
      const body = Buffer.from('{"operationName":"Microsoft.Storage/storageAccounts/delete"}\n');

      const put = await store.putImmutable(KEY, Readable.from([body.subarray(0, 10), body.subarray(10)]), { mediaType: 'application/json' });

      expect(put).toMatchObject({ key: KEY, size: body.byteLength, sha256: sha256Hex(body), created: true });
      expect(await readAll(await store.get(KEY))).toEqual(body);
      const props = await service().getContainerClient(container).getBlobClient(KEY).getProperties();
      expect(props.metadata?.amber_sha256).toBe(sha256Hex(body));
      expect(props.contentType).toBe('application/json');
    });

    it('stores a body larger than one block as several staged blocks, hashed whole', async () => {
      const { store } = await newStore('blocks');
      const body = randomBytes(8 * 1024 * 1024 + 12_345);

      const put = await store.putImmutable(KEY, Readable.from([body.subarray(0, 5_000_000), body.subarray(5_000_000)]));

      expect(put).toMatchObject({ size: body.byteLength, sha256: sha256Hex(body), created: true });
      expect(sha256Hex(await readAll(await store.get(KEY)))).toBe(sha256Hex(body));
    });

    it('is idempotent for the same bytes and refuses other bytes, leaving the stored ones untouched', async () => {
      const { store } = await newStore('once');
      await store.putImmutable(KEY, Buffer.from('original'));

      const again = await store.putImmutable(KEY, Buffer.from('original'));
      const refused = await store.putImmutable(KEY, Buffer.from('tampered')).then(() => undefined, (e: unknown) => e);

      expect(again).toMatchObject({ created: false, sha256: sha256Hex('original') });
      expect(refused).toBeInstanceOf(WriteOnceViolationError);
      expect(refused).toMatchObject({ existingSha256: sha256Hex('original'), newSha256: sha256Hex('tampered') });
      expect((await readAll(await store.get(KEY))).toString()).toBe('original');
    });

    it('a body that fails while being read leaves nothing under the key, and the body\'s own error is reported', async () => {
      const { store } = await newStore('torn');
      async function* failing() {
        yield randomBytes(9 * 1024 * 1024); // past one block: something was staged before the failure
        throw new Error('disk read error at byte 9437184');
      }

      await expect(store.putImmutable(KEY, Readable.from(failing()))).rejects.toThrow('disk read error at byte 9437184');

      await expect(store.get(KEY)).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.putImmutable(KEY, Buffer.from('retried'))).toMatchObject({ created: true, sha256: sha256Hex('retried') });
    });

    it('stores an empty object (no block at all) with the hash of nothing', async () => {
      const { store } = await newStore('empty');
      const put = await store.putImmutable('cases/c1/empty.log', Buffer.alloc(0));
      expect(put).toMatchObject({ size: 0, sha256: sha256Hex(''), created: true });
      expect(await store.readText('cases/c1/empty.log')).toBe('');
    });

    it('lists what it stored under a prefix, reads text, and reports absent keys', async () => {
      const { store } = await newStore('list');
      await store.putImmutable('cases/c1/a.json', Buffer.from('a'));
      await store.putImmutable('cases/c1/b/c.json', Buffer.from('bc'));
      await store.putImmutable('cases/c2/x.json', Buffer.from('x'));

      const listed = [];
      for await (const o of store.list('cases/c1/')) listed.push({ key: o.key, size: o.size });

      expect(listed).toEqual([{ key: 'cases/c1/a.json', size: 1 }, { key: 'cases/c1/b/c.json', size: 2 }]);
      expect(await store.readText('cases/c1/missing.json')).toBeUndefined();
      await expect(store.get('cases/c1/missing.json')).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('keeps keys under the locker prefix and names the locker by it', async () => {
      const container = await newContainer('prefix');
      const store = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container, prefix: 'amber' });
      await store.putImmutable('cases/c1/a.json', Buffer.from('a'));
      const names = [];
      for await (const b of service().getContainerClient(container).listBlobsFlat()) names.push(b.name);
      expect(store.uri).toBe(`azblob://${ACCOUNT}/${container}/amber`);
      expect(names).toEqual(['amber/cases/c1/a.json']);
    });

    it('appends ledger lines to an append blob, one conditional append block per call', async () => {
      const { container, store } = await newStore('ledger');
      const ledger = 'cases/c1/custody-ledger.jsonl';

      await store.appendLog(ledger, '{"seq":1}\n');
      await store.appendLog(ledger, '{"seq":2}\n');

      const props = await service().getContainerClient(container).getAppendBlobClient(ledger).getProperties();
      expect(props.blobType).toBe('AppendBlob');
      expect(props.blobCommittedBlockCount).toBe(2);
      expect(await store.readText(ledger)).toBe('{"seq":1}\n{"seq":2}\n');
    });

    it('appendLog throws ConcurrentWriteError and writes nothing when another writer appends between its read and its write', async () => {
      const { container, store } = await newStore('race');
      const ledger = 'cases/c1/custody-ledger.jsonl';
      await store.appendLog(ledger, '{"seq":1}\n');
      const containerClient = service().getContainerClient(container);
      // The racer's container client: right after the store reads the blob's length and ETag, another writer
      // appends through the real service.
      const racingContainer = new Proxy(containerClient, {
        get(target, prop, receiver) {
          if (prop !== 'getBlobClient') return Reflect.get(target, prop, receiver) as unknown;
          return (name: string) => {
            const client = target.getBlobClient(name);
            const read = client.getProperties.bind(client);
            client.getProperties = async (options) => {
              const props = await read(options);
              await containerClient.getAppendBlobClient(name).appendBlock('{"seq":2,"by":"other"}\n', 23);
              return props;
            };
            return client;
          };
        },
      });
      const racer = new BlobObjectStore({ service: { getContainerClient: () => racingContainer } as unknown as BlobServiceClient, account: ACCOUNT, container });

      const result = await racer.appendLog(ledger, '{"seq":2,"by":"racer"}\n').then(() => undefined, (e: unknown) => e);

      expect(result).toBeInstanceOf(ConcurrentWriteError);
      expect(await store.readText(ledger)).toBe('{"seq":1}\n{"seq":2,"by":"other"}\n');
    });

    it('a second writer creating the same new log loses without writing', async () => {
      const { container, store } = await newStore('create');
      const ledger = 'cases/c1/custody-ledger.jsonl';
      const containerClient = service().getContainerClient(container);
      const racingContainer = new Proxy(containerClient, {
        get(target, prop, receiver) {
          if (prop !== 'getBlobClient') return Reflect.get(target, prop, receiver) as unknown;
          return (name: string) => {
            const client = target.getBlobClient(name);
            const read = client.getProperties.bind(client);
            client.getProperties = async (options) => {
              const props = read(options);
              await props.catch(() => undefined);
              // The other writer creates and fills the log after our writer found it absent.
              await store.appendLog(ledger, '{"seq":1,"by":"other"}\n');
              return props;
            };
            return client;
          };
        },
      });
      const racer = new BlobObjectStore({ service: { getContainerClient: () => racingContainer } as unknown as BlobServiceClient, account: ACCOUNT, container });

      const result = await racer.appendLog(ledger, '{"seq":1,"by":"racer"}\n').then(() => undefined, (e: unknown) => e);

      expect(result).toBeInstanceOf(ConcurrentWriteError);
      expect(await store.readText(ledger)).toBe('{"seq":1,"by":"other"}\n');
    });

    it('names the container and the fix when it does not exist', async () => {
      const error = await BlobObjectStore.open({ service: service(), account: ACCOUNT, container: 'amber-no-such-container' }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toContain(`azblob://${ACCOUNT}/amber-no-such-container does not exist`);
      expect((error as StoreError).hint).toMatch(/create it/);
    });

    it('names the blob and says the key is wrong when authentication fails', async () => {
      const { container } = await newStore('auth');
      const wrongKey = connection!.replace(/AccountKey=[^;]+/, `AccountKey=${randomBytes(64).toString('base64')}`);
      const error = await BlobObjectStore.open({ service: BlobServiceClient.fromConnectionString(wrongKey, { retryOptions: { maxTries: 1 } }), account: ACCOUNT, container }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toContain(`azblob://${ACCOUNT}/${container}`);
      expect((error as StoreError).message).toContain('403');
      expect((error as StoreError).hint).toMatch(/AZURE_STORAGE_CONNECTION_STRING|Storage Blob Data/);
    });
  });

  describe('Class: BlobEvidenceSource', () => {
    it('lists every blob under the prefix, with its origin, and opens its bytes', async () => {
      const container = await newContainer('src');
      const client = service().getContainerClient(container);
      await client.getBlockBlobClient('insights-logs/y=2026/m=03/PT1H.json').upload('{"a":1}', 7);
      await client.getBlockBlobClient('other/ignored.txt').upload('no', 2);
      const source = new BlobEvidenceSource({ uri: `azblob://${ACCOUNT}/${container}/insights-logs/`, service: service() });

      const found = [];
      for await (const o of source.list(() => undefined)) found.push({ origin: o.origin, relPath: o.relPath, bytes: (await readAll(await o.open())).toString() });

      expect(found).toEqual([{ origin: `azblob://${ACCOUNT}/${container}/insights-logs/y=2026/m=03/PT1H.json`, relPath: 'insights-logs/y=2026/m=03/PT1H.json', bytes: '{"a":1}' }]);
    });

    it('refuses to read a blob replaced after it was listed, naming it', async () => {
      const container = await newContainer('srcchg');
      const client = service().getContainerClient(container);
      await client.getBlockBlobClient('log.json').upload('first', 5);
      const source = new BlobEvidenceSource({ uri: `azblob://${ACCOUNT}/${container}`, service: service() });
      const listed = [];
      for await (const o of source.list(() => undefined)) listed.push(o);
      await client.getBlockBlobClient('log.json').upload('second', 6);

      await expect(listed[0]!.open()).rejects.toMatchObject({ origin: `azblob://${ACCOUNT}/${container}/log.json`, message: expect.stringContaining('412') });
    });
  });

  describe('CLI: --locker azblob://', () => {
    it('collect then verify exit 0; a blob overwritten behind Amber\'s back makes verify exit 3 naming it', async () => {
      const container = await newContainer('cli');
      const locker = `azblob://${ACCOUNT}/${container}`;
      const cwd = await tempDir('amber-it-azcli-');
      const content = '{"eventName":"StopLogging"}\n';
      await writeFile(join(cwd, 'audit.jsonl'), content);
      const env = cliEnv();

      const collected = await runCli(['collect', '--case', 'az', '--from', 'audit.jsonl', '--locker', locker, '--json'], { cwd, env });
      expect(collected.code, collected.stderr).toBe(0);
      const verified = await runCli(['verify', '--case', 'az', '--locker', locker, '--json'], { cwd, env });
      expect(verified.code, verified.stderr).toBe(0);
      expect(JSON.parse(verified.stdout).items).toEqual([expect.objectContaining({ key: 'cases/az/audit.jsonl', storedSha256: sha256Hex(content) })]);
      const cases = await runCli(['cases', '--locker', locker, '--json'], { cwd, env });
      expect(cases.code, cases.stderr).toBe(0);
      expect(cases.stdout).toContain('"az"');

      // Azurite has no immutability: overwrite the preserved blob with the raw SDK, as an attacker could
      // where the container lacks a WORM policy.
      await service().getContainerClient(container).getBlockBlobClient('cases/az/audit.jsonl').upload('{"eventName":"Nothing"}\n', 24);
      const broken = await runCli(['verify', '--case', 'az', '--locker', locker], { cwd, env });

      expect(broken.code).toBe(3);
      expect(broken.stdout + broken.stderr).toContain('cases/az/audit.jsonl');
    });

    it('a signed case on an azblob:// locker: note, anchor into another container, verify --anchor, export, then accept a tampered blob', async () => {
      const container = await newContainer('signed');
      const anchors = await newContainer('anchors');
      const locker = `azblob://${ACCOUNT}/${container}`;
      const cwd = await tempDir('amber-it-azsigned-');
      await writeFile(join(cwd, 'audit.jsonl'), '{"eventName":"StopLogging"}\n');
      const env = cliEnv();
      expect((await runCli(['keys', 'init', '--out', join(cwd, 'case.key')], { cwd, env })).code).toBe(0);
      const signing = ['--signing-key', join(cwd, 'case.key')];
      expect((await runCli(['collect', '--case', 'sig', '--from', 'audit.jsonl', '--locker', locker, ...signing], { cwd, env })).code).toBe(0);

      const noted = await runCli(['note', '--case', 'sig', '--kind', 'remark', '--text', 'collected from the tenant export', '--locker', locker, ...signing], { cwd, env });
      const anchored = await runCli(['anchor', '--case', 'sig', '--to', `azblob://${ACCOUNT}/${anchors}/heads`, '--locker', locker, ...signing, '--json'], { cwd, env });
      const verified = await runCli(['verify', '--case', 'sig', '--locker', locker, '--anchor', `azblob://${ACCOUNT}/${anchors}/heads`, '--json'], { cwd, env });
      const exported = await runCli(['export', '--case', 'sig', '--out', join(cwd, 'bundle'), '--locker', locker, ...signing], { cwd, env });
      const certificate = await runCli(['certificate', '--case', 'sig', '--out', join(cwd, 'certificate.html'), '--locker', locker, ...signing], { cwd, env });
      const recovered = await runCli(['recover', '--case', 'sig', '--locker', locker, ...signing], { cwd, env });

      expect(noted.code, noted.stderr).toBe(0);
      expect(anchored.code, anchored.stderr).toBe(0);
      expect(verified.code, verified.stderr).toBe(0);
      expect(JSON.parse(verified.stdout).anchors).toEqual([expect.objectContaining({ ok: true })]);
      expect(exported.code, exported.stderr).toBe(0);
      expect(certificate.code, certificate.stderr).toBe(0);
      expect(recovered.code, recovered.stderr).toBe(0);

      await service().getContainerClient(container).getBlockBlobClient('cases/sig/audit.jsonl').upload('{}\n', 3);
      expect((await runCli(['verify', '--case', 'sig', '--locker', locker], { cwd, env })).code).toBe(3);
      const accepted = await runCli(['accept', '--case', 'sig', '--reason', 'overwrite reproduced in a test', '--locker', locker, ...signing], { cwd, env });
      expect(accepted.code, accepted.stderr).toBe(0);
      const after = await runCli(['verify', '--case', 'sig', '--locker', locker, '--json'], { cwd, env });
      expect(after.code, after.stderr).toBe(0);
      expect(after.stdout).toContain('cases/sig/audit.jsonl');
    });

    it('collect --from azblob:// preserves the blobs under their names', async () => {
      const source = await newContainer('clisrc');
      await service().getContainerClient(source).getBlockBlobClient('logs/2026/03/01/signin.json').upload('{"x":1}\n', 8);
      const cwd = await tempDir('amber-it-azsrc-');
      const env = cliEnv();

      const run = await runCli(['collect', '--case', 'from-az', '--from', `azblob://${ACCOUNT}/${source}/logs/`, '--json'], { cwd, env });

      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ items: 1, created: 1, failures: [] });
      const verified = JSON.parse((await runCli(['verify', '--case', 'from-az', '--json'], { cwd, env })).stdout);
      expect(verified.items).toEqual([expect.objectContaining({ key: 'cases/from-az/logs/2026/03/01/signin.json', storedSha256: sha256Hex('{"x":1}\n') })]);
    });

    it('collect --all-versions on an account without versioning (Azurite) collects the current blobs, nothing twice', async () => {
      const source = await newContainer('clivers');
      const blob = service().getContainerClient(source).getBlockBlobClient('logs/a.json');
      await blob.upload('v1\n', 3);
      await blob.upload('v2\n', 3);
      const cwd = await tempDir('amber-it-azvers-');
      const env = cliEnv();

      const run = await runCli(['collect', '--case', 'vers', '--from', `azblob://${ACCOUNT}/${source}/logs/`, '--all-versions', '--json'], { cwd, env });

      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ items: 1, created: 1, failures: [] });
      const verified = JSON.parse((await runCli(['verify', '--case', 'vers', '--json'], { cwd, env })).stdout);
      expect(verified.items).toEqual([expect.objectContaining({ key: 'cases/vers/logs/a.json', storedSha256: sha256Hex('v2\n') })]);
    });

    it('detect on an azblob:// locker reads the case through the local cache and cites the preserved record', async () => {
      const container = await newContainer('detect');
      const locker = `azblob://${ACCOUNT}/${container}`;
      const cwd = await tempDir('amber-it-azdet-');
      const record = {
        eventVersion: '1.09',
        eventTime: '2026-11-20T01:00:00Z',
        eventSource: 'cloudtrail.amazonaws.com',
        eventName: 'StopLogging',
        awsRegion: 'us-east-1',
        sourceIPAddress: '198.51.100.9',
        userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mallory', accountId: '111122223333', userName: 'mallory' },
        requestParameters: { name: 'trail' },
        eventID: 'id-stop',
      };
      await writeFile(join(cwd, 'audit.jsonl'), `${JSON.stringify(record)}\n`);
      const env = { ...cliEnv(), AMBER_CACHE_DIR: join(cwd, 'cache') };
      expect((await runCli(['collect', '--case', 'det', '--from', 'audit.jsonl', '--locker', locker], { cwd, env })).code).toBe(0);

      const run = await runCli(['detect', '--case', 'det', '--locker', locker, '--json'], { cwd, env });

      expect(run.code, run.stderr).toBe(0);
      const findings = (JSON.parse(run.stdout) as { findings: Array<{ detection: string; evidence_key: string; evidence_record: number }> }).findings;
      expect(findings).toContainEqual(expect.objectContaining({ detection: 'cloudtrail-logging-disabled', evidence_key: 'cases/det/audit.jsonl', evidence_record: 0 }));
      // What the analysis wrote (the derived copy, the access) is in the container's ledger, and the case still verifies.
      expect((await runCli(['verify', '--case', 'det', '--locker', locker], { cwd, env })).code).toBe(0);
    });
  });
});
