import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import {
  AWS_COMMERCIAL_REGIONS,
  CLOUDTRAIL_COLUMNS,
  athenaCloudTrailDdl,
  cloudTrailPartition,
  loadCloudTrailTable,
  type CloudTrailInput,
} from '../../../shared/query/tables/cloudtrail.ts';
import { writeDerivedNdjson, writeSyntheticCloudTrail, type CloudTrailRecord } from '../../helpers/cloudtrail-synth.ts';
import { assertTrinoSql } from '../../helpers/trino-sql.ts';

const KEY_DIR = 'cases/C-1/aws/cloudtrail/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01';
const keyOf = (name: string): string => `${KEY_DIR}/111122223333_CloudTrail_us-east-1_20240301T1205Z_${name}.json.gz`;

/** A record with every field the table declares, as CloudTrail writes it (camelCase keys, mixed value types). */
const FULL_RECORD: CloudTrailRecord = {
  eventVersion: '1.09',
  userIdentity: {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLEID:alice',
    arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice',
    accountId: '111122223333',
    accessKeyId: 'ASIAEXAMPLEKEY',
    userName: 'alice',
    invokedBy: 'cloudformation.amazonaws.com',
    onBehalfOf: { userId: 'u-123', identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-1' },
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEID', arn: 'arn:aws:iam::111122223333:role/Admin', accountId: '111122223333', userName: 'Admin' },
      webIdFederationData: { federatedProvider: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com', attributes: { sub: 'repo:acme/app', aud: 'sts.amazonaws.com' } },
      attributes: { creationDate: '2024-03-01T11:00:00Z', mfaAuthenticated: 'true' },
      sourceIdentity: 'alice@example.com',
      ec2RoleDelivery: '2.0',
    },
  },
  eventTime: '2024-03-01T12:00:00Z',
  eventSource: 's3.amazonaws.com',
  eventName: 'PutBucketPolicy',
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.7',
  userAgent: '[aws-cli/2.15.0]',
  errorCode: 'AccessDenied',
  errorMessage: 'User is not authorized',
  requestParameters: { bucketName: 'acme-data', policy: { Statement: [{ Effect: 'Allow', Principal: '*' }] } },
  responseElements: { 'x-amz-id': 1 },
  additionalEventData: { SignatureVersion: 'SigV4', bytesTransferredIn: 0 },
  requestID: 'REQ-1',
  eventID: 'EVT-1',
  readOnly: false,
  resources: [{ ARN: 'arn:aws:s3:::acme-data', accountId: '111122223333', type: 'AWS::S3::Bucket' }],
  eventType: 'AwsApiCall',
  apiVersion: '2006-03-01',
  managementEvent: true,
  recipientAccountId: '111122223333',
  serviceEventDetails: { snapshotId: 'snap-1' },
  sharedEventID: 'SHARED-1',
  vpcEndpointId: 'vpce-1',
  vpcEndpointAccountId: '111122223333',
  eventCategory: 'Management',
  addendum: { reason: 'DELIVERY_DELAY', updatedFields: 'requestParameters', originalRequestID: 'REQ-0', originalEventID: 'EVT-0' },
  sessionCredentialFromConsole: 'true',
  edgeDeviceDetails: { deviceID: 'd-1' },
  tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'acme-data.s3.amazonaws.com' },
};

/** The row Athena's documented table gives for FULL_RECORD (lower-case names, free-form fields as JSON text). */
const FULL_ROW = {
  eventversion: '1.09',
  useridentity: {
    type: 'AssumedRole',
    principalid: 'AROAEXAMPLEID:alice',
    arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice',
    accountid: '111122223333',
    invokedby: 'cloudformation.amazonaws.com',
    accesskeyid: 'ASIAEXAMPLEKEY',
    username: 'alice',
    onbehalfof: { userid: 'u-123', identitystorearn: 'arn:aws:identitystore::111122223333:identitystore/d-1' },
    sessioncontext: {
      attributes: { mfaauthenticated: 'true', creationdate: '2024-03-01T11:00:00Z' },
      sessionissuer: { type: 'Role', principalid: 'AROAEXAMPLEID', arn: 'arn:aws:iam::111122223333:role/Admin', accountid: '111122223333', username: 'Admin' },
      ec2roledelivery: '2.0',
      webidfederationdata: { federatedprovider: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com', attributes: { sub: 'repo:acme/app', aud: 'sts.amazonaws.com' } },
      sourceidentity: 'alice@example.com',
    },
  },
  eventtime: '2024-03-01T12:00:00Z',
  eventsource: 's3.amazonaws.com',
  eventname: 'PutBucketPolicy',
  awsregion: 'us-east-1',
  sourceipaddress: '198.51.100.7',
  useragent: '[aws-cli/2.15.0]',
  errorcode: 'AccessDenied',
  errormessage: 'User is not authorized',
  requestparameters: '{"bucketName":"acme-data","policy":{"Statement":[{"Effect":"Allow","Principal":"*"}]}}',
  responseelements: '{"x-amz-id":1}',
  additionaleventdata: '{"SignatureVersion":"SigV4","bytesTransferredIn":0}',
  requestid: 'REQ-1',
  eventid: 'EVT-1',
  readonly: 'false',
  resources: [{ arn: 'arn:aws:s3:::acme-data', accountid: '111122223333', type: 'AWS::S3::Bucket' }],
  eventtype: 'AwsApiCall',
  apiversion: '2006-03-01',
  recipientaccountid: '111122223333',
  serviceeventdetails: '{"snapshotId":"snap-1"}',
  sharedeventid: 'SHARED-1',
  vpcendpointid: 'vpce-1',
  vpcendpointaccountid: '111122223333',
  eventcategory: 'Management',
  addendum: { reason: 'DELIVERY_DELAY', updatedfields: 'requestParameters', originalrequestid: 'REQ-0', originaleventid: 'EVT-0' },
  sessioncredentialfromconsole: 'true',
  edgedevicedetails: '{"deviceID":"d-1"}',
  tlsdetails: { tlsversion: 'TLSv1.3', ciphersuite: 'TLS_AES_128_GCM_SHA256', clientprovidedhostheader: 'acme-data.s3.amazonaws.com' },
};

/** A record with only the fields every CloudTrail event has: every optional struct and field absent. */
const MINIMAL_RECORD: CloudTrailRecord = {
  eventVersion: '1.08',
  eventTime: '2024-03-01T12:01:00Z',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'DescribeRegions',
  awsRegion: 'us-east-1',
  requestParameters: null,
  readOnly: 'true',
  eventID: 'EVT-2',
};

const unquote = (type: string): string => type.replace(/"/g, '');

let dir: string;
let engine: DuckDbQueryEngine;

async function writeRecords(name: string, records: readonly CloudTrailRecord[], gzip = true): Promise<CloudTrailInput> {
  const key = keyOf(name);
  const path = join(dir, gzip ? key : key.replace(/\.gz$/, ''));
  await mkdir(dirname(path), { recursive: true });
  const text = JSON.stringify({ Records: records });
  await writeFile(path, gzip ? gzipSync(text) : text);
  return { path, key, shape: 'records' };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amber-ct-table-'));
  engine = await DuckDbQueryEngine.create();
});

afterAll(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Function: loadCloudTrailTable', () => {
  describe('table shape', () => {
    it('has the AWS-documented Athena columns in order, then evidence_key, evidence_record and the partitions', async () => {
      // Prepare
      await loadCloudTrailTable(engine, []);

      // Act
      const described = await engine.query<{ column_name: string; column_type: string }>('DESCRIBE cloudtrail');

      // Assess
      expect(described.map((c) => c.column_name)).toEqual([
        'eventversion', 'useridentity', 'eventtime', 'eventsource', 'eventname', 'awsregion', 'sourceipaddress',
        'useragent', 'errorcode', 'errormessage', 'requestparameters', 'responseelements', 'additionaleventdata',
        'requestid', 'eventid', 'readonly', 'resources', 'eventtype', 'apiversion', 'recipientaccountid',
        'serviceeventdetails', 'sharedeventid', 'vpcendpointid', 'vpcendpointaccountid', 'eventcategory', 'addendum',
        'sessioncredentialfromconsole', 'edgedevicedetails', 'tlsdetails',
        'evidence_key', 'evidence_record', 'account', 'region', 'timestamp',
      ]);
      const types = Object.fromEntries(described.map((c) => [c.column_name, c.column_type]));
      expect(types.useridentity).toBe(
        'STRUCT("type" VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, invokedby VARCHAR, accesskeyid VARCHAR, '
        + 'username VARCHAR, onbehalfof STRUCT(userid VARCHAR, identitystorearn VARCHAR), sessioncontext STRUCT(attributes '
        + 'STRUCT(mfaauthenticated VARCHAR, creationdate VARCHAR), sessionissuer STRUCT("type" VARCHAR, principalid VARCHAR, '
        + 'arn VARCHAR, accountid VARCHAR, username VARCHAR), ec2roledelivery VARCHAR, webidfederationdata '
        + 'STRUCT(federatedprovider VARCHAR, attributes MAP(VARCHAR, VARCHAR)), sourceidentity VARCHAR))',
      );
      expect(types.resources).toBe('STRUCT(arn VARCHAR, accountid VARCHAR, "type" VARCHAR)[]');
      expect(types.tlsdetails).toBe('STRUCT(tlsversion VARCHAR, ciphersuite VARCHAR, clientprovidedhostheader VARCHAR)');
      expect(types.evidence_record).toBe('INTEGER');
      for (const name of ['eventtime', 'requestparameters', 'responseelements', 'additionaleventdata', 'readonly', 'serviceeventdetails', 'timestamp']) {
        expect(types[name]).toBe('VARCHAR');
      }
      // CLOUDTRAIL_COLUMNS quotes every field name; DESCRIBE quotes only keywords such as "type".
      expect(described.map((c) => unquote(c.column_type))).toEqual(CLOUDTRAIL_COLUMNS.map((c) => unquote(c.type)));
    });

    it('gives the same shape as a view (materialize: false)', async () => {
      await loadCloudTrailTable(engine, [], { materialize: false });
      const described = await engine.query<{ column_name: string; column_type: string }>('DESCRIBE cloudtrail');
      expect(described.map((c) => [c.column_name, unquote(c.column_type)])).toEqual(CLOUDTRAIL_COLUMNS.map((c) => [c.name, unquote(c.type)]));
    });
  });

  describe('records files (S3 delivery: {"Records":[...]})', () => {
    it('round-trips a record field by field into the Athena shape', async () => {
      // Prepare
      const input = await writeRecords('FullRecord000001', [FULL_RECORD]);

      // Act
      const result = await loadCloudTrailTable(engine, [input]);
      const rows = await engine.query('SELECT * FROM cloudtrail');

      // Assess
      expect(result).toEqual({ rows: 1, files: 1, materialized: true });
      expect(rows).toEqual([{
        ...FULL_ROW,
        evidence_key: input.key,
        evidence_record: 0,
        account: '111122223333',
        region: 'us-east-1',
        timestamp: '2024/03/01',
      }]);
    });

    it('keeps absent structs NULL (not structs of NULLs) and reads readOnly as a string', async () => {
      // Prepare: optional fields are absent in every record of the load, so DuckDB never sees their keys
      const input = await writeRecords('MinimalRecord001', [MINIMAL_RECORD, { ...MINIMAL_RECORD, eventID: 'EVT-3', readOnly: true }], false);

      // Act
      await loadCloudTrailTable(engine, [input]);
      const rows = await engine.query(`SELECT useridentity, resources, tlsdetails, addendum, requestparameters, errorcode, readonly,
        useridentity IS NULL AS no_identity, useridentity.sessioncontext.sessionissuer.arn AS issuer, evidence_record
        FROM cloudtrail ORDER BY evidence_record`);

      // Assess
      expect(rows).toEqual([
        { useridentity: null, resources: null, tlsdetails: null, addendum: null, requestparameters: null, errorcode: null, readonly: 'true', no_identity: true, issuer: null, evidence_record: 0 },
        { useridentity: null, resources: null, tlsdetails: null, addendum: null, requestparameters: null, errorcode: null, readonly: 'true', no_identity: true, issuer: null, evidence_record: 1 },
      ]);
    });

    it('keeps a partly present struct with NULL for the missing fields', async () => {
      const input = await writeRecords('PartialIdentity1', [{ ...MINIMAL_RECORD, userIdentity: { type: 'Root', accountId: '111122223333' } }]);
      await loadCloudTrailTable(engine, [input]);
      const rows = await engine.query('SELECT useridentity.type AS t, useridentity.arn AS arn, useridentity.sessioncontext AS sc FROM cloudtrail');
      expect(rows).toEqual([{ t: 'Root', arn: null, sc: null }]);
    });

    it('loads files with zero records, no Records key, plain .json and .json.gz together', async () => {
      // Prepare
      const empty = await writeRecords('EmptyRecords0001', []);
      const full = await writeRecords('PlainJson0000001', [FULL_RECORD, MINIMAL_RECORD], false);
      const noKeyPath = join(dir, 'no-records-key.json');
      await writeFile(noKeyPath, '{}');

      // Act
      const result = await loadCloudTrailTable(engine, [empty, full, { path: noKeyPath, key: 'other/no-records-key.json', shape: 'records' }]);
      const rows = await engine.query('SELECT eventid, evidence_key, evidence_record, account, "timestamp" FROM cloudtrail ORDER BY evidence_record');

      // Assess
      expect(result.rows).toBe(2);
      expect(rows).toEqual([
        { eventid: 'EVT-1', evidence_key: full.key, evidence_record: 0, account: '111122223333', timestamp: '2024/03/01' },
        { eventid: 'EVT-2', evidence_key: full.key, evidence_record: 1, account: '111122223333', timestamp: '2024/03/01' },
      ]);
    });

    it('points evidence_key and evidence_record at the exact record in the preserved file', async () => {
      // Prepare
      const synth = await writeSyntheticCloudTrail({ dir: join(dir, 'synth'), events: 3000, files: 6, seed: 7, keyPrefix: 'cases/C-7/aws/cloudtrail/' });
      const inputs = synth.files.map((f) => ({ path: f.path, key: f.key, shape: 'records' as const }));

      // Act
      await loadCloudTrailTable(engine, inputs);
      const rows = await engine.query<{ evidence_key: string; evidence_record: number; eventid: string; eventtime: string }>(
        'SELECT evidence_key, evidence_record, eventid, eventtime FROM cloudtrail WHERE evidence_record % 97 = 0 OR evidence_record = 499',
      );

      // Assess
      const byKey = new Map<string, Array<Record<string, unknown>>>();
      for (const f of synth.files) byKey.set(f.key, JSON.parse(gunzipSync(await readFile(f.path)).toString('utf8')).Records);
      expect(rows.length).toBeGreaterThan(30);
      for (const row of rows) {
        const record = byKey.get(row.evidence_key)?.[row.evidence_record];
        expect(record?.eventID, `${row.evidence_key}#${row.evidence_record}`).toBe(row.eventid);
        expect(record?.eventTime).toBe(row.eventtime);
      }
      const [count] = await engine.query<{ n: number; keys: number }>('SELECT count(*) AS n, count(DISTINCT evidence_key) AS keys FROM cloudtrail');
      expect(count).toEqual({ n: 3000, keys: 6 });
    });

    it('replaces the table on each load instead of appending', async () => {
      const input = await writeRecords('Reload0000000001', [FULL_RECORD]);
      await loadCloudTrailTable(engine, [input]);
      await loadCloudTrailTable(engine, [input, input]);
      expect(await engine.query('SELECT count(*) AS n FROM cloudtrail')).toEqual([{ n: 1 }]);
    });
  });

  describe('ndjson files (the parser\'s derived lines)', () => {
    it('takes evidence_key and evidence_record from each line, plain or gzip, and unions with records files', async () => {
      // Prepare
      const original = keyOf('OriginalOfDerive');
      const plainPath = join(dir, 'derived', 'part-0.jsonl');
      const gzPath = join(dir, 'derived', 'part-1.jsonl.gz');
      await writeDerivedNdjson(plainPath, [{ evidenceKey: original, evidenceRecord: 4, record: FULL_RECORD }]);
      await writeDerivedNdjson(gzPath, [
        { evidenceKey: 'cases/C-1/aws/cloudtrail/AWSLogs/o-abcdef1234/444455556666/CloudTrail/eu-west-1/2024/02/29/x.json.gz', evidenceRecord: 0, record: MINIMAL_RECORD },
        { evidenceKey: 'cases/C-1/uploads/export.json', evidenceRecord: 17, record: { ...MINIMAL_RECORD, eventID: 'EVT-9' } },
      ], { gzip: true });
      const records = await writeRecords('AlongsideNdjson1', [{ ...MINIMAL_RECORD, eventID: 'EVT-R' }]);

      // Act
      const result = await loadCloudTrailTable(engine, [
        { path: plainPath, key: 'cases/C-1/derived/part-0.jsonl', shape: 'ndjson' },
        { path: gzPath, key: 'cases/C-1/derived/part-1.jsonl.gz', shape: 'ndjson' },
        records,
      ]);
      const rows = await engine.query('SELECT eventid, evidence_key, evidence_record, account, region, "timestamp" FROM cloudtrail ORDER BY eventid');
      const [full] = await engine.query("SELECT * EXCLUDE (evidence_key, evidence_record, account, region, \"timestamp\") FROM cloudtrail WHERE eventid = 'EVT-1'");

      // Assess
      expect(result.rows).toBe(4);
      expect(rows).toEqual([
        { eventid: 'EVT-1', evidence_key: original, evidence_record: 4, account: '111122223333', region: 'us-east-1', timestamp: '2024/03/01' },
        { eventid: 'EVT-2', evidence_key: 'cases/C-1/aws/cloudtrail/AWSLogs/o-abcdef1234/444455556666/CloudTrail/eu-west-1/2024/02/29/x.json.gz', evidence_record: 0, account: '444455556666', region: 'eu-west-1', timestamp: '2024/02/29' },
        { eventid: 'EVT-9', evidence_key: 'cases/C-1/uploads/export.json', evidence_record: 17, account: null, region: null, timestamp: null },
        { eventid: 'EVT-R', evidence_key: records.key, evidence_record: 0, account: '111122223333', region: 'us-east-1', timestamp: '2024/03/01' },
      ]);
      expect(full).toEqual(FULL_ROW);
    });

    it('loads an empty ndjson file', async () => {
      const path = join(dir, 'derived', 'empty.jsonl');
      await writeDerivedNdjson(path, []);
      expect(await loadCloudTrailTable(engine, [{ path, key: 'cases/C-1/derived/empty.jsonl', shape: 'ndjson' }])).toMatchObject({ rows: 0 });
    });
  });

  describe('view mode (materialize: false)', () => {
    it('returns the same rows as the materialised table and filters by day', async () => {
      // Prepare
      const synth = await writeSyntheticCloudTrail({ dir: join(dir, 'synth-view'), events: 2000, files: 8, seed: 3, spanHours: 48 });
      const inputs = synth.files.map((f) => ({ path: f.path, key: f.key, shape: 'records' as const }));
      const summary = 'SELECT "timestamp", account, count(*) AS n, min(eventid) AS first_id FROM cloudtrail GROUP BY 1, 2 ORDER BY 1, 2';
      await loadCloudTrailTable(engine, inputs);
      const materialised = await engine.query(summary);

      // Act
      const result = await loadCloudTrailTable(engine, inputs, { materialize: false });
      const viewed = await engine.query(summary);
      const oneDay = await engine.query<{ n: number }>(`SELECT count(*) AS n FROM cloudtrail WHERE "timestamp" = '2024/03/02'`);

      // Assess
      expect(result).toEqual({ rows: 2000, files: 8, materialized: false });
      expect(viewed).toEqual(materialised);
      const expectedDay = synth.files.filter((f) => cloudTrailPartition(f.key).timestamp === '2024/03/02').reduce((n, f) => n + f.records, 0);
      expect(oneDay).toEqual([{ n: expectedDay }]);
      expect(expectedDay).toBeGreaterThan(0);
    });
  });

  describe('failures', () => {
    beforeEach(async () => {
      await loadCloudTrailTable(engine, []);
    });

    it('names the file DuckDB cannot read and leaves no half-built table', async () => {
      // Prepare
      const good = await writeRecords('GoodFile00000001', [MINIMAL_RECORD]);
      const badPath = join(dir, 'bad', 'truncated.json');
      await mkdir(dirname(badPath), { recursive: true });
      await writeFile(badPath, '{"Records":[{"eventVersion":');

      // Act
      const failure = await loadCloudTrailTable(engine, [good, { path: badPath, key: 'cases/C-1/bad/truncated.json', shape: 'records' }]).catch((e: unknown) => e);

      // Assess
      expect(failure).toMatchObject({ code: 'TABLE_LOAD_FAILED', files: [badPath], hint: expect.stringMatching(/preserved/) });
      expect((failure as Error).message).toMatch(/truncated\.json \(cases\/C-1\/bad\/truncated\.json\)/);
      expect((failure as Error).message).not.toMatch(/GoodFile/);
      await expect(engine.query('SELECT 1 FROM cloudtrail')).rejects.toThrow(/cloudtrail/);
    });

    it('reports an unreadable file in view mode at load time, not at the first detection', async () => {
      const badPath = join(dir, 'bad', 'not-json.json');
      await mkdir(dirname(badPath), { recursive: true });
      await writeFile(badPath, 'this is not JSON');
      const failure = await loadCloudTrailTable(engine, [{ path: badPath, key: 'cases/C-1/bad/not-json.json', shape: 'records' }], { materialize: false })
        .catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: 'TABLE_LOAD_FAILED', files: [badPath] });
      await expect(engine.query('SELECT 1 FROM cloudtrail')).rejects.toThrow(/cloudtrail/);
    });

    it('refuses paths DuckDB would expand as globs, and one path given with two keys', async () => {
      const failure = await loadCloudTrailTable(engine, [
        { path: '/evidence/[case]/x.json', key: 'a', shape: 'records' },
        { path: '/evidence/y.json', key: 'b', shape: 'records' },
        { path: '/evidence/y.json', key: 'c', shape: 'records' },
      ]).catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: 'TABLE_LOAD_FAILED' });
      expect((failure as Error).message).toMatch(/\[case\].*glob character/);
      expect((failure as Error).message).toMatch(/y\.json: given twice, with keys b and c/);
    });
  });
});

describe('Function: cloudTrailPartition', () => {
  it.each([
    ['AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/f.json.gz', { account: '111122223333', region: 'us-east-1', timestamp: '2024/03/01' }],
    ['cases/C-1/aws/cloudtrail/AWSLogs/o-abc123def4/444455556666/CloudTrail/eu-west-1/2023/12/31/f.json.gz', { account: '444455556666', region: 'eu-west-1', timestamp: '2023/12/31' }],
    ['uploads/cloudtrail-export.json', { account: null, region: null, timestamp: null }],
  ])('reads %s', (key, expected) => {
    expect(cloudTrailPartition(key)).toEqual(expected);
  });
});

describe('Function: athenaCloudTrailDdl', () => {
  const options = { location: 's3://evidence-bucket/cases/C-1/aws/cloudtrail/AWSLogs/', accounts: ['111122223333', '444455556666'], startDate: '2024/01/01' };

  it('declares the documented columns with Hive types and projects account, region and day', () => {
    // Act
    const { table } = athenaCloudTrailDdl(options);

    // Assess
    expect(table).toMatch(/^CREATE EXTERNAL TABLE cloudtrail_files \(\n {2}eventversion STRING,\n {2}useridentity STRUCT<\n {4}type: STRING,/);
    expect(table).toContain('  resources ARRAY<STRUCT<\n    arn: STRING,\n    accountid: STRING,\n    type: STRING>>,');
    expect(table).toContain('attributes: MAP<STRING,STRING>>');
    expect(table).toContain("ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'");
    expect(table).toContain("STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'");
    expect(table).toContain('PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)');
    expect(table).toContain("'projection.account.values'='111122223333,444455556666'");
    expect(table).toContain(`'projection.region.values'='${AWS_COMMERCIAL_REGIONS.join(',')}'`);
    expect(table).toContain("'projection.timestamp.format'='yyyy/MM/dd'");
    expect(table).toContain("'projection.timestamp.range'='2024/01/01,NOW'");
    expect(table).toContain("'storage.location.template'='s3://evidence-bucket/cases/C-1/aws/cloudtrail/AWSLogs/${account}/CloudTrail/${region}/${timestamp}'");
    const declared = [...table.matchAll(/^ {2}([a-z0-9]+) /gm)].map((m) => m[1]);
    expect(declared).toEqual(CLOUDTRAIL_COLUMNS.map((c) => c.name).filter((n) => !['evidence_key', 'evidence_record', 'account', 'region', 'timestamp'].includes(n)));
    expect(table.split('<').length).toBe(table.split('>').length);
  });

  it('adds evidence_key from "$path" and an honest NULL evidence_record in a Trino view', () => {
    const { view } = athenaCloudTrailDdl({ ...options, regions: ['us-east-1'] });
    assertTrinoSql(view);
    expect(view).toMatch(/^CREATE OR REPLACE VIEW cloudtrail AS/);
    expect(view).toContain(`regexp_replace("$path", '^s3://[^/]+/', '') AS evidence_key`);
    expect(view).toContain('CAST(NULL AS INTEGER) AS evidence_record');
    expect(view).toContain('account, region, "timestamp"\nFROM cloudtrail_files');
  });

  it('lists every problem with the options in one error', () => {
    expect(() => athenaCloudTrailDdl({ location: 'https://x/AWSLogs', accounts: ['123'], regions: ['mars-1'], startDate: '2024-01-01' }))
      .toThrow(/s3:\/\/ URI[\s\S]*end with \/AWSLogs\/[\s\S]*12 digits, got 123[\s\S]*not a region name: mars-1[\s\S]*yyyy\/MM\/dd/);
  });
});
