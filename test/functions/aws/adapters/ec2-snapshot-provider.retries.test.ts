/**
 * Throttling and 5xx retries come from the SDK's retry middleware, which aws-sdk-client-mock bypasses: these
 * tests run the real EC2 client (query protocol, signing, retry strategy) against a fake HTTP handler.
 */
import { describe, expect, it } from 'vitest';
import { Ec2SnapshotProvider } from '../../../../functions/aws/adapters/ec2-snapshot-provider.ts';
import { CloudCallError } from '../../../../shared/preservation/errors.ts';
import { FakeS3Http, TEST_CREDENTIALS, type FakeHttpAnswer } from '../../../helpers/s3.ts';

const OWN = '999988887777';
const SNAPSHOT = { snapshotId: 'snap-0123456789abcdef0', volumeId: 'vol-1', accountId: OWN, region: 'eu-west-1' };

function ec2Error(code: string, status: number): FakeHttpAnswer {
  return { status, headers: { 'content-type': 'text/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${code} from the fake</Message></Error></Errors><RequestID>r1</RequestID></Response>` };
}

const described: FakeHttpAnswer = {
  status: 200,
  headers: { 'content-type': 'text/xml' },
  body: `<DescribeSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r2</requestId><snapshotSet><item><snapshotId>${SNAPSHOT.snapshotId}</snapshotId><volumeId>vol-1</volumeId><status>completed</status><progress>100%</progress><encrypted>false</encrypted><volumeSize>8</volumeSize></item></snapshotSet></DescribeSnapshotsResponse>`,
};

function answering(answers: FakeHttpAnswer[]): FakeS3Http {
  let i = 0;
  return new FakeS3Http(() => answers[Math.min(i++, answers.length - 1)]!);
}

function provider(http: FakeS3Http, maxAttempts: number): Ec2SnapshotProvider {
  return new Ec2SnapshotProvider({
    collectorRoleName: 'AmberCollector',
    externalId: 'x',
    ownAccountId: OWN,
    clientConfig: { credentials: TEST_CREDENTIALS, requestHandler: http, maxAttempts, retryBaseDelayMs: 1 },
  });
}

describe('Class: Ec2SnapshotProvider', () => {
  describe('Method: getSnapshots (retries)', () => {
    it('retries RequestLimitExceeded (throttling) and reads the answer', async () => {
      // Prepare
      const http = answering([ec2Error('RequestLimitExceeded', 503), ec2Error('RequestLimitExceeded', 503), described]);

      // Act
      const states = await provider(http, 3).getSnapshots([SNAPSHOT]);

      // Assess
      expect(states).toEqual([expect.objectContaining({ snapshotId: SNAPSHOT.snapshotId, state: 'completed', progress: '100%', sizeGiB: 8 })]);
      expect(http.seen).toHaveLength(3);
    });

    it('retries a 5xx and reads the answer', async () => {
      // Prepare
      const http = answering([ec2Error('InternalError', 500), described]);

      // Act
      const states = await provider(http, 3).getSnapshots([SNAPSHOT]);

      // Assess
      expect(states[0]!.state).toBe('completed');
      expect(http.seen).toHaveLength(2);
    });

    it('throws a retryable CloudCallError naming the call and the attempts when 5xx outlives the retries', async () => {
      // Prepare
      const http = answering([ec2Error('InternalError', 500)]);

      // Act
      const checking = provider(http, 4).getSnapshots([SNAPSHOT]);

      // Assess
      await expect(checking).rejects.toThrow(CloudCallError);
      await expect(checking).rejects.toMatchObject({ call: 'ec2:DescribeSnapshots', retryable: true, hint: expect.stringContaining('after 4 attempts') });
      expect(http.seen).toHaveLength(4);
    });

    it('does not retry a refusal (UnauthorizedOperation)', async () => {
      // Prepare
      const http = answering([ec2Error('UnauthorizedOperation', 403)]);

      // Act / Assess
      await expect(provider(http, 4).getSnapshots([SNAPSHOT])).rejects.toMatchObject({ retryable: false, hint: expect.stringContaining('IAM policy') });
      expect(http.seen).toHaveLength(1);
    });
  });
});
