/**
 * The RFC 3161 adapter and token checks against a real timestamp authority (openssl ts on 127.0.0.1), and the
 * write-once storage of tokens and anchors through the ObjectStore port.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ed25519KeySigner } from '../../../shared/evidence/key-file-signer.ts';
import { anchorLine, checkAnchors, createAnchor, loadAnchorsFromStore, putAnchor } from '../../../shared/evidence/anchor.ts';
import { checkToken, parseCertificatesPem, Rfc3161Timestamper, TimestampAuthorityError } from '../../../shared/evidence/rfc3161.ts';
import { checkTimestamp, timestampKey, writeTimestamp } from '../../../shared/evidence/timestamps.ts';
import { withTimestamper } from '../../../shared/ports/timestamper.ts';
import { createPrivateKey } from 'node:crypto';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as pkijs from 'pkijs';
import { tempDir } from '../../helpers/tmp.ts';
import { startTsa, type TestTsa } from '../../helpers/tsa-server.ts';

const digest = (b: string | Buffer): Buffer => createHash('sha256').update(b).digest();
const run = promisify(execFile);
let tsa: TestTsa;
let ca: ReturnType<typeof parseCertificatesPem>;
let pkiDir: string;

beforeAll(async () => {
  pkiDir = join(await tempDir('amber-tsa-'), 'pki');
  tsa = await startTsa(pkiDir);
  ca = parseCertificatesPem(await readFile(tsa.caFile, 'utf8'));
});
afterAll(async () => {
  await tsa.close();
});

describe('Class: Rfc3161Timestamper', () => {
  it('gets a token over exactly the digest given, dated now, that chains to the TSA root', async () => {
    const data = Buffer.from('{"case":"C","seq":3}\n');
    const token = await new Rfc3161Timestamper(tsa.url).timestamp(digest(data));
    const check = await checkToken(token, data, ca);
    expect(check).toMatchObject({ ok: true, chainChecked: true, tsa: 'CN=Amber Test TSA' });
    expect(Math.abs(Date.parse(check.genTime!) - Date.now())).toBeLessThan(60_000);
    expect((await checkToken(token, data)).chainChecked).toBe(false);
    expect(await checkToken(token, Buffer.from('other'), ca)).toMatchObject({ ok: false, problem: 'invalid' });
  });

  it('throws naming the HTTP status when the TSA answers an HTTP error', async () => {
    tsa.setMode('http-500');
    try {
      await expect(new Rfc3161Timestamper(tsa.url).timestamp(digest('x'))).rejects.toThrow(/answered HTTP 500/);
    } finally {
      tsa.setMode('ok');
    }
  });

  it('throws naming the URL when nothing listens there', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const url = `http://127.0.0.1:${port}/tsa`;
    const error = await new Rfc3161Timestamper(url).timestamp(digest('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimestampAuthorityError);
    expect((error as Error).message).toContain(`cannot reach the timestamp authority ${url}`);
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => new Rfc3161Timestamper('ftp://tsa.example/')).toThrow(/not http\(s\)/);
  });
});

describe('Function: checkToken', () => {
  it('fails a token whose TSA certificate was swapped for another one over the same key (ESS binding)', async () => {
    const data = Buffer.from('bound\n');
    const token = await new Rfc3161Timestamper(tsa.url).timestamp(digest(data));
    // Same issuer, serial and key as the TSA's certificate: the CMS signature still verifies, only ESS tells.
    const serial = (await run('openssl', ['x509', '-in', join(pkiDir, 'tsa.pem'), '-noout', '-serial'])).stdout.trim().split('=')[1]!;
    const twin = join(pkiDir, 'twin.pem');
    await run('openssl', ['x509', '-req', '-in', join(pkiDir, 'tsa.csr'), '-CA', tsa.caFile, '-CAkey', join(pkiDir, 'ca.key'), '-set_serial', `0x${serial}`, '-days', '30', '-extfile', join(pkiDir, 'tsa.ext'), '-out', twin]);
    const [twinCert] = parseCertificatesPem(await readFile(twin, 'utf8'));
    const info = pkijs.ContentInfo.fromBER(token);
    const signed = new pkijs.SignedData({ schema: info.content });
    signed.certificates = (signed.certificates ?? []).map((c) => (c instanceof pkijs.Certificate && c.serialNumber.isEqual(twinCert!.serialNumber) ? twinCert! : c));
    const swapped = new Uint8Array(new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: signed.toSchema(true) }).toSchema().toBER(false));
    expect(Buffer.from(swapped).equals(Buffer.from(token))).toBe(false);
    expect(await checkToken(token, data, ca)).toMatchObject({ ok: true });
    expect(await checkToken(swapped, data, ca)).toMatchObject({ ok: false, problem: 'invalid', reason: expect.stringMatching(/names another certificate/) });
  });
});

describe('Function: writeTimestamp', () => {
  it('stores the token write-once beside the file, and keeps an earlier token for the same bytes', async () => {
    const store = new MemoryObjectStore();
    const file = 'cases/C/_amber/checkpoints/0000000004.json';
    const bytes = Buffer.from('{"case":"C","seq":4}\n');
    const key = await writeTimestamp(store, 'C', new Rfc3161Timestamper(tsa.url), file, bytes);
    expect(key).toBe('cases/C/_amber/timestamps/checkpoints/0000000004.tst');
    const first = store.objects.get(key);
    await writeTimestamp(store, 'C', new Rfc3161Timestamper(tsa.url), file, bytes);
    expect(store.objects.get(key)).toEqual(first);
    expect(await checkTimestamp(store, 'C', file, bytes, true, ca)).toMatchObject({ ok: true, chainChecked: true });
    // The same token key for other bytes: refused, the stored token stays.
    await expect(writeTimestamp(store, 'C', new Rfc3161Timestamper(tsa.url), file, Buffer.from('forged\n'))).rejects.toThrow(/refusing to overwrite/);
    expect(store.objects.get(key)).toEqual(first);
  });

  it('says the evidence stays preserved when the TSA refuses', async () => {
    tsa.setMode('reject');
    try {
      const store = new MemoryObjectStore();
      await expect(writeTimestamp(store, 'C', new Rfc3161Timestamper(tsa.url), 'cases/C/_amber/manifests/0000000002.json', Buffer.from('m'))).rejects.toThrow(
        /manifests\/0000000002\.json could not be timestamped: .*refused.*stays preserved/,
      );
      expect(store.objects.has(timestampKey('C', 'cases/C/_amber/manifests/0000000002.json'))).toBe(false);
    } finally {
      tsa.setMode('ok');
    }
  });
});

describe('Function: checkAnchors', () => {
  const line = (seq: number, prev: string): string => JSON.stringify({ seq, prev, at: '2026-01-01T00:00:00.000Z', action: 'acquired', actor: 'a', tool: 't', case: 'C' });

  it('round-trips a signed, timestamped anchor through a write-once store and checks it against the ledger', async () => {
    const { privateKeyPem, publicKeyPem, fingerprint } = Ed25519KeySigner.generate();
    const signer = withTimestamper(new Ed25519KeySigner(createPrivateKey(privateKeyPem)), new Rfc3161Timestamper(tsa.url));
    const l1 = line(1, '0'.repeat(64));
    const keyed = JSON.stringify({ seq: 2, prev: createHash('sha256').update(l1).digest('hex'), at: 'x', action: 'keyed', actor: 'a', tool: 't', case: 'C', detail: { algorithm: 'ed25519', publicKeyPem, fingerprint } });
    const ledger = `${l1}\n${keyed}\n`;
    const entries = ledger.trim().split('\n').map((l) => JSON.parse(l));
    const record = await createAnchor({ caseName: 'C', head: { seq: 2, sha256: createHash('sha256').update(keyed).digest('hex') }, signer, actor: { principal: 'a', tool: 't' }, at: new Date('2026-02-01T00:00:00Z') });
    const store = new MemoryObjectStore();
    const put = await putAnchor(store, record);
    expect(put.key).toBe('C/0000000002-2026-02-01T000000000Z.json');
    await expect(store.putImmutable(put.key, Buffer.from('{}'))).rejects.toThrow(/refusing to overwrite/);
    const loaded = await loadAnchorsFromStore(store, 'C');
    expect(loaded.map((a) => a.text)).toEqual([anchorLine(record)]);
    const [ok] = await checkAnchors('C', ledger, entries, loaded, await readFile(tsa.caFile, 'utf8'));
    expect(ok).toMatchObject({ ok: true, seq: 2, signedBy: fingerprint });
    expect(ok!.genTime).toMatch(/^20/);
    // Behind: the ledger cut before the anchored entry. Beside: another entry 2. Stripped: no key recorded any more.
    expect((await checkAnchors('C', `${l1}\n`, entries, loaded))[0]).toMatchObject({ ok: false, kind: 'anchor-behind' });
    expect((await checkAnchors('C', `${l1}\n`, entries.slice(0, 1), loaded))[0]!.reason).toMatch(/records no signing key/);
    const other = keyed.replace('"at":"x"', '"at":"y"');
    expect((await checkAnchors('C', `${l1}\n${other}\n`, entries, loaded))[0]).toMatchObject({ ok: false, kind: 'anchor-beside' });
    // A changed token byte: the anchor no longer holds.
    const tampered = JSON.parse(loaded[0]!.text) as { timestamp: string };
    const der = Buffer.from(tampered.timestamp, 'base64');
    der[der.length - 5] = der[der.length - 5]! ^ 1;
    const bad = [{ source: 'x', text: JSON.stringify({ ...JSON.parse(loaded[0]!.text), timestamp: der.toString('base64') }) }];
    expect((await checkAnchors('C', ledger, entries, bad))[0]).toMatchObject({ ok: false, kind: 'anchor-invalid' });
    // An anchor whose time is not text (it is printed by verify) is no Amber anchor.
    const odd = JSON.parse(loaded[0]!.text) as { anchor: Record<string, unknown> };
    const notText = [{ source: 'y', text: JSON.stringify({ ...odd, anchor: { ...odd.anchor, at: { line: '\nforged' } } }) }];
    expect((await checkAnchors('C', ledger, entries, notText))[0]).toMatchObject({ ok: false, kind: 'anchor-invalid' });
  });
});
