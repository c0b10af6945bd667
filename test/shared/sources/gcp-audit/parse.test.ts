import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GCP_AUDIT_BIGQUERY_COLUMNS, GCP_AUDIT_COLUMNS, gcpAuditAthenaDdl, gcpAuditBigQueryViewSql, gcpAuditSource } from '../../../../shared/sources/gcp-audit/index.ts';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { fixtureText, HOSTILE, loadParsed, parseFixture, sourceTimeline } from '../cloud-records/fixtures.ts';

const JSONL = 'gcp/gcp-audit/log-entry-jsonl/cloudaudit.googleapis.com/activity/2026/03/14/10-00-00_10-59-59_S0.json';
const parse = (relative: string) => parseFixture(gcpAuditSource, relative);

describe('Source: gcp-audit', () => {
  describe('Method: parse', () => {
    it.each([
      [JSONL, 'log-entry:jsonl', 4],
      ['gcp/gcp-audit/gcloud-array/logging-read.json', 'log-entry:array', 2],
      ['gcp/gcp-audit/entries-api/entries-list.json', 'log-entry:.entries', 2],
      ['gcp/gcp-audit/bigquery-sink/bq-export.json', 'bigquery-sink:jsonl', 2],
    ])('reads %s as %s, every entry a row', (relative, variant, rows) => {
      // Act
      const result = parse(relative);

      // Assess
      expect(result.problems).toEqual([]);
      expect(result.variant).toBe(variant);
      expect(result.rows).toHaveLength(rows);
      for (const { row } of result.rows) expect(Object.keys(row)).toEqual(GCP_AUDIT_COLUMNS.map((c) => c.name));
    });

    it('reads all four audit logs and flattens the AuditLog payload', () => {
      // Act
      const rows = parse(JSONL).rows.map((r) => r.row);

      // Assess
      expect(rows.map((r) => [r.log_type, r.method_name, r.status_code, r.status_message])).toEqual([
        ['activity', 'v1.compute.instances.stop', null, null],
        ['data_access', 'v1.compute.instances.get', 7, 'PERMISSION_DENIED'],
        ['system_event', 'compute.instances.preempted', null, null],
        ['policy', 'v1.compute.instances.insert', 7, "Request is prohibited by organization's policy."],
      ]);
      expect(rows[0]).toMatchObject({
        time: '2026-03-14T10:00:00Z', original_time: '2026-03-14T10:00:00.123456789Z', project_id: 'amber-test-1', log_parent: 'projects/amber-test-1',
        location: 'europe-west1-b', resource_type: 'gce_instance', service_name: 'compute.googleapis.com', principal_email: 'alice@contoso.example',
        caller_ip: '203.0.113.50', caller_supplied_user_agent: 'google-cloud-sdk gcloud/470.0.0,gzip(gfe)', resource_name: 'projects/amber-test-1/zones/europe-west1-b/instances/vm-1',
        request: '{"@type":"type.googleapis.com/compute.instances.stop"}', source_shape: 'log-entry',
      });
    });

    it('reads BigQuery sink rows the same as the LogEntry they came from, JSON columns included', () => {
      // Act
      const fromBq = parse('gcp/gcp-audit/bigquery-sink/bq-export.json').rows.map((r) => r.row);
      const fromLog = parse('gcp/gcp-audit/gcloud-array/logging-read.json').rows.map((r) => r.row);

      // Assess
      for (const [i, bq] of fromBq.entries()) {
        const log = fromLog[i]!;
        for (const c of GCP_AUDIT_COLUMNS.map((col) => col.name)) {
          if (['original_time', 'receive_timestamp', 'source_shape'].includes(c)) continue;
          // requestJson & co. are kept as the sink wrote them: same JSON, the sink's own spacing.
          const json = ['request', 'response', 'service_data', 'metadata'].includes(c) && bq[c] !== null;
          expect([c, json ? JSON.parse(String(bq[c])) : bq[c]]).toEqual([c, json ? JSON.parse(String(log[c])) : log[c]]);
        }
      }
      expect(fromBq[0]).toMatchObject({ original_time: '2026-03-14 10:00:00.123456789 UTC', receive_timestamp: '1773482400.5', source_shape: 'bigquery-sink' });
    });

    it('reports entries that are not audit logs, or lack what the table needs, with their line', () => {
      // Act
      const result = parse('gcp/gcp-audit/malformed/bad.jsonl');

      // Assess
      expect(result.rows.map((r) => [r.index, r.row.time])).toEqual([[0, '2026-03-14T10:00:00Z'], [3, '2026-03-14T10:00:00Z']]);
      expect(result.problems).toEqual([
        { index: 1, line: 2, reason: 'has no protoPayload object: it is not a Cloud Audit Logs entry' },
        { index: 2, line: 3, reason: 'has a protoPayload of type type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata, not type.googleapis.com/google.cloud.audit.AuditLog' },
        { index: 4, line: 5, reason: 'has no protoPayload.methodName' },
        { index: 5, line: 6, reason: expect.stringMatching(/^is not valid JSON/) },
      ]);
    });

    it('keeps hostile strings exact', () => {
      // Act
      const [row] = parse('gcp/gcp-audit/hostile/hostile.json').rows.map((r) => r.row);

      // Assess
      expect([row?.method_name, row?.principal_email, row?.resource_name]).toEqual([HOSTILE, HOSTILE, HOSTILE]);
      expect(JSON.parse(String(row?.request))).toEqual({ name: HOSTILE });
    });
  });

  describe('Method: sniff', () => {
    it.each([[JSONL], ['gcp/gcp-audit/gcloud-array/logging-read.json'], ['gcp/gcp-audit/entries-api/entries-list.json'], ['gcp/gcp-audit/bigquery-sink/bq-export.json']])('recognises %s', (relative) => {
      expect(gcpAuditSource.sniff(fixtureText(relative), relative)).toBe(true);
    });

    it('leaves other sources alone', () => {
      expect(gcpAuditSource.sniff(fixtureText('azure/azure-activity/rest-api/activity-log-values.json'), 'x')).toBe(false);
    });
  });

  describe('Table and timeline', () => {
    let engine: DuckDbQueryEngine;
    beforeAll(async () => {
      engine = await DuckDbQueryEngine.create({ threads: 1 });
    });
    afterAll(async () => engine?.close());

    it('puts entries on the timeline: principal as actor, method as action, a non-zero status as a failure', async () => {
      // Prepare
      await loadParsed(engine, gcpAuditSource, [{ key: 'k/entries.json', result: parse(JSONL) }]);

      // Act
      const timeline = await engine.query<Record<string, unknown>>(sourceTimeline(gcpAuditSource));

      // Assess
      expect(timeline.map((r) => [r.cloud, r.account, r.region, r.actor, r.action, r.service, r.outcome, r.error_code])).toEqual([
        ['gcp', 'amber-test-1', 'europe-west1-b', 'alice@contoso.example', 'v1.compute.instances.stop', 'compute.googleapis.com', 'success', null],
        ['gcp', 'amber-test-1', 'europe-west1-b', 'alice@contoso.example', 'v1.compute.instances.get', 'compute.googleapis.com', 'failure', 'PERMISSION_DENIED'],
        ['gcp', 'amber-test-1', 'europe-west1-b', 'system@google.com', 'compute.instances.preempted', 'compute.googleapis.com', 'success', null],
        ['gcp', 'amber-test-1', 'europe-west1-b', 'alice@contoso.example', 'v1.compute.instances.insert', 'compute.googleapis.com', 'failure', "Request is prohibited by organization's policy."],
      ]);
    });
  });

  describe('Function: gcpAuditBigQueryViewSql', () => {
    it('maps every gcp_audit column from the sink\'s tables, one SELECT per table', () => {
      // Act
      const sql = gcpAuditBigQueryViewSql({ project: 'sec-logs', dataset: 'audit_sink', tables: ['cloudaudit_googleapis_com_activity', 'cloudaudit_googleapis_com_data_access_*'] });

      // Assess
      expect(Object.keys(GCP_AUDIT_BIGQUERY_COLUMNS).sort()).toEqual(GCP_AUDIT_COLUMNS.map((c) => c.name).sort());
      expect(sql).toMatch(/^CREATE OR REPLACE VIEW `sec-logs\.audit_sink\.gcp_audit` AS\nSELECT\n/);
      expect(sql.split('UNION ALL')).toHaveLength(2);
      expect(sql).toContain('protopayload_auditlog.requestJson AS request');
      expect(sql).toContain("CONCAT('bigquery://sec-logs/audit_sink/cloudaudit_googleapis_com_data_access_', _TABLE_SUFFIX) AS evidence_key");
      for (const c of GCP_AUDIT_COLUMNS) expect(sql).toContain(` AS ${c.name},`);
    });

    it('refuses names that would break out of the SQL, listing each', () => {
      expect(() => gcpAuditBigQueryViewSql({ project: 'p`; DROP', dataset: 'd', tables: ['t; x'] })).toThrow(/not a project id: p`; DROP\n\s+not a table name: t; x/);
    });
  });

  it('builds its Athena DDL over the derived rows', () => {
    expect(gcpAuditAthenaDdl({ location: 's3://evidence/cases/C-1/_amber/derived/gcp-audit/' })).toContain('`status_code` BIGINT');
  });
});
