/** The three EventBridge events that start preservation, as AWS delivers them (trimmed to the fields Amber reads and a few more). */

export function customEvent(detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '3f0c0e2b-1111-2222-3333-444455556666',
    'detail-type': 'Preservation Requested',
    source: 'amber',
    account: '999988887777',
    time: '2026-03-01T12:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      case: 'INC-7',
      instanceIds: ['i-0123456789abcdef0'],
      accountId: '111122223333',
      region: 'eu-west-1',
      window: { since: '2026-03-01T00:00:00Z', until: '2026-03-01T12:00:00Z' },
      isolate: true,
      requestId: 'req-cli-1',
      ...detail,
    },
  };
}

export function guardDutyEvent(options: { severity?: number; sample?: boolean; resourceType?: string; eventId?: string; time?: string } = {}) {
  return {
    version: '0',
    id: options.eventId ?? 'c8b2f6d0-aaaa-bbbb-cccc-ddddeeeeffff',
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: '999988887777',
    time: options.time ?? '2026-03-02T12:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      schemaVersion: '2.0',
      accountId: '111122223333',
      region: 'eu-west-1',
      partition: 'aws',
      id: '5ec3b1a2c4e5f60718293a4b5c6d7e8f',
      arn: 'arn:aws:guardduty:eu-west-1:111122223333:detector/d1/finding/5ec3b1a2c4e5f60718293a4b5c6d7e8f',
      type: 'UnauthorizedAccess:EC2/SSHBruteForce',
      resource: { resourceType: options.resourceType ?? 'Instance', instanceDetails: { instanceId: 'i-0123456789abcdef0', instanceType: 't3.micro' } },
      service: { serviceName: 'guardduty', count: 4, additionalInfo: options.sample ? { sample: true } : {} },
      severity: options.severity ?? 8,
      title: 'SSH brute force',
    },
  };
}

export function securityHubEvent(options: { findings?: unknown[]; resources?: unknown[] } = {}) {
  const finding = {
    SchemaVersion: '2018-10-08',
    Id: 'arn:aws:securityhub:eu-west-1:111122223333:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.19/finding/8b5b2b0c-1111-2222-3333-444455556666',
    AwsAccountId: '111122223333',
    Region: 'eu-west-1',
    Title: 'Security groups should not allow unrestricted access to ports with high risk',
    Resources: options.resources ?? [
      { Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0', Region: 'eu-west-1' },
      { Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0fedcba9876543210', Region: 'eu-west-1' },
      { Type: 'AwsEc2SecurityGroup', Id: 'arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1' },
    ],
  };
  return {
    version: '0',
    id: 'sh-event-1',
    'detail-type': 'Security Hub Findings - Custom Action',
    source: 'aws.securityhub',
    account: '999988887777',
    time: '2026-03-02T12:00:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:securityhub:eu-west-1:999988887777:action/custom/PreserveEvidence'],
    detail: { actionName: 'Preserve evidence', actionDescription: 'Snapshot and preserve', findings: options.findings ?? [finding] },
  };
}
