/**
 * Papers from a case collected the way a user collects one, read twice: the same ledger and issued-at give
 * the same bytes, and every record the ledger holds is on the certificate with its hash.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { renderCertificateHtml, renderCertificatePdf } from '../../../shared/papers/certificate.ts';
import { renderCustodyPdf } from '../../../shared/papers/custody.ts';
import { readPapersInput } from '../../../shared/papers/input.ts';
import { TEST_ACTOR } from '../../helpers/case.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { pdfText, sha } from './helpers.ts';

async function collected(): Promise<{ store: LocalObjectStore; bodies: string[] }> {
  const base = await tempDir();
  const bodies = ['{"Records":[1]}\n', 'a line\n', '{"Events":[]}\n'];
  const names = ['AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/x.json', 'app/log.txt', 'deep/er/page.json'];
  for (const [i, name] of names.entries()) {
    await mkdir(join(base, 'src', name, '..'), { recursive: true });
    await writeFile(join(base, 'src', name), bodies[i]!);
  }
  const store = await LocalObjectStore.open(join(base, 'locker'), { create: true });
  await collectEvidence({ store, caseName: 'C', sources: [await LocalEvidenceSource.open(join(base, 'src'))], actor: TEST_ACTOR });
  return { store, bodies };
}

describe('Function: readPapersInput', () => {
  it('gives papers with the same bytes for the same ledger and issued-at, holding every record\'s SHA-256', async () => {
    const { store, bodies } = await collected();
    const issuedAt = '2026-03-02T09:00:00.000Z';
    const read = async () => {
      const verification = await verifyCase({ store, caseName: 'C', actor: TEST_ACTOR, record: false, clock: () => new Date(issuedAt) });
      return readPapersInput(store, 'C', { verification, issuedAt, issuedBy: TEST_ACTOR.principal, tool: TEST_ACTOR.tool });
    };
    const [a, b] = [await read(), await read()];
    expect(a.verification.intact).toBe(true);
    const [pa, pb] = [await renderCertificatePdf(a), await renderCertificatePdf(b)];
    expect(Buffer.from(pa).equals(Buffer.from(pb))).toBe(true);
    expect(renderCertificateHtml(a)).toBe(renderCertificateHtml(b));
    expect(Buffer.from(await renderCustodyPdf(a)).equals(Buffer.from(await renderCustodyPdf(b)))).toBe(true);
    const text = await pdfText(pa);
    for (const body of bodies) expect(text).toContain(sha(body));
    expect(text).toContain(a.ledgerHead.sha256);
  });
});
