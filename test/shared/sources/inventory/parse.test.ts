/** The inventory parser: preserved answers read by their key, capture files by line, bad input named by position. */
import { describe, expect, it } from 'vitest';
import { parseInventory, policyOpenness, requestFromKey } from '../../../../shared/sources/inventory/index.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';

const KEY = 'cases/C/aws/inventory/111122223333/20260314T090000Z/eu-west-1/ec2/DescribeSecurityGroups/page-00001.xml';
const SG = '<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><securityGroupInfo><item><ownerId>111122223333</ownerId><groupId>sg-1</groupId><groupName>web</groupName><vpcId>vpc-1</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item></ipPermissions></item></securityGroupInfo></DescribeSecurityGroupsResponse>';

describe('Function: parseInventory', () => {
  it('reads the request from the preserved key and gives a page row, the group and one row per rule range', () => {
    // Act
    const { rows, problems } = parseInventory(SG, KEY);

    // Assess
    expect(problems).toEqual([]);
    expect(rows.map((r) => [r.index, r.row.type, r.row.id])).toEqual([
      [0, 'api:page', 'DescribeSecurityGroups'],
      [1, 'ec2:security-group', 'sg-1'],
      [2, 'ec2:security-group-rule', 'sg-1'],
      [3, 'ec2:security-group-rule', 'sg-1'],
    ]);
    expect(rows[0]!.row).toMatchObject({ account: '111122223333', region: 'eu-west-1', observed_at: '2026-03-14T09:00:00Z' });
    expect(JSON.parse(String(rows[0]!.row.attributes))).toMatchObject({ rows: 3, error: null });
    expect(JSON.parse(String(rows[2]!.row.attributes))).toMatchObject({ direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' });
  });

  it('reads the account-level public access block (S3 Control) as a row of the account, and its absence as the answer it is', () => {
    // Prepare
    const key = 'cases/C/aws/inventory/111122223333/20260314T090000Z/global/s3control/GetPublicAccessBlock/page-00001.xml';
    const block = '<?xml version="1.0" encoding="UTF-8"?>\n<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>';
    const absent = '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>The public access block configuration was not found</Message><AccountId>111122223333</AccountId></Error><RequestId>r</RequestId><HostId>h</HostId></ErrorResponse>';

    // Act
    const set = parseInventory(block, key);
    const none = parseInventory(absent, key);

    // Assess
    expect(set.problems).toEqual([]);
    expect(set.rows.map((r) => [r.row.type, r.row.id, r.row.service])).toEqual([
      ['api:page', 'GetPublicAccessBlock', 's3control'],
      ['s3:account-public-access-block', '111122223333', 's3control'],
    ]);
    expect(JSON.parse(String(set.rows[1]!.row.attributes))).toEqual({ blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false });
    expect(none.rows.map((r) => [r.row.type, JSON.parse(String(r.row.attributes)).error])).toEqual([['api:page', 'NoSuchPublicAccessBlockConfiguration']]);
  });

  it('names the capture line of a bad answer and still reads the good ones around it', () => {
    // Prepare
    const ok = JSON.stringify({ amberInventoryCapture: 1, account: '111122223333', region: 'eu-west-1', service: 'ec2', operation: 'DescribeSecurityGroups', observedAt: '2026-03-14T09:00:00Z', body: SG });
    const broken = JSON.stringify({ amberInventoryCapture: 1, account: '111122223333', region: 'eu-west-1', service: 'ec2', operation: 'DescribeSecurityGroups', observedAt: '2026-03-14T09:00:00Z', body: 'not xml or json' });
    const unknown = JSON.stringify({ amberInventoryCapture: 1, account: '111122223333', region: 'eu-west-1', service: 'sqs', operation: 'ListQueues', observedAt: '2026-03-14T09:00:00Z', body: '{}' });

    // Act
    const { rows, problems } = parseInventory([ok, broken, '{"amberInventoryCapture":1}', unknown, ok].join('\n'), 'captures/x.jsonl');

    // Assess
    expect(rows).toHaveLength(8);
    // Each bad line is one record set aside, with an index of its own
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 7, 8, 9, 10]);
    expect(rows[4]!.line).toBe(5);
    expect(problems).toEqual([
      { index: 4, line: 2, reason: 'capture line 2: the body is neither XML nor JSON' },
      { index: 5, line: 3, reason: 'capture line 3: field "account" must be non-empty text' },
      { index: 6, line: 4, reason: 'capture line 4: Amber does not read sqs ListQueues answers yet' },
    ]);
  });

  it('keeps an answer that says something is absent as a page row with its error code', () => {
    // Prepare
    const key = 'cases/C/aws/inventory/111122223333/20260314T090000Z/global/s3/GetPublicAccessBlock/site/page-00001.xml';

    // Act
    const { rows } = parseInventory('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>m</Message></Error>', key);

    // Assess
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).toMatchObject({ type: 'api:page', name: 'site' });
    expect(JSON.parse(String(rows[0]!.row.attributes))).toMatchObject({ rows: 0, error: 'NoSuchPublicAccessBlockConfiguration', resource: 'site' });
  });

  it('is recognised by its key alone and by no other source', () => {
    // Assess
    expect(detectSource(SG, KEY).source?.id).toBe('inventory');
    expect(detectSource('{"FunctionUrlConfigs":[]}', KEY.replace('ec2/DescribeSecurityGroups', 'lambda/ListFunctionUrlConfigs/fn').replace('.xml', '.json')).source?.id).toBe('inventory');
    expect(requestFromKey('cases/C/aws/cloudtrail/x.json')).toBeUndefined();
  });
});

describe('Function: policyOpenness', () => {
  it('tells an unconditional public statement from a conditional one and lists other accounts', () => {
    // Act
    const open = policyOpenness(JSON.stringify({ Statement: { Effect: 'Allow', Principal: '*', Action: 's3:GetObject' } }));
    const conditional = policyOpenness(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } }] }));
    const shared = policyOpenness(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::999988887777:root', '444455556666'] } }, { Effect: 'Deny', Principal: '*' }] }));

    // Assess
    expect(open).toEqual({ anyone: true, conditionalAnyone: false, otherAccounts: [] });
    expect(conditional).toEqual({ anyone: false, conditionalAnyone: true, otherAccounts: [] });
    expect(shared).toEqual({ anyone: false, conditionalAnyone: false, otherAccounts: ['444455556666', '999988887777'] });
  });
});
