/**
 * Generates functions/aws/generated/catalogue.json: the detection catalogue (shared/detections/<id>/
 * detection.yml + query.sql, validated by loadCatalogue) as one JSON module, so the run-detections Lambda
 * bundle carries it without reading files or parsing YAML at run time.
 *
 * The catalogue's JSON (about 4 kB per detection, mostly commented SQL) is stored brotli-compressed and
 * base64-encoded with its SHA-256: the bundle grows about 1 kB per detection instead of 4 kB, which keeps
 * run-detections under its 1 MB target as the catalogue grows; the function checks the hash when it decodes.
 * Run after changing a detection:
 *
 *   npm run build:catalogue            writes the file
 *   npm run build:catalogue -- --check exits 1 when the file is out of date (the test suite checks this too)
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';
import { loadCatalogue } from '../../shared/detections/catalogue.ts';
import { decodeCatalogue, type EncodedCatalogue } from '../../functions/aws/catalogue-codec.ts';

/** Where the generated catalogue lives. */
export const GENERATED_CATALOGUE = fileURLToPath(new URL('../../functions/aws/generated/catalogue.json', import.meta.url));

/** The catalogue as the Lambda bundle carries it, as JSON text (detections sorted by id, folders relative). */
export async function catalogueJson(): Promise<string> {
  const detections = await loadCatalogue();
  return JSON.stringify(detections.map((d) => ({ ...d, dir: `shared/detections/${d.id}` })));
}

/** The generated module's content for a catalogue's JSON text. */
export function encodeCatalogue(json: string): EncodedCatalogue {
  const bytes = Buffer.from(json, 'utf8');
  return {
    format: 'amber-catalogue/br+base64',
    detections: (JSON.parse(json) as unknown[]).length,
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    data: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64'),
  };
}

/** True when the generated file decodes to exactly this catalogue. */
export async function isUpToDate(json: string): Promise<boolean> {
  try {
    const current = JSON.parse(await readFile(GENERATED_CATALOGUE, 'utf8')) as EncodedCatalogue;
    return JSON.stringify(decodeCatalogue(current)) === json;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const json = await catalogueJson();
  if (process.argv.includes('--check')) {
    if (!(await isUpToDate(json))) {
      console.error(`${GENERATED_CATALOGUE} is out of date with shared/detections: run npm run build:catalogue`);
      process.exitCode = 1;
    }
    return;
  }
  const encoded = encodeCatalogue(json);
  await writeFile(GENERATED_CATALOGUE, `${JSON.stringify(encoded, null, 2)}\n`);
  console.log(`wrote ${GENERATED_CATALOGUE} (${encoded.detections} detections, ${encoded.bytes} bytes of JSON in ${encoded.data.length} characters)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
