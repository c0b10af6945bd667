/**
 * deriveRows: one preserved object into its table's NDJSON rows, one object per hive partition, with the
 * sources' own parsers.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deriveRows, derivedRowsKey } from '../../../shared/sources/derive-rows.ts';
import { AZURE_ACTIVITY_COLUMNS } from '../../../shared/sources/azure-activity/index.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const item = (key: string, source?: string) => ({ case: 'C-1', id: 'ev-0123', key, ...(source ? { source } : {}) });

const auditLine = (project: string, time: string, insertId: string): string =>
  JSON.stringify({
    protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', status: {}, serviceName: 'iam.googleapis.com', methodName: 'SetIamPolicy', authenticationInfo: { principalEmail: 'a@example.com' } },
    insertId,
    resource: { type: 'project', labels: { project_id: project } },
    timestamp: time,
    logName: `projects/${project}/logs/cloudaudit.googleapis.com%2Factivity`,
  });

describe('Function: deriveRows', () => {
  it('partitions Azure Activity Log records by subscription and day, each line citing the record', async () => {
    // Prepare
    const key = 'cases/C-1/azure/insights-activity-logs/eventhub-batch.json';
    const bytes = await readFile(join(FIXTURES, 'azure/azure-activity/diagnostic-settings-records/eventhub-batch.json'));

    // Act
    const out = deriveRows(bytes, item(key));

    // Assess
    expect(out.kind).toBe('rows');
    if (out.kind !== 'rows') return;
    expect(out.table).toBe('azure_activity');
    expect(out.parts.length).toBeGreaterThan(0);
    for (const part of out.parts) {
      expect(part.key).toBe(derivedRowsKey('azure_activity', 'C-1', part.account, part.day, 'ev-0123'));
      const rows = part.body.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(rows).toHaveLength(part.rows);
      for (const r of rows) {
        expect(r.evidence_key).toBe(key);
        // What a BigQuery table with ignore_unknown_values = false accepts: declared columns, text in STRING columns.
        for (const [name, value] of Object.entries(r)) {
          const column = AZURE_ACTIVITY_COLUMNS.find((c) => c.name === name);
          if (name === 'evidence_key' || name === 'evidence_record') continue;
          expect(column, `undeclared column ${name}`).toBeDefined();
          if (column?.type === 'VARCHAR') expect(typeof value).toBe('string');
        }
        expect(String(r.subscription_id ?? r.tenant_id).replace(/[^A-Za-z0-9._-]/g, '_')).toBe(part.account);
        expect(String(r.time).slice(0, 10)).toBe(part.day);
      }
    }
    expect(out.parts.reduce((n, p) => n + p.rows, 0)).toBe(out.rows);
  });

  it('gives the same parts, byte for byte, from the gzip of the same bytes, and on every run', () => {
    // Prepare
    const text = `${auditLine('p-b', '2026-03-14T02:00:00Z', 'x2')}\n${auditLine('p-a', '2026-03-14T01:00:00Z', 'x1')}\n`;

    // Act
    const plain = deriveRows(Buffer.from(text), item('cases/C-1/gcp/audit.jsonl'));
    const again = deriveRows(Buffer.from(text), item('cases/C-1/gcp/audit.jsonl'));
    const gz = deriveRows(gzipSync(text), item('cases/C-1/gcp/audit.jsonl'));

    // Assess
    expect(plain.kind).toBe('rows');
    if (plain.kind !== 'rows' || gz.kind !== 'rows' || again.kind !== 'rows') return;
    expect(plain.parts.map((p) => [p.account, p.day, p.rows])).toEqual([['p-a', '2026-03-14', 1], ['p-b', '2026-03-14', 1]]);
    expect(again.parts.map((p) => p.body.toString('hex'))).toEqual(plain.parts.map((p) => p.body.toString('hex')));
    expect(gz.parts.map((p) => p.body.toString('hex'))).toEqual(plain.parts.map((p) => p.body.toString('hex')));
  });

  it('reports a broken record with its position and keeps the others', () => {
    // Prepare
    const text = `${auditLine('p-a', '2026-03-14T01:00:00Z', 'x1')}\n{"protoPayload": oops\n${auditLine('p-a', '2026-03-14T03:00:00Z', 'x3')}\n`;

    // Act
    const out = deriveRows(Buffer.from(text), item('cases/C-1/gcp/audit.jsonl'));

    // Assess
    expect(out.kind).toBe('rows');
    if (out.kind !== 'rows') return;
    expect(out.rows).toBe(2);
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatchObject({ line: 2 });
    const records = out.parts[0]!.body.toString('utf8').trim().split('\n').map((l) => (JSON.parse(l) as { evidence_record: number }).evidence_record);
    expect(records).toEqual([0, 2]);
  });

  it('derives nothing from CloudTrail or from an object no parser claims, saying why', async () => {
    // Prepare
    const trail = await readFile(join(FIXTURES, 'aws/cloudtrail/records/123456789012_CloudTrail_us-east-1_20240305T1005Z_AmbrFixtureRec01.json'));

    // Act
    const ct = deriveRows(trail, item('cases/C-1/AWSLogs/x.json'));
    const text = deriveRows(Buffer.from('hello\n'), item('cases/C-1/notes.txt'));

    // Assess
    expect(ct).toMatchObject({ kind: 'not-derived', source: 'cloudtrail' });
    expect(text).toMatchObject({ kind: 'not-derived', reason: expect.stringContaining('not a format Amber parses') });
  });
  it('partitions inventory rows by their own account column, which the BigQuery table reads from the partition', async () => {
    // Prepare: capture lines of a Google Cloud inventory (the detection fixture's own format)
    const key = 'cases/C-1/inventory/capture.jsonl';
    const bytes = await readFile(join(import.meta.dirname, '../../../shared/detections/inventory-gcp-bucket-public/fixtures/match.jsonl'));

    // Act
    const out = deriveRows(bytes, item(key, 'inventory'));

    // Assess: every part's partition names the account its rows carry
    expect(out.kind).toBe('rows');
    if (out.kind !== 'rows') return;
    expect(out.table).toBe('inventory');
    for (const part of out.parts) {
      expect(part.account).not.toBe('unknown');
      const rows = part.body.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const row of rows) expect(String(row.account).replace(/[^A-Za-z0-9._-]/g, '_')).toBe(part.account);
    }
  });
});
