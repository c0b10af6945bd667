/**
 * An export bundle: a case handed over so that a third party checks it with standard tools, without Amber.
 * The plan names every file of the bundle, its path, size and SHA-256 before a byte is written, so SHA256SUMS
 * and README.txt are known up front and the bundle is a pure function of the case at one ledger head:
 *
 *   evidence/<key relative to the case>   every preserved object, exact bytes (streamed, hash-checked)
 *   renamed/<sha256 of the key>           objects whose key cannot be a safe file name (listed in renamed-keys.jsonl)
 *   custody-ledger.jsonl                  the ledger, cut at the head the export was verified at
 *   _amber/...                            manifests, checkpoints, signatures (+ the raw `.sig` beside each
 *                                         `.sig.json`), verification records, run journals: all verify reads
 *   public-key.pem                        the public key the ledger records (signed cases)
 *   papers/                               certificate, custody report (PaperSource)
 *   check-ledger.sh, README.txt, SHA256SUMS
 */
import { IntegrityError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { itemsOf } from '../evidence/ledger.ts';
import type { LedgerEntry } from '../evidence/model.ts';
import { sha256Hex } from '../evidence/hashing.ts';
import { casePrefix, ledgerKey } from '../evidence/names.ts';
import { recordedKeys } from '../evidence/signatures.ts';
import { checkLedgerScript } from './check-ledger-script.ts';
import { renderReadme } from './readme.ts';
import { signatureCheck, type SignatureCheckCommand } from './signature-commands.ts';

/** One file of the bundle. `path` is relative, "/"-separated, and safe (see safeBundlePath). */
export interface BundleFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly executable?: boolean;
  /** Small files are held; preserved objects are streamed from the store at write time. */
  readonly content: { readonly bytes: Uint8Array } | { readonly key: string; readonly versionId?: string };
}

/** A paper added to the bundle under `papers/` (a certificate, a custody report). */
export interface Paper {
  /** File name inside papers/: one segment of letters, digits, ".", "_" or "-" (e.g. `certificate.pdf`). */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** What a paper is made from: the case at the bundle's ledger head (papers must be a function of it alone). */
export interface PaperContext {
  readonly store: ObjectStore;
  readonly caseName: string;
  readonly head: BundleHead;
  readonly entries: readonly LedgerEntry[];
}

/** Renders papers for a bundle (e.g. wraps renderCertificatePdf / renderCustodyPdf). */
export type PaperSource = (context: PaperContext) => Promise<readonly Paper[]>;

/** The ledger head a bundle is cut at. */
export interface BundleHead {
  readonly seq: number;
  readonly sha256: string;
  /** The head entry's time (ISO-8601 UTC): the timestamp of every zip member. */
  readonly at: string;
}

/** A verification failure a person accepted, as the README states it. */
export interface AcceptedNote {
  readonly kind: string;
  readonly where: string;
  readonly acceptedIn: number;
  readonly reason: string;
}

/** An object whose key could not be used as a file name, and where it went. */
export interface RenamedKey {
  readonly key: string;
  readonly file: string;
  readonly reason: string;
}

/** Every file of a bundle, sorted by path (bytewise), SHA256SUMS last-but-sorted among them. */
export interface BundlePlan {
  readonly caseName: string;
  readonly head: BundleHead;
  readonly files: readonly BundleFile[];
  readonly renamed: readonly RenamedKey[];
  readonly signatures: readonly SignatureCheckCommand[];
  readonly objects: number;
  /** Sum of the files' sizes. */
  readonly bytes: number;
  /** The SHA256SUMS text. */
  readonly sums: string;
}

/** Bookkeeping objects are Amber's own small JSON files (and timestamp tokens): anything this large is not one. */
const MAX_BOOKKEEPING_BYTES = 64 * 1024 * 1024;

/** Longest file name segment most file systems take (bytes). */
const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 900;

/**
 * Why a key-relative path cannot be a bundle path as it is, or undefined when it can: it must stay inside the
 * bundle (no absolute path, no "." or ".." segment, no empty segment), fit file systems (255 bytes a segment,
 * 900 in all), and stay one readable line in SHA256SUMS and README (no control, format, bidi or line separator
 * characters, no backslash: sha256sum would escape it).
 */
export function bundlePathProblem(rel: string): string | undefined {
  if (rel.length === 0) return 'empty name';
  if (rel.startsWith('/')) return 'absolute path';
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\\]/u.test(rel)) return 'control, format, line-separator or backslash character in the name';
  if (/\p{Cs}/u.test(rel)) return 'name is not valid Unicode (a lone surrogate)';
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'empty, "." or ".." path segment';
  if (parts.some((p) => Buffer.byteLength(p) > MAX_SEGMENT_BYTES)) return `a path segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  if (Buffer.byteLength(rel) > MAX_PATH_BYTES) return `path longer than ${MAX_PATH_BYTES} bytes`;
  return undefined;
}

/** Bytewise order of UTF-8 paths (what `LC_ALL=C sort` gives). */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function bytesFile(path: string, bytes: Uint8Array | string, executable = false): BundleFile {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return { path, size: data.length, sha256: sha256Hex(data), content: { bytes: data }, ...(executable ? { executable } : {}) };
}

/** Reads a small object whole, refusing one too large to be Amber's bookkeeping. */
async function readSmall(store: ObjectStore, key: string, versionId?: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await store.get(key, versionId)) {
    size += (chunk as Buffer).length;
    if (size > MAX_BOOKKEEPING_BYTES) {
      throw new IntegrityError(`${key} is over ${MAX_BOOKKEEPING_BYTES} bytes, larger than any file Amber keeps under _amber/`, {
        hint: 'run `amber verify` on the case: an object the ledger does not record as evidence should not be there',
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** JSON with control, format and line-separator characters escaped too (a hostile key stays one visible line). */
function visibleJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (c) =>
    [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );
}

/** Splits a ledger's text into lines (each ended by LF); throws when the text does not end in one. */
function ledgerLines(caseName: string, text: string): string[] {
  if (text.length > 0 && !text.endsWith('\n')) {
    throw new IntegrityError(`case ${caseName}: the ledger's last line has no line feed (a torn write)`, { hint: `run \`amber verify --case ${caseName}\`` });
  }
  return text.length === 0 ? [] : text.slice(0, -1).split('\n');
}

/**
 * Plans the bundle of `caseName` from the ledger text the export was verified at (`ledgerText`, read under the
 * case lock). Reads Amber's small bookkeeping objects whole; preserved objects are only named here, with the
 * size and SHA-256 the ledger records (the writer checks the bytes against them while it streams).
 */
export async function planBundle(options: {
  store: ObjectStore;
  caseName: string;
  ledgerText: string;
  tool: string;
  papers?: readonly PaperSource[];
  /** Verification failures a person accepted (`amber accept`): the README names them, as the checks may show them. */
  accepted?: readonly AcceptedNote[];
}): Promise<BundlePlan> {
  const { store, caseName, ledgerText } = options;
  const lines = ledgerLines(caseName, ledgerText);
  const entries = lines.map((line, i) => {
    try {
      return JSON.parse(line) as LedgerEntry;
    } catch {
      throw new IntegrityError(`case ${caseName}: ledger line ${i + 1} is not JSON`, { hint: `run \`amber verify --case ${caseName}\`` });
    }
  });
  const last = entries.at(-1);
  if (!last) throw new IntegrityError(`case ${caseName}: the ledger is empty`, { hint: 'collect evidence into the case before exporting it' });
  if (typeof last.at !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(last.at) || Number.isNaN(Date.parse(last.at))) {
    throw new IntegrityError(`case ${caseName}: ledger entry ${last.seq} (line ${lines.length}) has the time ${JSON.stringify(last.at)}, not an ISO-8601 UTC time as Amber writes`, {
      hint: `run \`amber verify --case ${caseName}\`; the bundle's timestamps come from this entry`,
    });
  }
  const head: BundleHead = { seq: last.seq, sha256: sha256Hex(lines.at(-1)!), at: last.at };
  const prefix = casePrefix(caseName);
  const files: BundleFile[] = [];
  const renamed: RenamedKey[] = [];
  const taken = new Set<string>();
  const dirs = new Set<string>();

  /** A bundle path for `key` under `folder`, or a renamed one when the key cannot be used safely. */
  const place = (key: string, folder: string): string => {
    const rel = key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
    let problem = rel === undefined ? `key outside the case folder ${prefix}` : bundlePathProblem(`${folder}${rel}`);
    const wanted = `${folder}${rel ?? ''}`;
    if (!problem) {
      const parents = wanted.split('/').slice(0, -1).map((_, i, all) => all.slice(0, i + 1).join('/'));
      if (taken.has(wanted) || dirs.has(wanted) || parents.some((p) => taken.has(p))) problem = 'its path collides with another file of the bundle';
      else {
        taken.add(wanted);
        for (const p of parents) dirs.add(p);
        return wanted;
      }
    }
    const file = `renamed/${sha256Hex(key)}`;
    renamed.push({ key, file, reason: problem! });
    taken.add(file);
    return file;
  };

  // Preserved objects, in key order, so that which of two colliding keys is renamed never varies.
  const items = [...itemsOf(entries).values()].sort((a, b) => comparePaths(a.key, b.key));
  const itemKeys = new Set(items.map((i) => i.key));
  for (const item of items) {
    files.push({ path: place(item.key, 'evidence/'), size: item.size, sha256: item.sha256, content: { key: item.key, ...(item.versionId ? { versionId: item.versionId } : {}) } });
  }
  files.push(bytesFile('custody-ledger.jsonl', ledgerText));
  taken.add('custody-ledger.jsonl');

  // Everything else of the case: Amber's bookkeeping under _amber/ (verify found nothing the ledger does not account for).
  const listed: Array<{ key: string; versionId?: string }> = [];
  for await (const obj of store.list(prefix)) {
    if (itemKeys.has(obj.key) || obj.key === ledgerKey(caseName)) continue;
    if (!obj.key.startsWith(`${prefix}_amber/`)) {
      throw new IntegrityError(`case ${caseName}: ${obj.key} is in the case folder but is neither recorded evidence nor Amber's bookkeeping`, {
        hint: `run \`amber verify --case ${caseName}\`: it reports such objects as extra-object`,
      });
    }
    listed.push({ key: obj.key, ...(obj.versionId ? { versionId: obj.versionId } : {}) });
  }
  listed.sort((a, b) => comparePaths(a.key, b.key));
  const signatureFiles: Array<{ path: string; record: unknown }> = [];
  const pathOfKey = new Map<string, string>();
  for (const obj of listed) {
    const bytes = await readSmall(store, obj.key, obj.versionId);
    const path = place(obj.key, '');
    pathOfKey.set(obj.key, path);
    files.push(bytesFile(path, bytes));
    if (obj.key.startsWith(`${prefix}_amber/signatures/`) && obj.key.endsWith('.sig.json')) {
      let record: unknown;
      try {
        record = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new IntegrityError(`signature ${obj.key} is not readable JSON`, { hint: `run \`amber verify --case ${caseName}\`` });
      }
      signatureFiles.push({ path, record });
    }
  }

  // Each signature also as its raw bytes beside the JSON, and the standard command that checks it.
  const signatures: SignatureCheckCommand[] = [];
  for (const { path, record } of signatureFiles) {
    const r = record as { algorithm?: unknown; signed?: unknown; signature?: unknown; statement?: unknown };
    if (typeof r.signature !== 'string' || typeof r.signed !== 'string') throw new IntegrityError(`signature ${path} lacks its signed key or signature`, { hint: `run \`amber verify --case ${caseName}\`` });
    const raw = Buffer.from(r.signature, 'base64');
    const sigPath = path.startsWith('renamed/') ? `${path}.sig` : path.replace(/\.sig\.json$/, '.sig');
    files.push(bytesFile(sigPath, raw));
    // Statement form: the signed statement as its exact bytes (no line feed added), beside the raw signature.
    const statementPath = typeof r.statement === 'string' ? sigPath.replace(/\.sig$/, '.statement') : undefined;
    if (statementPath) files.push(bytesFile(statementPath, Buffer.from(r.statement as string, 'utf8')));
    const signedPath = pathOfKey.get(r.signed);
    if (signedPath) signatures.push(signatureCheck(String(r.algorithm), signedPath, sigPath, statementPath));
    else signatures.push({ algorithm: String(r.algorithm), signed: visibleJson(r.signed), signature: sigPath, note: 'the file it signs is not in this bundle' });
  }

  const key = recordedKeys(entries)[0];
  if (key) files.push(bytesFile('public-key.pem', key.publicKeyPem));
  files.push(bytesFile('check-ledger.sh', await checkLedgerScript(), true));

  // Papers: certificate, custody report, each a function of the case at this head.
  const papers: string[] = [];
  for (const source of options.papers ?? []) {
    for (const paper of await source({ store, caseName, head, entries })) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(paper.name) || papers.includes(paper.name)) {
        throw new Error(`paper name ${JSON.stringify(paper.name)} is not a unique plain file name`);
      }
      papers.push(paper.name);
      files.push(bytesFile(`papers/${paper.name}`, paper.bytes));
    }
  }
  if (renamed.length > 0) files.push(bytesFile('renamed-keys.jsonl', renamed.map((r) => `${visibleJson({ file: r.file, key: r.key, reason: r.reason })}\n`).join('')));

  // RFC 3161 tokens, each beside the manifest or checkpoint it dates (`_amber/timestamps/<dir>/<n>.tst` → `_amber/<dir>/<n>.json`).
  const timestamps: Array<{ token: string; signed: string }> = [];
  for (const [key, path] of pathOfKey) {
    const m = /^(.*\/_amber\/)timestamps\/(.+)\.tst$/.exec(key);
    const signed = m ? pathOfKey.get(`${m[1]}${m[2]}.json`) : undefined;
    if (signed) timestamps.push({ token: path, signed });
  }
  const readme = renderReadme({ caseName, head, tool: options.tool, objects: items.length, signatures, timestamps, publicKey: key, papers: papers.sort(), renamed: renamed.length, accepted: options.accepted ?? [] });
  files.push(bytesFile('README.txt', readme));
  files.sort((a, b) => comparePaths(a.path, b.path));
  const sums = files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
  files.push(bytesFile('SHA256SUMS', sums));
  files.sort((a, b) => comparePaths(a.path, b.path));
  const bytes = files.reduce((n, f) => n + f.size, 0);
  return { caseName, head, files, renamed, signatures, objects: items.length, bytes, sums };
}
