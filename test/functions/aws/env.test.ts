import { describe, expect, it } from 'vitest';
import { booleanVar, numberVar, positiveIntVar, readEnv } from '../../../functions/aws/env.ts';
import { HANDLER_ENV } from '../../../functions/aws/handlers/contracts.ts';
import { InvalidInputError } from '../../../shared/errors.ts';

describe('Function: readEnv', () => {
  it('returns exactly the handler\'s variables', () => {
    // Prepare
    const env = { EVIDENCE_BUCKET: 'b', RETENTION_DAYS: '365', SIGNING_KEY_ARN: 'arn:aws:kms:eu-west-1:999988887777:key/k', ANCHOR_BUCKET: 'a', OTHER: 'x' };

    // Act / Assess
    expect(readEnv('record-custody', env)).toEqual({ EVIDENCE_BUCKET: 'b', RETENTION_DAYS: '365', SIGNING_KEY_ARN: 'arn:aws:kms:eu-west-1:999988887777:key/k', ANCHOR_BUCKET: 'a' });
  });

  it('throws one error naming every missing or empty variable', () => {
    // Act
    const reading = () => readEnv('copy-snapshots', { COLLECTOR_ROLE_NAME: 'R', EVIDENCE_KMS_KEY_ARN: '' });

    // Assess
    expect(reading).toThrow(InvalidInputError);
    expect(reading).toThrow('the copy-snapshots function is missing environment variables COLLECTOR_EXTERNAL_ID, EVIDENCE_KMS_KEY_ARN, EVIDENCE_ACCOUNT_ID');
  });

  it('accepts an empty TRAIL_PREFIX and ORGANIZATION_ID (a trail without prefix, an account trail)', () => {
    expect(readEnv('list-log-objects', { EVIDENCE_BUCKET: 'b', TRAIL_BUCKET: 't', TRAIL_PREFIX: '', ORGANIZATION_ID: '' })).toMatchObject({ TRAIL_PREFIX: '', ORGANIZATION_ID: '' });
  });

  it('covers every handler of the contract', () => {
    for (const name of Object.keys(HANDLER_ENV) as (keyof typeof HANDLER_ENV)[]) {
      const env = Object.fromEntries(HANDLER_ENV[name].map((v) => [v, 'x']));
      expect(Object.keys(readEnv(name, env))).toEqual([...HANDLER_ENV[name]]);
    }
  });
});

describe('Function: typed variables', () => {
  it('parse and refuse with the name and the value', () => {
    expect(positiveIntVar('RETENTION_DAYS', '365')).toBe(365);
    expect(() => positiveIntVar('RETENTION_DAYS', '0')).toThrow('RETENTION_DAYS must be a whole number of at least 1, got "0"');
    expect(numberVar('GUARDDUTY_MIN_SEVERITY', '7.5', 0, 10)).toBe(7.5);
    expect(() => numberVar('GUARDDUTY_MIN_SEVERITY', 'high', 0, 10)).toThrow(/GUARDDUTY_MIN_SEVERITY must be a number from 0 to 10, got "high"/);
    expect(booleanVar('SECURITY_HUB_FINDINGS', 'true')).toBe(true);
    expect(() => booleanVar('SECURITY_HUB_FINDINGS', 'yes')).toThrow(/true or false/);
  });
});
