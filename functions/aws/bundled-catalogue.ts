/**
 * The detection catalogue as the Lambda bundle carries it: a JSON module generated from shared/detections by
 * `npm run build:catalogue` (scripts/build/catalogue.ts), holding the catalogue's JSON brotli-compressed with
 * its SHA-256 (catalogue-codec.ts). The function reads no files and parses no YAML at run time; decoding takes
 * about a millisecond and the hash is checked. A test fails when the module is out of date with the detection
 * folders.
 */
import type { Detection } from '../../shared/detections/catalogue.ts';
import { decodeCatalogue, type EncodedCatalogue } from './catalogue-codec.ts';
import generated from './generated/catalogue.json' with { type: 'json' };

let decoded: readonly Detection[] | undefined;

/** Every detection of the catalogue, sorted by id (decoded once per container). */
export function bundledCatalogue(): readonly Detection[] {
  decoded ??= decodeCatalogue(generated as EncodedCatalogue);
  return decoded;
}
