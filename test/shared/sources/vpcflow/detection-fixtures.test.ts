/**
 * The flow log and S3 access log detections' fixtures are generated (test/fixtures/aws/detection-fixtures.ts):
 * the committed files must be exactly what the generator writes, so a scenario is changed in one place.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectionFixtureFiles } from '../../../fixtures/aws/detection-fixtures.ts';

const DETECTIONS = fileURLToPath(new URL('../../../../shared/detections/', import.meta.url));

describe('Fixtures: VPC flow log and S3 access log detections', () => {
  it.each(Object.entries(detectionFixtureFiles()))('%s is what the generator writes (npx tsx test/fixtures/aws/detection-fixtures.ts --write)', (path, text) => {
    // Act / Assess
    expect(readFileSync(join(DETECTIONS, path), 'utf8')).toBe(text);
  });
});
