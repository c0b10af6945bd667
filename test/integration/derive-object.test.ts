/**
 * Derive on preserve against a REAL S3 endpoint with Object Lock (Ceph RADOS Gateway on 127.0.0.1): a preserved
 * CloudTrail object and a VPC flow log object become Parquet evidence items under the case's derived prefix, recorded
 * in the ledger with their input's SHA-256; a second derivation adds nothing; a tampered input is refused.
 *
 *   set -a; . /work/ceph/env; set +a   (or: bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a)
 *   npx vitest run test/integration/derive-object.test.ts
 *
 * Without AWS_ENDPOINT_URL_S3 the suite is skipped, unless AMBER_REQUIRE_S3=1 (CI), which makes it fail.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectRetentionCommand, PutObjectCommand, PutObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import { S3ObjectStore } from '../../functions/aws/adapters/s3-object-store.ts';
import { generateIncident } from '../../shared/demo/incident.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { itemId } from '../../shared/evidence/collect.ts';
import type { EvidenceItem } from '../../shared/evidence/model.ts';
import { recordCustody } from '../../shared/preservation/custody.ts';
import { DuckDbQueryEngine } from '../../shared/query/duckdb-engine.ts';
import { deriveObject } from '../../shared/sources/derive-object.ts';
import { casesDerivedBetween } from '../../shared/sources/derived-index.ts';
import { readAll } from '../helpers/s3.ts';

const START_HINT = 'load the shared server with: set -a; . /work/ceph/env; set +a (or bash scripts/s3-server.sh start .s3-server)';
const endpoint = process.env.AWS_ENDPOINT_URL_S3;
const required = process.env.AMBER_REQUIRE_S3 === '1';
if (!endpoint && required) {
  describe('derive on preserve (S3)', () => {
    it('needs a real S3 endpoint (AMBER_REQUIRE_S3=1)', () => {
      throw new Error(`AMBER_REQUIRE_S3=1 but AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
    });
  });
} else if (!endpoint) {
  console.warn(`[derive-object] skipped: AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
}

const actor = { principal: 'arn:aws:sts::111111111111:assumed-role/amber-derive/fn', tool: 'amber-test' };
const CASE = 'INC-DERIVE-1';
const FLOW_KEY = `cases/${CASE}/aws/vpcflow/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/14/111122223333_vpcflowlogs_eu-west-1_fl-0a1b2c3d_20260314T0000Z_a1b2c3d4.log`;

describe.skipIf(!endpoint)('Use case: deriveObject on a real S3 Object Lock bucket', () => {
  let client: S3Client;
  let bucket: string;
  let store: S3ObjectStore;
  let engine: DuckDbQueryEngine;
  const trail = generateIncident()[0]!;
  const trailKey = `cases/${CASE}/aws/cloudtrail/${trail.path}`;
  const flow = readFileSync(new URL('../../shared/detections/vpc-port-scan/fixtures/match.log', import.meta.url));

  /** Preserves `bytes` at `key` and records it as `acquired`, as collect does. */
  async function preserve(key: string, bytes: Buffer, withVersion = true): Promise<EvidenceItem> {
    const put = await store.putImmutable(key, bytes, { mediaType: 'application/octet-stream' });
    const item: EvidenceItem = {
      id: itemId(key),
      case: CASE,
      origin: `file:///synthetic/${key.split('/').pop()}`,
      key,
      size: put.size,
      sha256: put.sha256,
      acquiredAt: '2026-12-01T00:00:00.000Z',
      acquiredBy: actor.principal,
      retainUntil: put.retainUntil ?? null,
      mediaType: 'application/octet-stream',
      ...(withVersion && put.versionId ? { versionId: put.versionId } : {}),
    };
    await recordCustody({ store, actor }, { case: CASE, requestId: `collect-${item.id}`, step: 'collect', action: 'acquired', batches: [{ items: [item] }] });
    return item;
  }

  beforeAll(async () => {
    client = createS3Client({ ...s3ConfigFromEnv(), maxAttempts: 3 });
    bucket = `amber-it-derive-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    await client.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
      }),
    );
    store = new S3ObjectStore({ bucket, client });
    engine = await DuckDbQueryEngine.create({ threads: 1 });
    await preserve(trailKey, trail.bytes);
    await preserve(FLOW_KEY, flow);
  }, 60_000);

  afterAll(async () => {
    await engine?.close();
  });

  it('derives a CloudTrail object into dated Parquet that cites every record of the original, recorded as derived with the input hash', async () => {
    // WHEN
    const result = await deriveObject({ store, actor }, { case: CASE, key: trailKey });
    // THEN
    expect(result.status).toBe('derived');
    expect(result.source).toBe('cloudtrail');
    expect(result.files.length).toBeGreaterThan(0);
    for (const f of result.files) expect(f.key).toMatch(new RegExp(`^cases/${CASE}/_amber/derived/parquet/cloudtrail/2026/\\d\\d/\\d\\d/\\d{12}\\.[a-z0-9-]+\\.${itemId(trailKey)}\\.${result.sha256.slice(0, 16)}\\.parquet$`));
    expect(result.files.reduce((n, f) => n + f.rows, 0)).toBe(trail.records);

    const ledger = await CustodyLedger.open(store, CASE);
    const entry = ledger.entries.find((e) => e.seq === result.entry)!;
    expect(entry.action).toBe('derived');
    expect(entry.detail).toMatchObject({ from: trailKey, fromSha256: result.sha256, parser: 'cloudtrail', rows: trail.records });
    // Each derived object is an evidence item whose recorded hash is the stored bytes' hash, under Object Lock.
    for (const f of result.files) {
      const recorded = entry.items!.find((i) => i.key === f.key)!;
      const bytes = await readAll(await store.get(f.key));
      expect(recorded.sha256).toBe(f.sha256);
      expect((await import('node:crypto')).createHash('sha256').update(bytes).digest('hex')).toBe(recorded.sha256);
      const retention = await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: f.key }));
      expect(retention.Retention?.Mode).toBe('COMPLIANCE');
    }
    // The rows keep the original's key and record index, in order, once each.
    const local = `${await (await import('node:fs/promises')).mkdtemp('/tmp/amber-derive-it-')}/ct.parquet`;
    await (await import('node:fs/promises')).writeFile(local, await readAll(await store.get(result.files[0]!.key)));
    const rows = await engine.query<{ evidence_key: string; evidence_record: number; eventtime: string }>(`SELECT evidence_key, evidence_record, eventtime FROM read_parquet('${local}')`);
    expect(new Set(rows.map((r) => r.evidence_key))).toEqual(new Set([trailKey]));
    const original = JSON.parse((await import('node:zlib')).gunzipSync(trail.bytes).toString('utf8')) as { Records: { eventTime: string }[] };
    for (const r of rows.slice(0, 20)) expect(r.eventtime).toBe(original.Records[r.evidence_record]!.eventTime);
  }, 60_000);

  it('derives a VPC flow log into its table partitioned by account, region and day, and indexes the case by day', async () => {
    const result = await deriveObject({ store, actor }, { case: CASE, key: FLOW_KEY });
    expect(result.status).toBe('derived');
    expect(result.source).toBe('vpcflow');
    expect(result.files.map((f) => f.key)).toEqual(result.files.map((f) => `cases/${CASE}/_amber/derived/parquet/vpc_flow_logs/${f.day.replace(/-/g, '/')}/111122223333.unknown.${itemId(FLOW_KEY)}.${result.sha256.slice(0, 16)}.parquet`));
    expect(result.files.reduce((n, f) => n + f.rows, 0)).toBe(flow.toString('utf8').trim().split('\n').length - 1);
    const day = result.files[0]!.day;
    expect(await casesDerivedBetween(store, new Date(`${day}T01:00:00Z`), new Date(`${day}T02:00:00Z`))).toEqual([CASE]);
    expect(await casesDerivedBetween(store, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T05:00:00Z'))).toEqual([]);
  }, 60_000);

  it('derives the same object twice into one derived item: the second call finds the entry and writes nothing', async () => {
    const before = (await CustodyLedger.open(store, CASE)).entries.length;
    const again = await deriveObject({ store, actor }, { case: CASE, key: FLOW_KEY });
    expect(again.status).toBe('already-derived');
    const ledger = await CustodyLedger.open(store, CASE);
    expect(ledger.entries.length).toBe(before);
    expect(ledger.entries.filter((e) => e.action === 'derived' && e.detail?.from === FLOW_KEY)).toHaveLength(1);
    expect(again.files.map((f) => f.key)).toEqual((await deriveObject({ store, actor }, { case: CASE, key: FLOW_KEY })).files.map((f) => f.key));
  }, 60_000);

  it('refuses a tampered input: the integrity failure is recorded and nothing is derived', async () => {
    // GIVEN an object recorded without a version, then replaced by a new version by other means
    const key = `cases/${CASE}/aws/vpcflow/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/14/tampered.log`;
    const original = Buffer.from(flow.toString('utf8').replace('61000', '61001'));
    const item = await preserve(key, original, false);
    const altered = Buffer.from(original.toString('utf8').replace('REJECT', 'ACCEPT'));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: altered }));
    // WHEN
    const result = await deriveObject({ store, actor }, { case: CASE, key });
    // THEN
    expect(result.status).toBe('integrity-failure');
    expect(result.reason).toContain(item.sha256);
    const ledger = await CustodyLedger.open(store, CASE);
    const entry = ledger.entries.find((e) => e.seq === result.entry)!;
    expect(entry.action).toBe('verified');
    expect(entry.detail).toMatchObject({ result: 'integrity-failure', key, expectedSha256: item.sha256 });
    expect(ledger.entries.some((e) => e.action === 'derived' && e.detail?.from === key)).toBe(false);
    const listed: string[] = [];
    for await (const o of store.list(`cases/${CASE}/_amber/derived/parquet/`)) listed.push(o.key);
    expect(listed.some((k) => k.includes(item.id))).toBe(false);
  }, 60_000);

  it('refuses an object without a custody record, with a retryable error that says why', async () => {
    const key = `cases/${CASE}/dropped/by-hand.log`;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: flow }));
    await expect(deriveObject({ store, actor }, { case: CASE, key })).rejects.toMatchObject({ code: 'NOT_RECORDED' });
  }, 60_000);
});
