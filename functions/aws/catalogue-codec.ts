/**
 * The format of the generated detection catalogue (functions/aws/generated/catalogue.json): the catalogue's
 * JSON, brotli-compressed and base64-encoded, with its SHA-256. Kept apart from bundled-catalogue.ts so the
 * generator can read and write the format without importing the file it regenerates.
 */
import { createHash } from 'node:crypto';
import { brotliDecompressSync } from 'node:zlib';
import { IntegrityError } from '../../shared/errors.ts';
import type { Detection } from '../../shared/detections/catalogue.ts';

/** The generated module's shape. */
export interface EncodedCatalogue {
  readonly format: 'amber-catalogue/br+base64';
  readonly detections: number;
  /** Size of the catalogue's JSON. */
  readonly bytes: number;
  /** SHA-256 of the catalogue's JSON. */
  readonly sha256: string;
  /** The JSON, brotli-compressed, base64. */
  readonly data: string;
}

/** Decodes a generated catalogue and checks its hash. */
export function decodeCatalogue(encoded: EncodedCatalogue): Detection[] {
  const json = brotliDecompressSync(Buffer.from(encoded.data, 'base64'));
  const sha256 = createHash('sha256').update(json).digest('hex');
  if (encoded.format !== 'amber-catalogue/br+base64' || sha256 !== encoded.sha256) {
    throw new IntegrityError(`the bundled detection catalogue does not match its recorded SHA-256 (${sha256} vs ${encoded.sha256})`, {
      hint: 'rebuild it with npm run build:catalogue and redeploy',
    });
  }
  return JSON.parse(json.toString('utf8')) as Detection[];
}
