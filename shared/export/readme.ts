/** README.txt of an export bundle: what it holds and the exact commands that check it with standard tools. */
import type { RecordedKey } from '../evidence/signatures.ts';
import type { AcceptedNote, BundleHead } from './bundle.ts';
import { shellWord, type SignatureCheckCommand } from './signature-commands.ts';

/** What the README states (nothing that changes between two exports of the same head). */
export interface ReadmeFacts {
  readonly caseName: string;
  readonly head: BundleHead;
  readonly tool: string;
  readonly objects: number;
  readonly signatures: readonly SignatureCheckCommand[];
  readonly publicKey: RecordedKey | undefined;
  readonly papers: readonly string[];
  readonly renamed: number;
  readonly accepted: readonly AcceptedNote[];
  /** RFC 3161 tokens (bundle paths) and the manifest or checkpoint each one dates. */
  readonly timestamps?: readonly { readonly token: string; readonly signed: string }[];
}

/** One line of text a hostile string cannot break or disguise (control, format and separator characters escaped). */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** The README's text: deterministic for one ledger head. */
export function renderReadme(f: ReadmeFacts): string {
  const out: string[] = [];
  const p = (...lines: string[]): void => void out.push(...lines);
  p(
    `Evidence export of case ${f.caseName}`,
    '',
    `Written by ${f.tool} from the custody ledger as it stood at entry ${f.head.seq} (${oneLine(f.head.at)}),`,
    `whose line has SHA-256 ${f.head.sha256}.`,
    'Amber verified the case (every object re-hashed, the ledger chain, checkpoints, manifests and signatures)',
    'immediately before writing this export, and recorded the export in the ledger with its own SHA-256 in an',
    '"exported" entry after this head (so that entry is not in this copy of the ledger).',
    '',
    'Everything below runs in this folder (unzip the archive first) with standard tools: sh, sha256sum',
    '(GNU coreutils), sed, and OpenSSL 3.',
    '',
    'CONTENTS',
    `  evidence/              the ${f.objects} preserved objects, exact bytes, at their path relative to the case`,
    '                         (the locker key cases/<case>/<path> is evidence/<path> here)',
  );
  if (f.renamed > 0) {
    p(
      `  renamed/               ${f.renamed} object(s) whose key cannot be a safe file name (control characters, "..",`,
      '                         over-long names, collisions); renamed-keys.jsonl gives each file\'s original key',
    );
  }
  p(
    '  custody-ledger.jsonl   the chain of custody: one JSON entry per line, each line ended by a line feed',
    '  _amber/manifests/      sealed manifests: canonical JSON listing every item with its key, size and sha256',
    '  _amber/checkpoints/    ledger checkpoints: each names an entry and the SHA-256 of its line',
    '  _amber/signatures/     signatures of manifests and checkpoints: <name>.sig.json as Amber stores it',
    '                         (signature in base64) and <name>.sig, the same signature decoded to raw bytes',
    '  _amber/verifications/  records of failed verifications and _amber/runs/ run journals, if any',
    '  public-key.pem         the public key the ledger records (its "keyed" entry), if the case is signed',
    `  papers/                ${f.papers.length > 0 ? f.papers.join(', ') : 'none in this export'}`,
    '  check-ledger.sh        checks the ledger chain, checkpoints and manifests (step 2)',
    '  SHA256SUMS             SHA-256 of every other file of this bundle',
    '',
    '1. EVERY FILE IS AS EXPORTED',
    '',
    '   sha256sum -c SHA256SUMS',
    '',
    '   Every line must end in ": OK". SHA256SUMS itself is vouched for by the steps below: the evidence',
    '   hashes it lists are the ones the signed ledger and manifests record.',
    '',
    '2. THE CUSTODY LEDGER IS ONE UNBROKEN CHAIN',
    '',
    '   sh check-ledger.sh',
    '',
    '   Each entry\'s "prev" must be the SHA-256 of the previous line\'s exact text (without its line feed; the',
    '   first entry\'s "prev" is 64 zeros), each "seq" its line number; each checkpoint must name the SHA-256 of',
    '   the line it anchors and of the previous checkpoint file, the newest one the last line; each "sealed"',
    '   entry names a manifest and the SHA-256 of its exact bytes. By hand, for line N:',
    '     sed -n Np custody-ledger.jsonl | tr -d \'\\n\' | sha256sum     equals the "prev" of line N+1',
    '',
  );
  p('3. THE SIGNATURES ARE BY THE RECORDED KEY', '');
  if (!f.publicKey) {
    p(
      '   This case is not signed: its ledger records no key. The hash chain shows a change made by someone who did',
      '   not also rewrite everything after it; a consistent rewrite of the whole case would not show.',
      '',
    );
  } else {
    p(
      `   The ledger's entry ${f.publicKey.seq} ("keyed") records the ${f.publicKey.algorithm} public key in public-key.pem, fingerprint`,
      `   ${f.publicKey.fingerprint}`,
      '   (the SHA-256 of its DER form). Compare it with the fingerprint the case\'s owner gave you outside this bundle:',
      '',
      '   openssl pkey -pubin -in public-key.pem -outform DER | sha256sum',
      '',
      '   Each signed file (every checkpoint and manifest written from that entry on) must verify; each command',
      '   prints "Signature Verified Successfully" and exits 0:',
      '',
    );
    const notes = new Set<string>();
    for (const s of f.signatures) {
      if (s.command) p(`   ${s.command}`);
      else p(`   (${oneLine(s.signed)}: ${oneLine(s.note)})`);
      notes.add(`${oneLine(s.algorithm)}: ${oneLine(s.note)}`);
    }
    p('', ...[...notes].sort().map((n) => `   ${n}`), '');
    p(
      '   A checkpoint names the ledger head\'s SHA-256 and the previous checkpoint\'s, so its signature covers the',
      '   whole ledger up to that head, and through it every manifest and item hash the ledger records.',
      '',
    );
  }
  if (f.timestamps && f.timestamps.length > 0) {
    p(
      '   Trusted timestamps: each token below is an RFC 3161 TimeStampToken (DER) over the SHA-256 of the file',
      '   beside it, issued by the timestamp authority the ledger\'s "timestamped" entry names. Get that authority\'s',
      '   root certificate from the authority itself (not from this bundle) as tsa-ca.pem; each command prints',
      '   "Verification: OK", and `openssl ts -reply -in <token> -token_in -text` shows the time it certifies:',
      '',
      ...f.timestamps.map((t) => `   openssl ts -verify -in ${shellWord(t.token)} -token_in -data ${shellWord(t.signed)} -CAfile tsa-ca.pem`),
      '',
    );
  }
  if (f.accepted.length > 0) {
    p(
      'ACCEPTED FAILURES',
      '',
      '   Earlier verifications found these, and a person accepted each in the ledger ("accepted" entry, with a',
      '   reason). The checks above may report them; anything else they report is not accepted:',
      '',
      ...f.accepted.map((a) => `   ${oneLine(a.kind)} at ${oneLine(a.where)}: accepted in entry ${a.acceptedIn}, reason: ${oneLine(a.reason)}`),
      '',
    );
  }
  p(
    '4. THE EVIDENCE IS WHAT THE MANIFESTS AND LEDGER RECORD',
    '',
    '   Each manifest in _amber/manifests/ lists every item as {"key": "cases/<case>/<path>", "sha256": ...,',
    '   "size": ...} (canonical JSON: keys sorted, no spaces); the "acquired" entries of the ledger record the',
    '   same. The object with key cases/<case>/<path> is evidence/<path> in this bundle (or the renamed/ file',
    '   renamed-keys.jsonl names), and its line in SHA256SUMS must carry the same sha256. With jq installed:',
    '',
    '   jq -r \'.items[] | .sha256 + "  " + (.key | sub("^cases/[^/]+/"; "evidence/"))\' \\',
    '     "$(ls _amber/manifests/*.json | tail -n 1)" | sha256sum -c',
    '',
    '   (renamed objects show as missing there: check them against renamed-keys.jsonl by hand).',
    '',
  );
  return `${out.join('\n')}\n`;
}
