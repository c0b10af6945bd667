import { afterEach, describe, expect, it } from 'vitest';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { assumedRoleCredentials, collectorRoleArn } from '../../../../functions/aws/adapters/assume-role.ts';
import { CloudCallError } from '../../../../shared/preservation/errors.ts';

const stsMock = mockClient(STSClient);
afterEach(() => stsMock.reset());
const HOUR = 3_600_000;

describe('Function: assumedRoleCredentials', () => {
  it('assumes the role with the external id once, and again only shortly before the credentials expire', async () => {
    // Prepare
    let now = 0;
    stsMock.on(AssumeRoleCommand).callsFake(async () => ({ Credentials: { AccessKeyId: 'ASIA1', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(now + HOUR) } }));
    const provide = assumedRoleCredentials({ sts: new STSClient({ region: 'eu-west-1' }), roleArn: collectorRoleArn('aws', '111122223333', 'AmberCollector'), externalId: 'ext', sessionName: 'amber capture', now: () => now });

    // Act
    await provide();
    now = 30 * 60_000;
    await provide();
    now = HOUR - 60_000;
    const later = await provide();

    // Assess
    expect(later.accessKeyId).toBe('ASIA1');
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toMatchObject({ RoleArn: 'arn:aws:iam::111122223333:role/AmberCollector', ExternalId: 'ext', RoleSessionName: 'amber-capture' });
  });

  it('throws CloudCallError naming the role when the member account refuses, and tries again next time', async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).resolves({ Credentials: { AccessKeyId: 'A', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + HOUR) } });
    const provide = assumedRoleCredentials({ sts: new STSClient({ region: 'eu-west-1' }), roleArn: 'arn:aws:iam::111122223333:role/R', externalId: 'e', sessionName: 's' });

    // Act / Assess
    await expect(provide()).rejects.toThrow(CloudCallError);
    await expect(provide()).resolves.toMatchObject({ accessKeyId: 'A' });
  });

  it('refuses a role ARN for an account that is not 12 digits', () => {
    expect(() => collectorRoleArn('aws', '123', 'R')).toThrow(/12 digits/);
  });
});
