import { describe, expect, it } from 'vitest';
import { bundledCatalogue } from '../../functions/aws/bundled-catalogue.ts';
import { decodeCatalogue } from '../../functions/aws/catalogue-codec.ts';
import { loadCatalogue } from '../../shared/detections/catalogue.ts';
import { IntegrityError } from '../../shared/errors.ts';
import { catalogueJson, encodeCatalogue, isUpToDate } from '../../scripts/build/catalogue.ts';

describe('Script: build/catalogue', () => {
  it('the catalogue bundled into run-detections is up to date with shared/detections (else: npm run build:catalogue)', async () => {
    expect(await isUpToDate(await catalogueJson()), 'functions/aws/generated/catalogue.json is out of date: run npm run build:catalogue').toBe(true);
  });

  it('carries every detection with its SQL, as loadCatalogue reads it', async () => {
    // Act
    const [bundled, loaded] = [bundledCatalogue(), await loadCatalogue()];

    // Assess
    expect(bundled.map((d) => [d.id, d.sql, d.severity, d.table, d.title])).toEqual(loaded.map((d) => [d.id, d.sql, d.severity, d.table, d.title]));
  });

  it('refuses a catalogue whose bytes do not match the recorded hash', () => {
    // Prepare
    const encoded = encodeCatalogue('[{"id":"a"}]');

    // Act / Assess
    expect(decodeCatalogue(encoded)).toEqual([{ id: 'a' }]);
    expect(() => decodeCatalogue({ ...encoded, sha256: '0'.repeat(64) })).toThrow(IntegrityError);
  });
});
