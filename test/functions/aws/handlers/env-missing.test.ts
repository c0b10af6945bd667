import { afterEach, describe, expect, it, vi } from 'vitest';
import { stubLambdaEnv } from '../../../helpers/lambda.ts';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('Handlers: cold start configuration', () => {
  it.each([
    ['start-preservation', 'INSTANCE_STATE_MACHINE_ARN'],
    ['capture-instance', 'COLLECTOR_EXTERNAL_ID'],
    ['copy-snapshots', 'EVIDENCE_KMS_KEY_ARN'],
    ['list-log-objects', 'TRAIL_BUCKET'],
    ['run-detections', 'FINDINGS_TOPIC_ARN'],
  ])('%s fails at import, naming the missing %s', async (name, variable) => {
    // Prepare
    stubLambdaEnv({ [variable]: undefined });

    // Act
    const importing = import(`../../../../functions/aws/handlers/${name}.ts`);

    // Assess
    await expect(importing).rejects.toThrow(`the ${name} function is missing environment variable ${variable}`);
  });

  it('refuses a value of the wrong shape, naming it', async () => {
    // Prepare
    stubLambdaEnv({ RETENTION_DAYS: 'forever' });

    // Act / Assess
    await expect(import('../../../../functions/aws/handlers/copy-log-objects.ts')).rejects.toThrow('RETENTION_DAYS must be a whole number of at least 1, got "forever"');
  });
});
