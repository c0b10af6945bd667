import { describe, expect, it } from 'vitest';
import { normaliseTrigger } from '../../../functions/aws/triggers.ts';
import { InvalidInputError } from '../../../shared/errors.ts';
import { customEvent, guardDutyEvent, securityHubEvent } from '../../helpers/preservation-events.ts';

const CONFIG = { guardDutyMinSeverity: 7, defaultWindowHours: 24 };

describe('Function: normaliseTrigger', () => {
  describe('custom event (amber / Preservation Requested)', () => {
    it('takes the detail as the request, with its request id', () => {
      // Act
      const { requests } = normaliseTrigger(customEvent(), CONFIG);

      // Assess
      expect(requests).toEqual([
        {
          case: 'INC-7',
          accountId: '111122223333',
          region: 'eu-west-1',
          instanceIds: ['i-0123456789abcdef0'],
          window: { since: '2026-03-01T00:00:00Z', until: '2026-03-01T12:00:00Z' },
          isolate: true,
          requestId: 'req-cli-1',
          trigger: 'custom',
        },
      ]);
    });

    it('falls back to the event id without a request id, and to no isolation', () => {
      // Prepare
      const event = customEvent({ requestId: undefined, isolate: undefined });

      // Act
      const [request] = normaliseTrigger(event, CONFIG).requests;

      // Assess
      expect(request).toMatchObject({ requestId: event.id, isolate: false });
    });

    it('reads a request that names a Google Cloud log sink (the GCP start functions\' field) and ignores the field', () => {
      // Act
      const [request] = normaliseTrigger(customEvent({ logSink: 'gs://audit-sink/cloudaudit.googleapis.com/' }), CONFIG).requests;

      // Assess
      expect(request).toMatchObject({ case: 'INC-7', requestId: 'req-cli-1' });
      expect(request).not.toHaveProperty('logSink');
    });

    it('refuses a detail with a bad instance id, naming it', () => {
      expect(() => normaliseTrigger(customEvent({ instanceIds: ['i-1; rm'] }), CONFIG)).toThrow(/not an EC2 instance id: "i-1; rm"/);
    });
  });

  describe('GuardDuty finding', () => {
    it('preserves the instance of a finding at or above the threshold, with the default window before the event', () => {
      // Act
      const { requests, ignored } = normaliseTrigger(guardDutyEvent({ severity: 8 }), CONFIG);

      // Assess
      expect(ignored).toEqual([]);
      expect(requests).toEqual([
        {
          case: 'gd-5ec3b1a2c4e5f60718293a4b5c6d7e8f',
          accountId: '111122223333',
          region: 'eu-west-1',
          instanceIds: ['i-0123456789abcdef0'],
          window: { since: '2026-03-01T12:00:00Z', until: '2026-03-02T12:00:00Z' },
          isolate: false,
          requestId: 'gd-5ec3b1a2c4e5f60718293a4b5c6d7e8f',
          trigger: 'guardduty',
        },
      ]);
    });

    it('ignores a finding below the threshold, saying why', () => {
      // Act
      const result = normaliseTrigger(guardDutyEvent({ severity: 5.2 }), CONFIG);

      // Assess
      expect(result).toEqual({ requests: [], ignored: [{ id: '5ec3b1a2c4e5f60718293a4b5c6d7e8f', reason: 'severity 5.2 is below the threshold 7' }] });
    });

    it('ignores sample findings and findings about other resources', () => {
      expect(normaliseTrigger(guardDutyEvent({ sample: true }), CONFIG).ignored[0]!.reason).toMatch(/sample finding/);
      expect(normaliseTrigger(guardDutyEvent({ resourceType: 'AccessKey' }), CONFIG).ignored[0]!.reason).toMatch(/AccessKey resource, not an EC2 instance/);
    });

    it('gives a re-published finding (same id, new event) the same request id', () => {
      // Act
      const a = normaliseTrigger(guardDutyEvent({ eventId: 'e1' }), CONFIG).requests[0]!;
      const b = normaliseTrigger(guardDutyEvent({ eventId: 'e2', time: '2026-03-02T18:00:00Z' }), CONFIG).requests[0]!;

      // Assess
      expect(a.requestId).toBe(b.requestId);
    });
  });

  describe('Security Hub custom action', () => {
    it('preserves both instances a finding names, in one request', () => {
      // Act
      const { requests } = normaliseTrigger(securityHubEvent(), CONFIG);

      // Assess
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({
        case: expect.stringMatching(/^sh-/),
        accountId: '111122223333',
        region: 'eu-west-1',
        instanceIds: ['i-0123456789abcdef0', 'i-0fedcba9876543210'],
        trigger: 'securityhub',
        requestId: expect.stringMatching(/^sh-event-1-[0-9a-f]{12}$/),
      });
    });

    it('ignores a finding without EC2 instances, and refuses an action without findings', () => {
      expect(normaliseTrigger(securityHubEvent({ resources: [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::b' }] }), CONFIG).ignored[0]!.reason).toMatch(/no AwsEc2Instance/);
      expect(() => normaliseTrigger(securityHubEvent({ findings: [] }), CONFIG)).toThrow(/holds no findings/);
    });
  });

  it('refuses any other event, naming its source and type', () => {
    expect(() => normaliseTrigger({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' }, CONFIG)).toThrow(InvalidInputError);
    expect(() => normaliseTrigger({ source: 'aws.ec2', 'detail-type': 'x' }, CONFIG)).toThrow(/aws\.ec2 \/ x/);
  });
});
