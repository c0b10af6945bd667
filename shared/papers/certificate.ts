/**
 * The certificate under Section 63 of the Bharatiya Sakshya Adhiniyam, 2023 (India), in the form of the Act's
 * Schedule: Part A for the party producing the electronic records, Part B for the expert, each with blank
 * name, signature, date, time and place for the persons who sign. Amber fills in what its ledger and checks
 * establish (the records, the systems that held them, how each was produced, every SHA-256) and says what it
 * could not check; the statements become the signatories' only when they sign.
 */
import { IntegrityError } from '../errors.ts';
import type { EvidenceItem } from '../evidence/model.ts';
import { renderHtml } from './html.ts';
import { renderPdf } from './pdf.ts';
import { sizeText, type Block, type PaperDocument, type Row } from './document.ts';
import { acquiringEntries, itemsByKey, manifestsOf, originFacts, snapshotsOf, type PapersInput } from './input.ts';

/** The statute, as cited throughout. */
export const SECTION_63 = 'Section 63 of the Bharatiya Sakshya Adhiniyam, 2023 (Act 47 of 2023)';
export const HASH_ALGORITHM = 'SHA-256 (Secure Hash Standard, FIPS 180-4)';

/** The certificate as a PDF. */
export async function renderCertificatePdf(input: PapersInput): Promise<Uint8Array> {
  return await renderPdf(certificateDocument(input));
}

/** The certificate as a self-contained HTML page (the same text as the PDF). */
export function renderCertificateHtml(input: PapersInput): string {
  return renderHtml(certificateDocument(input));
}

/** Date and time in India Standard Time (UTC+05:30), as the Schedule asks: DD/MM/YYYY and 24-hour HH:MM. */
/** The rows every paper opens with: the case, when, by whom and with what it was issued, and the locker. */
export function issueRows(input: PapersInput): Array<{ label: string; value: string }> {
  return [
    { label: 'Case', value: input.case },
    { label: 'Issued at', value: `${input.issuedAt} (UTC); ${istText(input.issuedAt)}` },
    { label: 'Issued by (operator)', value: input.issuedBy },
    { label: 'Issued with', value: input.tool },
    { label: 'Evidence locker', value: input.locker },
  ];
}

export function istText(iso: string): string {
  const t = new Date(Date.parse(iso) + 330 * 60_000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(t.getUTCDate())}/${p(t.getUTCMonth() + 1)}/${t.getUTCFullYear()} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())} hours IST`;
}

/** Lines printed on every page: the case, the ledger head and the latest sealed manifest's SHA-256. */
export function runningLines(input: PapersInput): string[] {
  const latest = manifestsOf(input.entries).at(-1);
  return [
    `Case ${input.case} - ledger head: entry ${input.ledgerHead.seq}, SHA-256 ${input.ledgerHead.sha256}`,
    latest ? `Latest sealed manifest (entry ${latest.seq}) SHA-256 ${latest.sha256}` : 'No sealed manifest: the case was never sealed',
  ];
}

/** The certificate's content. */
export function certificateDocument(input: PapersInput): PaperDocument {
  if (!input.verification.intact) {
    // Never certify what verification found broken: accepted failures are stated, unaccepted ones refuse.
    const first = input.verification.failures[0];
    throw new IntegrityError(`case ${input.case}: verification found ${input.verification.failures.length} failure(s) not accepted${first ? ` (first: ${first.kind}${first.key ? ` at ${first.key}` : ''}: ${first.reason})` : ''}, so no certificate is issued`, {
      hint: `run \`amber verify --case ${input.case}\` to see every failure; if a person establishes why they happened, \`amber accept --case ${input.case} --reason "..."\` records it, and the certificate then lists them as accepted`,
    });
  }
  const items = itemsByKey(input.entries);
  const acquiredBy = acquiringEntries(input.entries);
  const manifests = manifestsOf(input.entries);
  const checked = new Map(input.verification.items.map((i) => [i.key, i]));
  const v = input.verification;
  const totalBytes = items.reduce((a, i) => a + i.size, 0);
  const facts = new Map(items.map((i) => [i.id, originFacts(i, acquiredBy.get(i.id))]));
  const blocks: Block[] = [];

  blocks.push({
    kind: 'paragraph',
    text:
      `This certificate is given under ${SECTION_63}, sub-section (4), in the form set out in the Schedule to that Act: ` +
      'Part A is for the party producing the electronic records, Part B for the expert. Sections 1 to 4 identify the records and ' +
      'describe the manner in which they were produced (sub-section (4)(a)), give the particulars of the systems involved ' +
      '(sub-section (4)(b)), and deal with the conditions of sub-section (2) (sub-section (4)(c)). They were filled in by Amber from ' +
      `the custody ledger and sealed manifests of case ${input.case}; Parts A and B take effect only when signed by the persons named in them.`,
  });
  blocks.push({
    kind: 'fields',
    rows: [
      ...issueRows(input),
      { label: 'Ledger head', value: `entry ${input.ledgerHead.seq}, SHA-256 ${input.ledgerHead.sha256}`, mono: true },
      { label: 'Electronic records', value: `${items.length} (${sizeText(totalBytes)} in all)` },
      { label: 'Hash algorithm', value: HASH_ALGORITHM },
    ],
  });

  // Integrity, stated first: nothing below is certified beyond what this check found.
  blocks.push({ kind: 'heading', text: 'Integrity check made before issuing' });
  blocks.push(...integrityBlocks(input));

  blocks.push({ kind: 'heading', text: '1. The electronic records and the manner of their production (Section 63(4)(a))' });
  blocks.push({
    kind: 'paragraph',
    text: `${items.length} electronic record${items.length === 1 ? '' : 's'}, each preserved write-once in the evidence locker under the key shown, with the SHA-256 computed while its bytes were stored and recorded in the custody ledger entry named.`,
  });
  items.forEach((item, n) => {
    const entry = acquiredBy.get(item.id);
    const f = facts.get(item.id)!;
    const check = checked.get(item.key);
    blocks.push({ kind: 'subheading', text: `Record ${n + 1} of ${items.length}` });
    blocks.push({
      kind: 'fields',
      rows: [
        { label: 'Key in the locker', value: item.key, mono: true },
        { label: 'Size', value: sizeText(item.size) },
        { label: 'SHA-256', value: item.sha256, mono: true },
        { label: 'Media type', value: item.mediaType },
        { label: 'Origin', value: item.origin, mono: true },
        { label: 'Acquired at', value: item.acquiredAt },
        { label: 'Acquired by', value: item.acquiredBy },
        { label: 'Ledger entry', value: entry ? `${entry.seq} (${entry.action}, ${entry.tool})` : 'none found' },
        { label: 'Manner of production', value: f.manner },
        ...(item.derivedFrom ? [{ label: 'Derived from item', value: item.derivedFrom, mono: true }] : []),
        ...(item.versionId ? [{ label: 'S3 version id', value: item.versionId, mono: true }] : []),
        { label: 'Retained until', value: item.retainUntil ?? 'no retention recorded' },
        { label: 'Checked at issue', value: itemCheck(check) },
      ],
    });
  });

  blocks.push({ kind: 'heading', text: '2. The systems that held the records (Section 63(4)(b) and (3))' });
  blocks.push({
    kind: 'paragraph',
    text:
      'As the records\' origins and the paths their providers deliver them under state (not confirmed with the providers by Amber). ' +
      'Under Section 63(3), the computers or communication devices used over the period for the activity are treated as a single one.',
  });
  blocks.push({ kind: 'table', columns: [{ title: 'Provider', width: 3 }, { title: 'Account / subscription / project', width: 3 }, { title: 'Region', width: 2 }, { title: 'Service', width: 4 }, { title: 'Records', width: 1 }], rows: systemRows(items, facts), empty: 'no records' });
  const snapshots = snapshotsOf(input.entries);
  if (snapshots.length > 0) {
    blocks.push({ kind: 'subheading', text: 'Volume snapshots named in the ledger' });
    blocks.push({
      kind: 'paragraph',
      text: 'Snapshots are kept by the cloud provider in the account shown, not in the evidence locker: Amber recorded their identifiers as the preservation steps reported them and did not hash their blocks. Records of the instance taken with them (API responses) are in section 1.',
    });
    blocks.push({
      kind: 'table',
      columns: [{ title: 'Snapshot', width: 4 }, { title: 'Volume', width: 4 }, { title: 'Account', width: 3 }, { title: 'Region', width: 2.5 }, { title: 'Ledger entry', width: 3 }],
      rows: snapshots.map((s) => ({ cells: [s.snapshotId, s.volumeId ?? 'not stated', s.accountId ?? 'not stated', s.region ?? 'not stated', `${s.seq}${s.step ? ` (${s.step})` : ''}, ${s.at}`] })),
      empty: '',
    });
  }
  const tools = [...new Set(items.map((i) => acquiredBy.get(i.id)?.tool ?? 'unknown'))].sort();
  blocks.push({
    kind: 'fields',
    rows: [
      { label: 'Preserved with', value: tools.join(', ') },
      { label: 'Evidence locker', value: input.locker },
      { label: 'Locker protection', value: input.locker.startsWith('s3://') ? 'S3 bucket; Object Lock retention as recorded per record' : 'local folder: files read-only and never overwritten by Amber; this protects against mistakes, not against a person with the same file-system rights (any change is detected by verification)' },
    ],
  });

  blocks.push({ kind: 'heading', text: '3. The conditions of Section 63(2) (Section 63(4)(c))' });
  blocks.push({ kind: 'subheading', text: '(a) Regular use of the systems' });
  blocks.push({ kind: 'paragraph', text: 'The systems in section 2 are the services named there, which produce these records as part of their ordinary operation. Amber cannot establish who had lawful control over them or over what period they were used regularly: the party states this in Part A.' });
  blocks.push({ kind: 'subheading', text: '(b) How information was fed into the systems' });
  blocks.push({ kind: 'paragraph', text: 'Logs and API responses of this kind are written by the services themselves as activity happens, and delivered or returned as recorded in the origin of each record. Amber copied each record as it found it and changed nothing: the manner of production of each record is in section 1.' });
  blocks.push({ kind: 'subheading', text: '(c) Proper operation' });
  blocks.push({ kind: 'paragraph', text: `Of Amber and the evidence locker: see "Integrity check made before issuing" above. ${v.intact && v.accepted.length === 0 ? 'Every record was re-read and its SHA-256 matched the one recorded when it was preserved.' : ''} Of the source systems before preservation: Amber cannot check this; the party states it in Part A.` });
  blocks.push({ kind: 'subheading', text: '(d) The records reproduce the information fed in' });
  blocks.push({ kind: 'paragraph', text: 'Each record is a byte-for-byte copy of what its origin returned: no conversion, no re-encoding. Copies derived by Amber (parsed forms used for analysis) are listed as such, with the record they came from.' });

  blocks.push({ kind: 'heading', text: '4. Hash values and the algorithm used (the hash report)' });
  blocks.push({ kind: 'paragraph', text: 'This section is the hash report to be enclosed with the certificate. Anyone can recompute a value with a standard tool, for example `sha256sum FILE` or `openssl dgst -sha256 FILE`, on the preserved copy.' });
  blocks.push({ kind: 'subheading', text: 'Electronic records' });
  blocks.push({
    kind: 'table',
    columns: [{ title: '#', width: 1 }, { title: 'Key in the locker', width: 10 }, { title: 'Size (bytes)', width: 2 }],
    rows: items.map((item, n) => ({ cells: [String(n + 1), item.key, String(item.size)], lines: [`SHA-256 ${item.sha256}`] })),
    empty: 'no records',
  });
  blocks.push({ kind: 'subheading', text: 'Sealed manifests (each lists every record of the case at the time it was sealed)' });
  blocks.push({
    kind: 'table',
    columns: [{ title: 'Entry', width: 1 }, { title: 'Sealed at', width: 3 }, { title: 'Manifest', width: 8 }, { title: 'Records', width: 1 }],
    rows: manifests.map((m) => ({ cells: [String(m.seq), m.sealedAt, m.key, m.items === undefined ? '' : String(m.items)], lines: [`SHA-256 ${m.sha256}`] })),
    empty: 'none: the case was never sealed',
  });

  blocks.push(...partA(input, items, facts));
  blocks.push(...partB(input, items.length));
  return { title: `Certificate under Section 63(4)(c), Bharatiya Sakshya Adhiniyam, 2023 - case ${input.case}`, running: runningLines(input), issuedAt: input.issuedAt, subject: `${SECTION_63}: electronic records of case ${input.case}`, blocks };
}

function itemCheck(check: PapersInput['verification']['items'][number] | undefined): string {
  if (!check) return 'not checked';
  if (check.ok) return `re-read at issue: SHA-256 and size match the recorded values`;
  return `DOES NOT MATCH the recorded values (stored SHA-256 ${check.storedSha256 ?? 'unreadable'}); see the accepted failures above`;
}

/** What Amber checked before issuing, and what it could not. */
export function integrityBlocks(input: PapersInput): Block[] {
  const v = input.verification;
  const checks = v.signing?.signatures ?? [];
  const out: Block[] = [
    {
      kind: 'paragraph',
      strong: true,
      text: v.intact
        ? v.accepted.length === 0
          ? `Amber's verification at ${v.checkedAt} found the case intact.`
          : `Amber's verification at ${v.checkedAt} found failures that a person accepted (listed below); no other failure.`
        : `Amber's verification at ${v.checkedAt} found the case BROKEN: ${v.failures.length} failure${v.failures.length === 1 ? '' : 's'} not accepted (listed below).`,
    },
    {
      kind: 'fields',
      rows: [
        { label: 'Records re-hashed', value: `${v.items.filter((i) => i.ok).length} of ${v.items.length} match their recorded SHA-256 and size (${sizeText(v.bytes)} read)` },
        { label: 'Custody ledger', value: `${v.ledgerEntries} entries; every entry chained to the previous one by SHA-256; checkpoints and sealed manifests checked` },
        {
          label: 'Signatures',
          value: v.signing
            ? `${checks.filter((c) => c.ok).length} of ${checks.length} signatures (Ed25519) valid, by the key recorded in ledger entry ${v.signing.keyedIn}, fingerprint ${v.signing.fingerprint}`
            : 'not checked: the case is not signed (no signing key is recorded in its ledger)',
        },
        { label: 'Warnings', value: v.warnings.length === 0 ? 'none' : v.warnings.map((w) => `${w.key}: ${w.reason}`).join('; ') },
        { label: 'CloudTrail digest validation', value: digestValidation(input) },
      ],
    },
  ];
  if (v.failures.length > 0) {
    out.push({ kind: 'table', columns: [{ title: 'Failure', width: 2 }, { title: 'Where', width: 4 }, { title: 'Reason', width: 6 }], rows: v.failures.map((f) => ({ cells: [f.kind, f.key ?? (f.seq !== undefined ? `entry ${f.seq}` : ''), f.reason] })), empty: '' });
  }
  if (v.accepted.length > 0) {
    out.push({ kind: 'subheading', text: 'Failures accepted by a person (amber accept)' });
    out.push({
      kind: 'table',
      columns: [{ title: 'Failure', width: 2 }, { title: 'Where', width: 4 }, { title: 'Accepted in entry', width: 2 }, { title: 'Reason given', width: 5 }],
      rows: v.accepted.map((a) => ({ cells: [a.failure.kind, a.failure.key ?? (a.failure.seq !== undefined ? `entry ${a.failure.seq}` : ''), String(a.acceptedIn), a.reason] })),
      empty: '',
    });
  }
  out.push({
    kind: 'paragraph',
    text:
      'Not checked by Amber: the operation of the source systems before the records were preserved; whether a provider delivered all of its records; ' +
      'the accuracy of the collecting machine\'s clock; and, without a signing key and a copy of the ledger head kept outside the locker, a consistent rewrite of the whole case by someone with write access to the locker.',
  });
  return out;
}

/** The latest CloudTrail log file integrity validation (amber validate-logs) the ledger records, in words. */
export function digestValidation(input: PapersInput): string {
  const last = input.entries.filter((e) => e.action === 'verified' && e.detail?.what === 'cloudtrail-digests').at(-1);
  if (!last) return 'not run on this case (amber validate-logs checks CloudTrail\'s own signed digest files over the preserved log files)';
  return `ledger entry ${last.seq} at ${last.at}: ${digestSummary(last.detail ?? {})}`;
}

/** A `verified` entry of amber validate-logs, in words. */
export function digestSummary(d: Readonly<Record<string, unknown>>): string {
  const n = (k: string): string => (typeof d[k] === 'number' ? String(d[k]) : '?');
  return `${d.intact === true ? 'VALID' : 'FAILED'}: ${n('validDigests')} valid and ${n('invalidDigests')} invalid digest files, ${n('validLogFiles')} valid and ${n('invalidLogFiles')} invalid log files, ${n('unsignedDigests')} digest(s) whose signature was not in the copy`;
}

function systemRows(items: readonly EvidenceItem[], facts: ReadonlyMap<string, ReturnType<typeof originFacts>>): Row[] {
  const counts = new Map<string, { cells: string[]; n: number }>();
  for (const item of items) {
    const f = facts.get(item.id)!;
    const cells = [f.provider, f.account ?? 'not stated', f.region ?? 'not stated', f.service];
    const key = JSON.stringify(cells);
    const seen = counts.get(key) ?? { cells, n: 0 };
    seen.n += 1;
    counts.set(key, seen);
  }
  return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => ({ cells: [...v.cells, String(v.n)] }));
}

const SIGN = ['Name', 'Son / daughter / spouse of', 'Residing / employed at'];
const SIGNED = ['Signature', 'Date (DD/MM/YYYY)', 'Time (IST, 24-hour format)', 'Place'];

function partA(input: PapersInput, items: readonly EvidenceItem[], facts: ReadonlyMap<string, ReturnType<typeof originFacts>>): Block[] {
  const kinds = new Set(items.map((i) => facts.get(i.id)!.provider));
  const cloud = [...kinds].some((k) => !k.startsWith('not stated') && !k.startsWith('Amber'));
  const ids = [...new Set(items.flatMap((i) => facts.get(i.id)!.account ?? []))].sort();
  return [
    { kind: 'heading', text: 'PART A - to be filled by the party producing the electronic records' },
    { kind: 'paragraph', text: 'I, the person named below, solemnly affirm and state as follows.' },
    {
      kind: 'paragraph',
      text: `I have produced the electronic records listed in section 1 of this certificate (case ${input.case}), taken from the digital record source described here and in section 2:`,
    },
    {
      kind: 'fields',
      rows: [
        { label: 'Device / record source', value: cloud ? '[X] Cloud   [ ] Server   [ ] Computer / storage media   [ ] Other' : '[ ] Cloud   [ ] Server   [X] Computer / storage media   [ ] Other' },
        { label: 'Cloud ID (account, subscription, project)', value: ids.length ? ids.join(', ') : 'not stated by the records: fill in by hand' },
        { label: 'Make and model, serial number, other particulars', value: `see section 2; preserved with ${input.tool} into ${input.locker}` },
      ],
    },
    {
      kind: 'paragraph',
      text:
        'The source was under lawful control for regularly creating, storing or processing information for the purposes of regular activities; during that period it was working properly ' +
        'and the relevant information was regularly fed into it in the ordinary course of business. If at any time it was not working properly or was out of operation, that did not affect the electronic records or their accuracy.',
    },
    { kind: 'paragraph', text: 'The source is (strike out what does not apply): owned / maintained / managed / operated by me.' },
    { kind: 'paragraph', text: `The hash values of the electronic records are those in section 4 of this certificate, obtained with the algorithm ${HASH_ALGORITHM}. The hash report is section 4.` },
    { kind: 'blanks', labels: [...SIGN, ...SIGNED] },
  ];
}

function partB(input: PapersInput, count: number): Block[] {
  return [
    { kind: 'heading', text: 'PART B - to be filled by the expert' },
    { kind: 'paragraph', text: 'I, the person named below, solemnly affirm and state as follows.' },
    {
      kind: 'paragraph',
      text:
        `The ${count} electronic record${count === 1 ? '' : 's'} of case ${input.case} listed in section 1, obtained from the sources described in section 2 in the manner described for each, ` +
        'were examined by me. Their hash values are those in section 4, obtained with the algorithm ' +
        `${HASH_ALGORITHM}; the check recorded under "Integrity check made before issuing" recomputed them at ${input.verification.checkedAt}.`,
    },
    { kind: 'blanks', labels: ['Name', 'Designation', ...SIGN.slice(1), ...SIGNED] },
  ];
}
