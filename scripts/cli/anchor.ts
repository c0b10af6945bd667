/** `amber anchor`: the case's signed ledger head written outside the locker; and reading anchors back for verify. */
import { appendFile, readFile, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { InvalidInputError } from '../../shared/errors.ts';
import { anchorCase, anchorLine, anchorsFromText, assertAnchorsForCase, loadAnchorsFromStore, putAnchor, type AnchorRecord, type LoadedAnchor } from '../../shared/evidence/anchor.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { assertCaseExists } from '../../shared/evidence/verify.ts';
import type { Values } from '../amber.ts';
import { checkOutFolder, optionalString, requireString } from './args.ts';
import { actorFrom, isCloudStoreUri, lockerSpec, openLocker, signerFrom } from './context.ts';
import { t, type Io } from './io.ts';
import { safeOutputPath } from './output-path.ts';

const USAGE = 'amber anchor --case C --to FILE|s3://bucket/prefix [--signing-key FILE] [--tsa-url URL] [--locker DIR|s3://bucket] [--json]';

/** Runs `amber anchor`. */
export async function runAnchor(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', USAGE));
  const to = requireString(values, 'to', USAGE);
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const locker = lockerSpec(optionalString(values, 'locker'), io);
  const write = isCloudStoreUri(to) ? await s3Writer(to, io) : await fileWriter(to, io, locker);
  const store = await openLocker(locker, io, { create: false });
  await assertCaseExists(store, caseName);
  const result = await anchorCase({ store, caseName, actor: actorFrom(io), write, ...(signer ? { signer } : {}) });
  if (values.json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const a = result.record.anchor;
  io.out(
    [
      `Case ${t(caseName)}: ledger head anchored at entry ${a.seq} (sha256 ${a.sha256})`,
      `  written to ${t(result.destination)}${result.retainUntil ? ` (Object Lock retention until ${t(result.retainUntil)})` : ''}`,
      a.key ? `  signed by ${a.key.algorithm} key ${a.key.fingerprint}` : '  UNSIGNED: the case has no signing key, so this anchor proves nothing against someone who can also write where it is kept',
      result.record.timestamp ? '  with an RFC 3161 timestamp token' : '  no timestamp token (no --tsa-url)',
      `  recorded in the ledger (entry ${result.recordedIn}); check later with: amber verify --case ${t(caseName)} --anchor ${t(to)}`,
    ].join('\n') + '\n',
  );
  return 0;
}

/** A local anchor file: one JSON line appended per anchor (O_APPEND), never rewritten, never inside the locker. */
async function fileWriter(to: string, io: Io, locker: string): Promise<(record: AnchorRecord) => Promise<{ destination: string }>> {
  const root = isCloudStoreUri(locker) ? undefined : resolve(io.cwd, locker);
  checkOutFolder(to, io.cwd);
  const path = await safeOutputPath(to, io.cwd, root);
  if (root && (path === root || path.startsWith(root + sep))) {
    throw new InvalidInputError(`refusing to write the anchor ${JSON.stringify(to)} inside the evidence locker ${root}`, {
      hint: 'an anchor guards the locker from outside: keep it elsewhere (e.g. --to ~/INC-1.anchors.jsonl), or in S3 with Object Lock',
    });
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing && !existing.isFile()) throw new InvalidInputError(`--to ${to} is not a file`, { hint: 'give --to a file path (JSON Lines, one anchor a line)' });
  if (existing && existing.size > 0) {
    const text = await readFile(path, 'utf8');
    if (!text.endsWith('\n')) {
      throw new InvalidInputError(`the anchor file ${to} ends in an incomplete line: it was cut short or edited`, { hint: 'keep it as it is (it is evidence of what happened) and anchor to a new file' });
    }
  }
  return async (record) => {
    await appendFile(path, anchorLine(record), { flag: 'a', mode: 0o644 });
    return { destination: path };
  };
}

/** An S3 destination: one write-once object per anchor (with the bucket's Object Lock retention when it has it). */
async function s3Writer(to: string, io: Io): Promise<(record: AnchorRecord) => Promise<{ destination: string; retainUntil?: string }>> {
  const store = await openLocker(to, io, { create: false });
  return async (record) => {
    const put = await putAnchor(store, record);
    return { destination: `${store.uri}/${put.key}`, ...(put.retainUntil ? { retainUntil: put.retainUntil } : {}) };
  };
}

/** Reads the anchors `--anchor` names (files or s3:// prefixes); fails (exit 2) when none belongs to the case. */
export async function loadAnchors(specs: readonly string[], caseName: string, io: Io): Promise<LoadedAnchor[]> {
  const all: LoadedAnchor[] = [];
  for (const spec of specs) {
    let found: LoadedAnchor[];
    if (isCloudStoreUri(spec)) {
      found = await loadAnchorsFromStore(await openLocker(spec, io, { create: false }), caseName);
    } else {
      const path = resolve(io.cwd, spec);
      const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new InvalidInputError(`cannot read the anchor file ${spec}: ${error.code ?? error.message}`, { hint: 'pass the file `amber anchor --to FILE` wrote' });
      });
      found = anchorsFromText(text, spec);
    }
    if (found.length === 0) throw new InvalidInputError(`${spec} holds no anchor`, { hint: `pass the file or s3:// prefix \`amber anchor --case ${caseName} --to ...\` wrote` });
    assertAnchorsForCase(caseName, found, spec);
    all.push(...found);
  }
  return all;
}
