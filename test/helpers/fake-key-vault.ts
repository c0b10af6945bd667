/**
 * A Key Vault keys endpoint answered at the HTTP layer (nock), with the documented shapes: the challenge a first
 * unauthenticated request gets (401 with `WWW-Authenticate: Bearer authorization=..., resource=...`), Get Key
 * (`GET /keys/{name}/{version}` → a KeyBundle: `key` a JSON Web Key with `kid`, `kty`, `crv`, `x`, `y`,
 * `key_ops`, and `attributes`), and Sign (`POST /keys/{name}/{version}/sign` with `{"alg":"ES256","value":
 * <base64url digest>}` → `{"kid", "value": <base64url r||s>}`). Behaviour: it holds a real EC P-256 key and
 * signs the digest it is sent with openssl (raw ECDSA over the given digest, as Key Vault does), answering the
 * raw r||s form Key Vault returns; `failSign` makes Sign answer an error instead.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import nock from './nock.ts';

export const VAULT_URL = 'https://amber-test.vault.azure.net';
const TENANT = '00000000-0000-0000-0000-0000000000aa';

/** A credential that hands out a fixed token and counts the scopes asked for. */
export function fakeCredential(): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    getToken: (scope: string | string[]): Promise<AccessToken> => {
      scopes.push(...(Array.isArray(scope) ? scope : [scope]));
      return Promise.resolve({ token: 'kv-test-token', expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
}

/** DER ECDSA-Sig-Value → raw r||s of 32-byte integers (what Key Vault answers). */
function derToP1363(der: Buffer): Buffer {
  let i = 2;
  if (der[1]! & 0x80) i = 2 + (der[1]! & 0x7f);
  const int = (): Buffer => {
    if (der[i] !== 0x02) throw new Error('not a DER integer');
    const len = der[i + 1]!;
    const body = der.subarray(i + 2, i + 2 + len);
    i += 2 + len;
    const trimmed = body.subarray(body.length > 32 ? body.length - 32 : 0);
    return Buffer.concat([Buffer.alloc(32 - trimmed.length), trimmed]);
  };
  return Buffer.concat([int(), int()]);
}

export interface FakeKeyVaultOptions {
  readonly name?: string;
  readonly version?: string;
  /** The key's type as Key Vault reports it. @default 'EC-HSM' */
  readonly kty?: string;
  readonly keyOps?: readonly string[];
}

/** One key in a fake vault; `sent` holds every Sign body received, `replies` shapes the next ones. */
export class FakeKeyVault {
  readonly name: string;
  readonly version: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly signBodies: Array<{ alg: string; value: string }> = [];
  /** HTTP status of the next Sign answers (consumed first), e.g. [403]. */
  readonly failSign: number[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'amber-fake-kv-'));

  constructor(private readonly options: FakeKeyVaultOptions = {}) {
    this.name = options.name ?? 'amber-signing';
    this.version = options.version ?? '0123456789abcdef0123456789abcdef';
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    writeFileSync(join(this.dir, 'key.pem'), this.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }

  /** The key's versioned identifier. */
  get kid(): string {
    return `${VAULT_URL}/keys/${this.name}/${this.version}`;
  }

  /** Registers the interceptors (they persist until nock.cleanAll()). */
  install(): this {
    const jwk = this.publicKey.export({ format: 'jwk' });
    const challenge = { 'WWW-Authenticate': `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"` };
    const unauthorised = { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } };
    const bundle = {
      key: { kid: this.kid, kty: this.options.kty ?? 'EC-HSM', key_ops: [...(this.options.keyOps ?? ['sign', 'verify'])], crv: jwk.crv, x: jwk.x, y: jwk.y },
      attributes: { enabled: true, created: 1767225600, updated: 1767225600, recoveryLevel: 'Recoverable', recoverableDays: 90, exportable: false },
    };
    const get = new RegExp(`^/keys/${this.name}/(${this.version})?\\?api(-|%2D)version=`);
    const post = new RegExp(`^/keys/${this.name}/${this.version}/sign\\?api(-|%2D)version=`);
    // Authorised requests first; a request without the token gets the challenge (the SDK's first call does).
    nock(VAULT_URL).persist().matchHeader('authorization', 'Bearer kv-test-token').get(get).reply(200, bundle);
    nock(VAULT_URL).persist().matchHeader('authorization', 'Bearer kv-test-token').post(post).reply(async (request: Request) => {
      const failure = this.failSign.shift();
      if (failure !== undefined) return [failure, { error: { code: failure === 403 ? 'Forbidden' : 'ServiceUnavailable', message: failure === 403 ? 'The user, group or application does not have keys sign permission on key vault' : 'Service unavailable' } }];
      const body = (await request.json()) as { alg: string; value: string };
      this.signBodies.push(body);
      const signature = this.signDigest(Buffer.from(body.value, 'base64url'));
      return [200, { kid: this.kid, value: signature.toString('base64url') }];
    });
    nock(VAULT_URL).persist().get(get).reply(401, unauthorised, challenge);
    nock(VAULT_URL).persist().post(post).reply(401, unauthorised, challenge);
    return this;
  }

  /** Removes the fake's files. */
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Signs a digest as Key Vault does (raw ECDSA over the digest), answering r||s. */
  signDigest(digest: Buffer): Buffer {
    writeFileSync(join(this.dir, 'digest.bin'), digest);
    const der = execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', join(this.dir, 'key.pem'), '-in', join(this.dir, 'digest.bin')]);
    return derToP1363(der);
  }
}
