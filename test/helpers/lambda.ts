/** What a handler test needs: the contract's environment with fake values, and a Lambda context. */
import { vi } from 'vitest';
import type { LambdaContext } from '../../functions/aws/runtime.ts';

export const EVIDENCE_ACCOUNT = '999988887777';
export const MEMBER_ACCOUNT = '111122223333';
export const EVIDENCE_BUCKET = 'amber-evidence';
export const TRAIL_BUCKET = 'org-trail';

/** Every variable any handler reads, with values of the right shape; nothing reaches AWS. */
export const LAMBDA_ENV: Record<string, string | undefined> = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret',
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ENDPOINT_URL_S3: '',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  INSTANCE_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:${EVIDENCE_ACCOUNT}:stateMachine:amber-instance`,
  LOG_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:${EVIDENCE_ACCOUNT}:stateMachine:amber-logs`,
  GUARDDUTY_MIN_SEVERITY: '7',
  DEFAULT_LOG_WINDOW_HOURS: '24',
  EVIDENCE_BUCKET,
  RETENTION_DAYS: '365',
  COLLECTOR_ROLE_NAME: 'AmberCollector',
  COLLECTOR_EXTERNAL_ID: 'ext-123',
  EVIDENCE_KMS_KEY_ARN: `arn:aws:kms:eu-west-1:${EVIDENCE_ACCOUNT}:key/0b9f6c1e-1111-2222-3333-444455556666`,
  EVIDENCE_ACCOUNT_ID: EVIDENCE_ACCOUNT,
  SIGNING_KEY_ARN: `arn:aws:kms:eu-west-1:${EVIDENCE_ACCOUNT}:key/5161676e-0000-4000-8000-000000000001`,
  ANCHOR_BUCKET: 'amber-anchors-test',
  TRAIL_BUCKET,
  TRAIL_PREFIX: '',
  ORGANIZATION_ID: 'o-abc123',
  ATHENA_WORKGROUP: 'amber',
  ATHENA_DATABASE: 'amber',
  FINDINGS_TOPIC_ARN: `arn:aws:sns:eu-west-1:${EVIDENCE_ACCOUNT}:amber-findings`,
  SECURITY_HUB_FINDINGS: 'true',
  DETECTION_PARAMETERS: '{}',
};

/** Sets the environment for handlers imported afterwards (vi.unstubAllEnvs undoes it). */
export function stubLambdaEnv(overrides: Record<string, string | undefined> = {}): void {
  for (const [k, v] of Object.entries({ ...LAMBDA_ENV, ...overrides })) vi.stubEnv(k, v);
}

/** The context Lambda passes to the named function. */
export function lambdaContext(name: string): LambdaContext {
  return {
    functionName: `amber-${name}`,
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:${EVIDENCE_ACCOUNT}:function:amber-${name}`,
    awsRequestId: `req-${name}`,
    functionVersion: '$LATEST',
    memoryLimitInMB: '512',
    getRemainingTimeInMillis: () => 60_000,
  };
}
