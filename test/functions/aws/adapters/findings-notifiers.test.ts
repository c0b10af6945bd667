import { afterEach, describe, expect, it } from 'vitest';
import { BatchImportFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { SecurityHubFindingsNotifier, toAsff } from '../../../../functions/aws/adapters/security-hub-findings-notifier.ts';
import { SnsFindingsNotifier } from '../../../../functions/aws/adapters/sns-findings-notifier.ts';
import type { Finding } from '../../../../shared/detections/run.ts';
import type { FindingsReport } from '../../../../shared/ports/findings-notifier.ts';
import { aFinding } from '../../../helpers/findings.ts';

const snsMock = mockClient(SNSClient);
const shMock = mockClient(SecurityHubClient);
afterEach(() => {
  snsMock.reset();
  shMock.reset();
});

function finding(n: number): Finding {
  return aFinding({ detail: `call ${n}`, evidence_key: `cases/INC-7/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/f${n}.json.gz`, evidence_record: n });
}

function report(findings: Finding[]): FindingsReport {
  return {
    runId: '20260301T120000Z-abc',
    findingsKey: 'findings/2026/03/01/20260301T120000Z-abc.json',
    findingsSha256: 'b'.repeat(64),
    window: { since: '2026-03-01T11:00:00.000Z', until: '2026-03-01T12:00:00.000Z' },
    findings,
    errors: [],
    summary: { subject: 'Amber: 1 finding (1 high) \u00e9', text: 'body' },
  };
}

describe('Class: SnsFindingsNotifier', () => {
  describe('Method: notify', () => {
    it('publishes the plain-text summary with an ASCII subject', async () => {
      // Prepare
      snsMock.on(PublishCommand).resolves({ MessageId: 'm1' });
      const notifier = new SnsFindingsNotifier({ topicArn: 'arn:aws:sns:eu-west-1:999988887777:amber-findings', client: new SNSClient({ region: 'eu-west-1' }) });

      // Act
      const out = await notifier.notify(report([finding(1)]));

      // Assess
      expect(out).toEqual({ notifier: 'sns', sent: 1, failed: [] });
      expect(snsMock.commandCalls(PublishCommand)[0]!.args[0].input).toEqual({ TopicArn: 'arn:aws:sns:eu-west-1:999988887777:amber-findings', Subject: 'Amber: 1 finding (1 high) ?', Message: 'body' });
    });
  });
});

describe('Class: SecurityHubFindingsNotifier', () => {
  describe('Method: notify', () => {
    it('imports findings as ASFF in batches of 100 and reports the ones refused', async () => {
      // Prepare
      shMock.on(BatchImportFindingsCommand).callsFake(async (input: { Findings: unknown[] }) => ({ SuccessCount: input.Findings.length - 1, FailedCount: 1, FailedFindings: [{ Id: 'x', ErrorCode: 'InvalidInput', ErrorMessage: 'bad' }] }));
      const notifier = new SecurityHubFindingsNotifier({ accountId: '999988887777', region: 'eu-west-1', evidenceBucket: 'amber-evidence', client: new SecurityHubClient({ region: 'eu-west-1' }) });

      // Act
      const out = await notifier.notify(report(Array.from({ length: 150 }, (_, i) => finding(i))));

      // Assess
      expect(shMock.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input.Findings!.length)).toEqual([100, 50]);
      expect(out).toEqual({ notifier: 'securityhub', sent: 148, failed: [{ id: 'x', reason: 'InvalidInput: bad' }, { id: 'x', reason: 'InvalidInput: bad' }] });
    });
  });

  describe('Function: toAsff', () => {
    it('maps a finding with a stable id, the run\'s time, severity, source address and the evidence object', () => {
      // Act
      const asff = toAsff(finding(3), report([]), { accountId: '999988887777', region: 'eu-west-1', evidenceBucket: 'amber-evidence' });

      // Assess
      expect(asff).toMatchObject({
        SchemaVersion: '2018-10-08',
        Id: expect.stringMatching(/^amber\/root-account-usage\/[0-9a-f]{32}$/),
        ProductArn: 'arn:aws:securityhub:eu-west-1:999988887777:product/999988887777/default',
        GeneratorId: 'amber/root-account-usage',
        AwsAccountId: '999988887777',
        CreatedAt: '2026-03-01T12:00:00.000Z',
        FirstObservedAt: '2026-03-01T11:00:00.000Z',
        Severity: { Label: 'HIGH' },
        Network: { Direction: 'IN', SourceIpV4: '203.0.113.7' },
        Resources: [{ Type: 'Other', Id: 's3://amber-evidence/cases/INC-7/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/f3.json.gz', Details: { Other: { evidenceRecord: '3' } } }],
      });
      expect(toAsff(finding(3), report([]), { accountId: '999988887777', region: 'eu-west-1', evidenceBucket: 'b' }).Id).toBe(asff.Id);
    });
  });
});
