/**
 * The court papers as a reader gets them: the PDF's text read back with pdftotext, and the HTML as a browser
 * would parse it. Every hash is there, every page is numbered and carries the manifest hash, hostile strings
 * show as inert visible text, and the same ledger gives the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../../shared/errors.ts';
import { renderCertificateHtml, renderCertificatePdf } from '../../../shared/papers/certificate.ts';
import { renderCustodyHtml, renderCustodyPdf } from '../../../shared/papers/custody.ts';
import { input, item, pdfPages, pdfText, sha } from './helpers.ts';

const noSpace = (s: string): string => s.replace(/\s+/g, '');
/** pdftotext breaks wrapped lines where the PDF does: compare with runs of white space as one space. */
const oneLine = (s: string): string => s.replace(/\s+/g, ' ');

const batches = [
  Array.from({ length: 14 }, (_, n) => item(`AWSLogs/111122223333/CloudTrail/ap-south-1/2026/03/01/f${n}.json`, `{"Records":[${n}]}`)),
  [item('aws/cloudtrail-api/111122223333/eu-west-1/management/w/page-00001.json', '{"Events":[]}', 'api:aws-cloudtrail?region=eu-west-1&StartTime=2026-03-01T00:00:00Z&EndTime=2026-03-02T00:00:00Z&MaxResults=50')],
];

const RLO = '\u202E';
const hostileKey = `evil${RLO}gnp.exe<script>alert(1)</script>\u0000nul😀${'k'.repeat(400)}`;
const hostileActor = `mallory${RLO}<img src=x onerror=alert(1)>@host`;
const hostile = () => input([[item(hostileKey, 'x'), item('plain.json', '{}')]], { actor: hostileActor, extra: [{ action: 'noted', detail: { kind: 'remark', text: `see <script>x</script> ${RLO} 😀` } }] });

describe('Function: renderCertificatePdf', () => {
  it('holds the SHA-256 of every record and of every sealed manifest, with the algorithm named', async () => {
    const paper = input(batches);
    const text = await pdfText(await renderCertificatePdf(paper));
    for (const i of batches.flat()) expect(text).toContain(i.sha256);
    const manifests = paper.entries.filter((e) => e.action === 'sealed').map((e) => e.detail!.sha256 as string);
    expect(manifests).toHaveLength(2);
    for (const m of manifests) expect(text).toContain(m);
    expect(text).toContain('FIPS 180-4');
    expect(text).toMatch(/Section 63/);
    expect(text).toContain('PART A');
    expect(text).toContain('PART B');
  });

  it('states each record\'s manner of production and the system that held it, from its origin', async () => {
    const text = oneLine(await pdfText(await renderCertificatePdf(input(batches))));
    expect(text).toContain('API call aws-cloudtrail with parameters region=eu-west-1, StartTime=2026-03-01T00:00:00Z');
    expect(text).toContain('collected from a file');
    expect(text).toContain('111122223333');
    expect(text).toContain('ap-south-1');
    expect(text).toContain('eu-west-1');
  });

  it('lists the volume snapshots the preservation steps named, and says Amber did not hash them', async () => {
    const snapshot = { action: 'accessed' as const, detail: { step: 'create-snapshots', snapshots: [{ snapshotId: 'snap-0123456789abcdef0', volumeId: 'vol-0abc', accountId: '111122223333', region: 'ap-south-1' }] } };
    const text = oneLine(await pdfText(await renderCertificatePdf(input(batches, { extra: [snapshot] }))));
    expect(text).toContain('snap-0123456789abcdef0');
    expect(text).toContain('vol-0abc');
    expect(text).toContain('did not hash their blocks');
    expect(oneLine(await pdfText(await renderCertificatePdf(input(batches))))).not.toContain('Volume snapshots');
  });

  it('states the latest CloudTrail digest validation the ledger records, or that none was run', async () => {
    const digest = { action: 'verified' as const, detail: { what: 'cloudtrail-digests', intact: true, unsignedDigests: 1, validDigests: 24, invalidDigests: 0, validLogFiles: 96, invalidLogFiles: 0 } };
    const text = oneLine(await pdfText(await renderCertificatePdf(input(batches, { extra: [digest] }))));
    expect(text).toContain('VALID: 24 valid and 0 invalid digest files, 96 valid and 0 invalid log files');
    expect(oneLine(await pdfText(await renderCertificatePdf(input(batches))))).toContain('not run on this case (amber validate-logs checks');
  });

  it('numbers every page "Page N of M" and prints the latest manifest SHA-256 and the ledger head on each', async () => {
    const paper = input(batches);
    const pdf = await renderCertificatePdf(paper);
    const pages = await pdfPages(pdf);
    expect(pages).toBeGreaterThan(2);
    const latest = paper.entries.filter((e) => e.action === 'sealed').at(-1)!.detail!.sha256 as string;
    for (let n = 1; n <= pages; n += 1) {
      const text = await pdfText(pdf, n);
      expect(text).toContain(`Page ${n} of ${pages}`);
      expect(text).toContain(latest);
      expect(text).toContain(paper.ledgerHead.sha256);
    }
  });

  it('shows RTL overrides, NUL and emoji as visible U+ escapes and tags as text, and wraps a 400-character key without losing any of it', async () => {
    const text = await pdfText(await renderCertificatePdf(hostile()));
    expect(text).not.toContain(RLO);
    expect(text).not.toContain('\u0000');
    expect(text).toContain('[U+202E]');
    expect(text).toContain('[U+0000]');
    expect(text).toContain('[U+1F600]');
    expect(text).toContain('<script>alert(1)</script>');
    expect(noSpace(text)).toContain(noSpace(`evil[U+202E]gnp.exe<script>alert(1)</script>[U+0000]nul[U+1F600]${'k'.repeat(400)}`));
    expect(text).toContain('mallory[U+202E]<img src=x onerror=alert(1)>@host');
  });

  it('gives the same bytes for the same ledger and issued-at, with the PDF dates set from that time', async () => {
    const a = await renderCertificatePdf(input(batches));
    const b = await renderCertificatePdf(input(batches));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const later = await renderCertificatePdf(input(batches, { issuedAt: '2026-03-05T12:00:00.000Z' }));
    expect(Buffer.from(later).equals(Buffer.from(a))).toBe(false);
    expect(Buffer.from(a).toString('latin1')).toContain('/CreationDate (D:20260302090000Z)');
  });

  it('refuses to certify a case whose verification found failures nobody accepted', async () => {
    const broken = input(batches, { verification: { intact: false, failures: [{ kind: 'hash-mismatch', key: batches[0]![0]!.key, reason: 'sha256 differs' }] } });
    await expect(renderCertificatePdf(broken)).rejects.toBeInstanceOf(IntegrityError);
    expect(() => renderCertificateHtml(broken)).toThrow(/hash-mismatch .*no certificate is issued/);
  });

  it('lists failures a person accepted, and marks the record that no longer matches', async () => {
    const bad = batches[0]![0]!;
    const paper = input(batches, {
      verification: {
        accepted: [{ failure: { kind: 'hash-mismatch', key: bad.key, reason: 'x' }, acceptedIn: 40, reason: 'restored from the provider copy' }],
      },
    });
    const withBad = { ...paper, verification: { ...paper.verification, items: paper.verification.items.map((i) => (i.key === bad.key ? { ...i, ok: false, storedSha256: sha('other') } : i)) } };
    const text = await pdfText(await renderCertificatePdf(withBad));
    expect(text).toContain('restored from the provider copy');
    expect(text).toContain('DOES NOT MATCH');
    expect(text).toContain(sha('other'));
  });
});

describe('Function: renderCertificateHtml', () => {
  it('carries the same hashes as the PDF and escapes every hostile string', () => {
    const html = renderCertificateHtml(hostile());
    for (const i of hostile().entries.flatMap((e) => e.items ?? [])) expect(html).toContain(i.sha256);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).not.toContain(RLO);
    expect(html).not.toContain('\u0000');
    expect(html).toContain('[U+202E]');
    expect(html).toContain('[U+0000]');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('😀');
    expect(html).toContain("default-src 'none'");
  });

  it('is byte-identical for the same input', () => {
    expect(renderCertificateHtml(input(batches))).toBe(renderCertificateHtml(input(batches)));
  });
});

describe('Function: renderCustodyPdf', () => {
  const notes = [
    { action: 'noted' as const, detail: { kind: 'legal-request', provider: 'Example Cloud', portal: 'https://lers.example', reference: 'LR-2026-17', date: '2026-03-02', dataLocation: 'ap-south-1', jurisdiction: 'IN', status: 'submitted' } },
    { action: 'noted' as const, detail: { kind: 'transfer', from: 'A. Analyst', to: 'B. Examiner', reason: 'forensic examination' } },
    { action: 'exported' as const, detail: { what: 'certificate', kind: 'certificate', format: 'pdf', to: '/out/c.pdf', bytes: 100, sha256: sha('cert') } },
    { action: 'verified' as const, detail: { intact: true, items: 15, failures: 0, accepted: 0, warnings: 0 } },
  ];

  it('lists every entry, the notes with their particulars, exports with their hash and verifications, page numbered with the manifest hash', async () => {
    const paper = input(batches, { extra: notes });
    const withRecord = { ...paper, verificationRecords: [{ key: 'cases/C/_amber/verifications/20260301T1100-abc.json', sha256: sha('rec'), checkedAt: '2026-03-01T11:00:00.000Z', actor: 'auditor@test', failures: [{ kind: 'missing-object', reason: 'preserved object is missing from the locker', where: 'cases/C/x' }] }] };
    const pdf = await renderCustodyPdf(withRecord);
    const text = await pdfText(pdf);
    for (const e of paper.entries) expect(text).toContain(`prev SHA-256 ${e.prev}`);
    for (const s of ['Example Cloud', 'LR-2026-17', 'https://lers.example', 'Jurisdiction: IN', 'From: A. Analyst', 'To: B. Examiner', 'forensic examination', sha('cert'), 'missing-object', sha('rec'), 'intact: 15 records re-hashed']) {
      expect(text).toContain(s);
    }
    const pages = await pdfPages(pdf);
    const latest = paper.entries.filter((e) => e.action === 'sealed').at(-1)!.detail!.sha256 as string;
    for (let n = 1; n <= pages; n += 1) {
      const page = await pdfText(pdf, n);
      expect(page).toContain(`Page ${n} of ${pages}`);
      expect(page).toContain(latest);
    }
  });

  it('renders hostile actors and note text as visible text in PDF and HTML', async () => {
    const text = await pdfText(await renderCustodyPdf(hostile()));
    expect(text).toContain('[U+202E]');
    expect(text).not.toContain(RLO);
    expect(text).toContain('see <script>x</script>');
    const html = renderCustodyHtml(hostile());
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('see &#60;script&#62;x&#60;/script&#62; [U+202E] 😀');
  });

  it('continues a note taller than a page onto the next page without losing any of it', async () => {
    const words = Array.from({ length: 700 }, (_, n) => `w${n}`).join(' ');
    const text = await pdfText(await renderCustodyPdf(input(batches, { extra: [{ action: 'noted', detail: { kind: 'remark', text: words } }] })));
    for (const n of [0, 350, 699]) expect(text).toMatch(new RegExp(`\\bw${n}\\b`));
    // Every word appears twice: in the notes table and in the ledger entry's particulars.
    const count = (text.match(/\bw\d+\b/g) ?? []).length;
    expect(count).toBe(1400);
  });

  it('gives the same bytes for the same ledger and issued-at', async () => {
    const a = await renderCustodyPdf(input(batches, { extra: notes }));
    const b = await renderCustodyPdf(input(batches, { extra: notes }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});
