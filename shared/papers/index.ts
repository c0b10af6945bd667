/** The court papers: the Section 63 certificate and the chain-of-custody report, as PDF or HTML. */
export { renderCertificateHtml, renderCertificatePdf, certificateDocument, SECTION_63, HASH_ALGORITHM } from './certificate.ts';
export { renderCustodyHtml, renderCustodyPdf, custodyDocument } from './custody.ts';
export { readPapersInput, readVerificationRecords, manifestsOf, type PapersInput, type ManifestRef, type VerificationRecordRef } from './input.ts';
export { NOTE_KINDS, NOTE_FIELDS, noteDetail, type NoteKind } from './notes.ts';
