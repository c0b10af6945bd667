/**
 * RFC 3161 timestamps: the HTTP client adapter of the Timestamper port, and the checks verify runs on a stored
 * token. ASN.1 and CMS come from PKI.js (pkijs + asn1js), not hand-rolled DER.
 *
 * What a token must show, asked for or read back: status granted, a SHA-256 message imprint equal to the digest
 * of exactly the bytes it stands for, the nonce sent (at request time), and a CMS SignedData whose signature
 * verifies with the TSA certificate the token carries (certReq is always set). Against a trust anchor
 * (`--tsa-ca`) the TSA certificate's chain is validated at the token's genTime, and the certificate must carry
 * the critical extendedKeyUsage timeStamping that RFC 3161 section 2.3 requires. The token's signed ESS
 * signing-certificate attribute must name that certificate (its hash), so no other certificate can stand in.
 */
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { AmberError, type AmberErrorOptions } from '../errors.ts';
import type { Timestamper } from '../ports/timestamper.ts';
import { sha256Hex } from './hashing.ts';

const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const TIME_STAMPING_EKU = '1.3.6.1.5.5.7.3.8';
const EXT_KEY_USAGE_OID = '2.5.29.37';

let engineSet = false;
/** PKI.js on Node's WebCrypto (set once; Node 20 has no `self.crypto` PKI.js would otherwise look for). */
function ensureEngine(): void {
  if (engineSet) return;
  pkijs.setEngine('amber-node', new pkijs.CryptoEngine({ name: 'amber-node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] }));
  engineSet = true;
}

/** The timestamp authority could not give a usable token (unreachable, refused, or an answer that does not check). */
export class TimestampAuthorityError extends AmberError {
  override readonly code = 'TIMESTAMP_FAILED';
  constructor(
    readonly url: string,
    message: string,
    options: AmberErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** Options of the HTTP client. */
export interface Rfc3161TimestamperOptions {
  /** fetch to use (default: the global one); injected in tests. */
  readonly fetch?: typeof fetch;
  /** Time allowed for one request (default 30 s). */
  readonly timeoutMs?: number;
}

/** An RFC 3161 timestamp authority reached over HTTP(S) POST (`application/timestamp-query`). */
export class Rfc3161Timestamper implements Timestamper {
  private readonly fetcher: typeof fetch;
  private readonly timeoutMs: number;

  constructor(
    readonly url: string,
    options: Rfc3161TimestamperOptions = {},
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TimestampAuthorityError(url, `the timestamp authority URL ${JSON.stringify(url)} is not a URL`, { hint: 'pass --tsa-url http(s)://host/path (or set AMBER_TSA_URL), e.g. http://timestamp.example/tsa' });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TimestampAuthorityError(url, `the timestamp authority URL ${JSON.stringify(url)} is not http(s)`, { hint: 'RFC 3161 over HTTP: pass an http:// or https:// URL' });
    }
    this.fetcher = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async timestamp(sha256: Uint8Array): Promise<Uint8Array> {
    ensureEngine();
    if (sha256.length !== 32) throw new TypeError('a SHA-256 digest is 32 bytes');
    const nonce = randomBytes(8);
    // A positive INTEGER in minimal DER: the top bit clear (not negative), the next set (no leading zero byte).
    nonce[0] = (nonce[0]! & 0x7f) | 0x40;
    const query = new pkijs.TimeStampReq({
      version: 1,
      messageImprint: new pkijs.MessageImprint({
        hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256_OID }),
        hashedMessage: new asn1js.OctetString({ valueHex: sha256 }),
      }),
      nonce: new asn1js.Integer({ valueHex: nonce }),
      certReq: true,
    });
    const body = new Uint8Array(query.toSchema().toBER(false));
    let response: Response;
    try {
      response = await this.fetcher(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw this.fail(`cannot reach the timestamp authority ${this.url}: ${(error as Error).message}`, 'check the URL and the network (or the proxy), then run the command again', error);
    }
    if (!response.ok) throw this.fail(`the timestamp authority ${this.url} answered HTTP ${response.status} ${response.statusText}`, 'check the URL: it must accept RFC 3161 queries by POST');
    const der = new Uint8Array(await response.arrayBuffer());
    let resp: pkijs.TimeStampResp;
    try {
      resp = pkijs.TimeStampResp.fromBER(der);
    } catch (error) {
      throw this.fail(`the timestamp authority ${this.url} answered with something that is not an RFC 3161 TimeStampResp (${der.length} bytes)`, 'check the URL: it must be the TSA endpoint, not a web page', error);
    }
    const status = resp.status.status;
    if (status !== pkijs.PKIStatus.granted && status !== pkijs.PKIStatus.grantedWithMods) {
      const text = (resp.status.statusStrings ?? []).map((s) => s.valueBlock.value).join('; ');
      throw this.fail(`the timestamp authority ${this.url} refused the request: status ${status} (${pkijs.PKIStatus[status] ?? 'unknown'})${text ? `: ${text}` : ''}`, 'ask the TSA operator why, or use another timestamp authority');
    }
    if (!resp.timeStampToken) throw this.fail(`the timestamp authority ${this.url} granted the request but sent no token`, 'use another timestamp authority');
    const token = new Uint8Array(resp.timeStampToken.toSchema().toBER(false));
    const parsed = parseToken(token);
    if (typeof parsed === 'string') throw this.fail(`the token from ${this.url} is unusable: ${parsed}`, 'use another timestamp authority');
    const sent = Buffer.from(sha256).toString('hex');
    if (parsed.imprintAlgorithm !== SHA256_OID || parsed.imprintHex !== sent) {
      throw this.fail(`the token from ${this.url} stamps another digest (${parsed.imprintHex}, not ${sent})`, 'the TSA answered another query: use another timestamp authority');
    }
    if (parsed.nonceHex !== stripZeros(Buffer.from(nonce).toString('hex'))) {
      throw this.fail(`the token from ${this.url} carries nonce ${parsed.nonceHex ?? 'none'}, not the nonce sent (${Buffer.from(nonce).toString('hex')}): a replayed or foreign answer`, 'use another timestamp authority, or check what sits between Amber and it');
    }
    const signature = await verifyTokenSignature(parsed);
    if (signature !== undefined) throw this.fail(`the token from ${this.url} does not verify: ${signature}`, 'use another timestamp authority');
    return token;
  }

  private fail(message: string, hint: string, cause?: unknown): TimestampAuthorityError {
    return new TimestampAuthorityError(this.url, message, { hint, ...(cause === undefined ? {} : { cause }) });
  }
}

/** A token as read: its parts, before any check. */
export interface ParsedToken {
  readonly signed: pkijs.SignedData;
  readonly tstInfo: pkijs.TSTInfo;
  readonly genTime: Date;
  readonly imprintAlgorithm: string;
  readonly imprintHex: string;
  readonly nonceHex: string | undefined;
  readonly serialHex: string;
  readonly policy: string;
  /** The certificate that signed the token (the one its signer identifier names), if the token carries it. */
  readonly signerCertificate: pkijs.Certificate | undefined;
}

/** Reads a DER token (CMS ContentInfo with SignedData over a TSTInfo); a string says why it cannot be read. */
export function parseToken(der: Uint8Array): ParsedToken | string {
  ensureEngine();
  try {
    const info = pkijs.ContentInfo.fromBER(der);
    if (info.contentType !== pkijs.ContentInfo.SIGNED_DATA) return `its content type is ${info.contentType}, not CMS SignedData`;
    const signed = new pkijs.SignedData({ schema: info.content });
    if (signed.encapContentInfo.eContentType !== pkijs.id_eContentType_TSTInfo) return `it signs ${signed.encapContentInfo.eContentType}, not an RFC 3161 TSTInfo`;
    const content = signed.encapContentInfo.eContent;
    if (!content) return 'its TSTInfo is empty';
    const tstInfo = pkijs.TSTInfo.fromBER(content.getValue());
    const signerInfo = signed.signerInfos[0];
    let signerCertificate: pkijs.Certificate | undefined;
    if (signerInfo?.sid instanceof pkijs.IssuerAndSerialNumber) {
      const sid = signerInfo.sid;
      signerCertificate = (signed.certificates ?? []).find(
        (c): c is pkijs.Certificate => c instanceof pkijs.Certificate && c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber),
      );
    } else {
      signerCertificate = (signed.certificates ?? []).find((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
    }
    return {
      signed,
      tstInfo,
      genTime: tstInfo.genTime,
      imprintAlgorithm: tstInfo.messageImprint.hashAlgorithm.algorithmId,
      imprintHex: Buffer.from(tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView).toString('hex'),
      nonceHex: tstInfo.nonce ? stripZeros(Buffer.from(tstInfo.nonce.valueBlock.valueHexView).toString('hex')) : undefined,
      serialHex: Buffer.from(tstInfo.serialNumber.valueBlock.valueHexView).toString('hex'),
      policy: tstInfo.policy,
      signerCertificate,
    };
  } catch (error) {
    return `it is not a readable RFC 3161 token (${(error as Error).message})`;
  }
}

function stripZeros(hex: string): string {
  return hex.replace(/^(00)+(?=.)/, '');
}

/**
 * Checks the CMS signature over the TSTInfo with the certificate the token carries; a string says why it fails.
 * Done here rather than by SignedData.verify, which insists on the stamped data itself for TSTInfo content (at
 * request time only its digest is known): the message-digest attribute over the encapsulated TSTInfo, then the
 * signature over the DER of the signed attributes, as PKI.js does it.
 */
async function verifyTokenSignature(token: ParsedToken): Promise<string | undefined> {
  const cert = token.signerCertificate;
  if (!cert) return 'it carries no TSA certificate (certReq), so its signature cannot be checked';
  try {
    const signerInfo = token.signed.signerInfos[0];
    const content = token.signed.encapContentInfo.eContent?.getValue();
    const attrs = signerInfo?.signedAttrs;
    if (!signerInfo || !content || !attrs) return 'it has no signer, content or signed attributes';
    const digestAttr = attrs.attributes.find((a) => a.type === '1.2.840.113549.1.9.4');
    const crypto = pkijs.getCrypto(true);
    const hash = crypto.getAlgorithmByOID(signerInfo.digestAlgorithm.algorithmId);
    if (!digestAttr || !('name' in hash)) return 'its message-digest attribute or digest algorithm is missing';
    const digest = createHash((hash.name as string).replace('-', '').toLowerCase()).update(Buffer.from(content)).digest();
    const recorded = Buffer.from((digestAttr.values[0] as asn1js.OctetString).valueBlock.valueHexView);
    if (!digest.equals(recorded)) return 'its message-digest attribute does not match its TSTInfo: the token was altered';
    const rsa = signerInfo.signatureAlgorithm.algorithmId === '1.2.840.113549.1.1.1';
    const ok = rsa
      ? await crypto.verifyWithPublicKey(attrs.encodedValue, signerInfo.signature, cert.subjectPublicKeyInfo, signerInfo.signatureAlgorithm, hash.name as string)
      : await crypto.verifyWithPublicKey(attrs.encodedValue, signerInfo.signature, cert.subjectPublicKeyInfo, signerInfo.signatureAlgorithm);
    if (!ok) return 'its CMS signature does not verify with the TSA certificate it carries: the token was altered';
    return essBindingProblem(attrs.attributes, cert);
  } catch (error) {
    return `its CMS signature cannot be checked (${(error as Error).message})`;
  }
}

const SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';
const SIGNING_CERTIFICATE_V1 = '1.2.840.113549.1.9.16.2.12';

/**
 * RFC 3161 (with RFC 5816) binds a token to its TSA certificate by a signed ESS signing-certificate attribute
 * holding the certificate's hash: without the check, another certificate for the same key could stand in.
 * Returns why the binding fails, or undefined when the first ESSCertID names the signer's certificate.
 */
function essBindingProblem(attributes: readonly pkijs.Attribute[], cert: pkijs.Certificate): string | undefined {
  const v2 = attributes.find((a) => a.type === SIGNING_CERTIFICATE_V2);
  const v1 = attributes.find((a) => a.type === SIGNING_CERTIFICATE_V1);
  const attr = v2 ?? v1;
  if (!attr) return 'it has no ESS signing-certificate attribute binding it to its TSA certificate (RFC 3161 requires one)';
  try {
    const certs = (attr.values[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
    const first = certs.valueBlock.value[0] as asn1js.Sequence;
    const parts = first.valueBlock.value;
    let algorithm = v2 ? 'sha256' : 'sha1';
    let hash = parts[0];
    if (v2 && parts[0] instanceof asn1js.Sequence) {
      const oid = (parts[0].valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString();
      const names: Record<string, string> = { [SHA256_OID]: 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };
      if (!names[oid]) return `its ESS signing-certificate attribute hashes the certificate with ${oid}, which Amber does not check`;
      algorithm = names[oid]!;
      hash = parts[1];
    }
    const recorded = Buffer.from((hash as asn1js.OctetString).valueBlock.valueHexView);
    const actual = createHash(algorithm).update(Buffer.from(cert.toSchema().toBER(false))).digest();
    return actual.equals(recorded) ? undefined : 'its ESS signing-certificate attribute names another certificate than the one that signed it';
  } catch (error) {
    return `its ESS signing-certificate attribute cannot be read (${(error as Error).message})`;
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** What a token check found. */
export interface TokenCheck {
  readonly ok: boolean;
  /** Why it fails: `invalid` (unreadable, other imprint, bad signature) or `untrusted` (chain to the trust anchor). */
  readonly problem?: 'invalid' | 'untrusted';
  readonly reason?: string;
  readonly genTime?: string;
  readonly serial?: string;
  readonly policy?: string;
  /** The TSA certificate's subject, as `CN=...` (from the token). */
  readonly tsa?: string;
  /** True when the TSA certificate was validated against the trust anchors given; false when none were given. */
  readonly chainChecked: boolean;
}

/**
 * Checks a stored token against the exact bytes it stands for: readable, a SHA-256 imprint of `data`, a CMS
 * signature that verifies with the certificate it carries, and, with trust anchors, the TSA certificate's chain
 * at genTime and its critical timeStamping extended key usage.
 */
export async function checkToken(der: Uint8Array, data: Uint8Array, trustAnchors: readonly pkijs.Certificate[] = []): Promise<TokenCheck> {
  const token = parseToken(der);
  if (typeof token === 'string') return { ok: false, problem: 'invalid', reason: token, chainChecked: false };
  const facts = {
    genTime: token.genTime.toISOString(),
    serial: token.serialHex,
    policy: token.policy,
    ...(token.signerCertificate ? { tsa: subjectOf(token.signerCertificate) } : {}),
  };
  const expected = sha256Hex(data);
  if (token.imprintAlgorithm !== SHA256_OID) return { ...facts, ok: false, problem: 'invalid', reason: `it stamps a digest of algorithm ${token.imprintAlgorithm}, not SHA-256`, chainChecked: false };
  if (token.imprintHex !== expected) return { ...facts, ok: false, problem: 'invalid', reason: `it stamps sha256 ${token.imprintHex}, and the file as stored is ${expected}: a token for other bytes`, chainChecked: false };
  const signature = await verifyTokenSignature(token);
  if (signature !== undefined) return { ...facts, ok: false, problem: 'invalid', reason: signature, chainChecked: false };
  if (trustAnchors.length === 0) return { ...facts, ok: true, chainChecked: false };
  const result = await token.signed
    .verify({ signer: 0, data: toArrayBuffer(data), trustedCerts: [...trustAnchors], checkChain: true, extendedMode: true })
    .catch((error: unknown) => error as pkijs.SignedDataVerifyResult);
  if (result.signerCertificateVerified !== true || result.signatureVerified !== true) {
    return { ...facts, ok: false, problem: 'untrusted', reason: `its TSA certificate does not chain to the trusted CA given at ${facts.genTime} (${result.message})`, chainChecked: true };
  }
  if (!hasCriticalTimeStamping(token.signerCertificate!)) {
    return { ...facts, ok: false, problem: 'untrusted', reason: 'its TSA certificate lacks the critical extendedKeyUsage timeStamping RFC 3161 requires', chainChecked: true };
  }
  return { ...facts, ok: true, chainChecked: true };
}

function hasCriticalTimeStamping(cert: pkijs.Certificate): boolean {
  const ext = (cert.extensions ?? []).find((e) => e.extnID === EXT_KEY_USAGE_OID);
  if (!ext?.critical) return false;
  const usage = ext.parsedValue as pkijs.ExtKeyUsage | undefined;
  return usage?.keyPurposes.includes(TIME_STAMPING_EKU) ?? false;
}

function subjectOf(cert: pkijs.Certificate): string {
  const names: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C' };
  return cert.subject.typesAndValues
    .filter((tv) => names[tv.type])
    .map((tv) => `${names[tv.type]}=${String((tv.value.valueBlock as { value?: unknown }).value)}`)
    .join(', ');
}

/** Reads every certificate of a PEM file (a trust anchor or a bundle); throws with the reason when there is none. */
export function parseCertificatesPem(pem: string): pkijs.Certificate[] {
  ensureEngine();
  const blocks = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)];
  if (blocks.length === 0) throw new Error('no "BEGIN CERTIFICATE" block');
  return blocks.map((m) => pkijs.Certificate.fromBER(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}
