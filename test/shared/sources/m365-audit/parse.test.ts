import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { m365AuditAthenaDdl, m365AuditSource, M365_AUDIT_COLUMNS } from '../../../../shared/sources/m365-audit/index.ts';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { fixtureText, HOSTILE, loadParsed, parseFixture, sourceTimeline } from '../cloud-records/fixtures.ts';

const API = 'm365/m365-audit/management-api/content-blob.json';
const PS_CSV = 'm365/m365-audit/csv-powershell/audit-export.csv';
const parse = (relative: string) => parseFixture(m365AuditSource, relative);

describe('Source: m365-audit', () => {
  describe('Method: parse', () => {
    it.each([
      [API, 'management-api:array', 4],
      ['m365/m365-audit/management-api-gz/content-blob.json.gz', 'management-api:array', 2],
      [PS_CSV, 'search-unifiedauditlog-csv', 4],
      ['m365/m365-audit/csv-purview/Audit_Log_Search.csv', 'search-unifiedauditlog-csv', 2],
      ['m365/m365-audit/officeactivity/officeactivity.json', 'log-analytics-officeactivity:array', 1],
    ])('reads %s as %s, every record a row', (relative, variant, rows) => {
      // Act
      const result = parse(relative);

      // Assess
      expect(result.problems).toEqual([]);
      expect(result.variant).toBe(variant);
      expect(result.rows).toHaveLength(rows);
      for (const { row } of result.rows) expect(Object.keys(row)).toEqual(M365_AUDIT_COLUMNS.map((c) => c.name));
    });

    it('reads the common schema, with CreationTime (UTC without a zone) normalised and client ports removed', () => {
      // Act
      const [download, mail, rule, failed] = parse(API).rows.map((r) => r.row);

      // Assess
      expect(download).toMatchObject({
        time: '2026-03-14T10:00:00Z', original_time: '2026-03-14T10:00:00', operation: 'FileDownloaded', workload: 'SharePoint', record_type: '6',
        user_id: 'alice@contoso.example', client_ip: '203.0.113.30', object_id: 'https://contoso.sharepoint.com/sites/hr/Shared Documents/pay, "2026".xlsx',
        site_url: 'https://contoso.sharepoint.com/sites/hr/', source_file_name: 'pay, "2026".xlsx', user_agent: 'Mozilla/5.0', source_shape: 'management-api',
      });
      expect(mail).toMatchObject({ client_ip: '2001:db8::7', logon_type: '1', logon_type_name: 'Admin', mailbox_owner_upn: 'ceo@contoso.example' });
      expect(rule).toMatchObject({ client_ip: '203.0.113.31', forward_recipients: 'x@evil.example', result_status: 'True' });
      expect(JSON.parse(String(rule?.parameters))).toEqual([{ Name: 'ForwardTo', Value: 'x@evil.example' }, { Name: 'Name', Value: 'fwd' }]);
      expect(failed).toMatchObject({ result_status: 'Failed', logon_error: 'InvalidUserNameOrPassword', user_agent: 'python-requests/2.31', client_ip: '203.0.113.32' });
    });

    it('reads a PowerShell CSV export record for record like the API content, keeping AuditData exactly as exported', () => {
      // Act
      const fromCsv = parse(PS_CSV).rows;
      const fromApi = parse(API).rows;

      // Assess
      expect(fromCsv.map((r) => [r.index, r.line])).toEqual([[0, 3], [1, 21], [2, 40], [3, 65]]);
      for (const [i, { row }] of fromCsv.entries()) {
        const { audit_data: auditData, source_shape: shape, ...rest } = row;
        const { audit_data: apiData, source_shape: apiShape, ...apiRest } = fromApi[i]!.row;
        expect(rest).toEqual(apiRest);
        expect(JSON.parse(String(auditData))).toEqual(JSON.parse(String(apiData)));
        expect(String(auditData)).toContain('\n  "CreationTime"');
        expect([shape, apiShape]).toEqual(['search-unifiedauditlog-csv', 'management-api']);
      }
    });

    it('reads the Purview portal export (byte-order mark, LF, minimal quoting)', () => {
      // Act
      const rows = parse('m365/m365-audit/csv-purview/Audit_Log_Search.csv').rows;

      // Assess
      expect(rows.map((r) => [r.index, r.line, r.row.operation, r.row.object_id])).toEqual([
        [0, 2, 'FileDownloaded', 'https://contoso.sharepoint.com/sites/hr/Shared Documents/pay, "2026".xlsx'],
        [1, 3, 'MailItemsAccessed', ''],
      ]);
    });

    it('reads OfficeActivity exports: TimeGenerated, OfficeWorkload, Logon_Type, Client_IPAddress', () => {
      // Act
      const [row] = parse('m365/m365-audit/officeactivity/officeactivity.json').rows.map((r) => r.row);

      // Assess
      expect(row).toMatchObject({ time: '2026-03-14T10:05:00Z', workload: 'Exchange', logon_type: 'Delegated', logon_type_name: 'Delegated', client_ip: '203.0.113.40', id: 'oa-1', source_shape: 'log-analytics-officeactivity' });
    });

    it('reports each bad CSV record with its line and reason, and reads the rest', () => {
      // Act
      const result = parse('m365/m365-audit/malformed-csv/export.csv');

      // Assess
      expect(result.rows.map((r) => [r.index, r.line, r.row.time])).toEqual([[0, 2, '2026-03-14T10:00:00Z'], [5, 7, '2026-03-14T09:00:05Z']]);
      expect(result.problems).toEqual([
        { index: 1, line: 3, reason: expect.stringMatching(/^AuditData is not valid JSON/) },
        { index: 2, line: 4, reason: 'AuditData is not a JSON object (it is an array)' },
        { index: 3, line: 5, reason: 'has 5 fields where the header has 4; the record was not read' },
        { index: 4, line: 6, reason: expect.stringMatching(/^AuditData has no CreationTime, and the CreationDate column \("3\/14\/2026 10:00:04 AM"\) has no time zone/) },
        { index: 6, line: 8, reason: 'has a quoted field that is never closed (the file ends inside it); the record was not read' },
      ]);
    });

    it('keeps hostile strings exact through CSV unquoting and JSON parsing', () => {
      // Act
      const [row] = parse('m365/m365-audit/hostile/hostile.csv').rows.map((r) => r.row);

      // Assess
      expect(row?.user_id).toBe(HOSTILE);
      expect(row?.object_id).toBe(HOSTILE);
      expect(JSON.parse(String(row?.parameters))).toEqual([{ Name: 'ForwardTo', Value: HOSTILE }, { Name: '__proto__', Value: 'x' }]);
      expect(row?.forward_recipients).toBe(HOSTILE);
    });
  });

  describe('Method: sniff', () => {
    it.each([[API], [PS_CSV], ['m365/m365-audit/csv-purview/Audit_Log_Search.csv'], ['m365/m365-audit/officeactivity/officeactivity.json'], ['m365/m365-audit/hostile/hostile.csv']])('recognises %s', (relative) => {
      expect(m365AuditSource.sniff(fixtureText(relative), relative)).toBe(true);
    });

    it.each([['azure/entra-audit/log-analytics/auditlogs.jsonl'], ['gcp/gcp-audit/log-entry-jsonl/cloudaudit.googleapis.com/activity/2026/03/14/10-00-00_10-59-59_S0.json']])('leaves %s to its own source', (relative) => {
      expect(m365AuditSource.sniff(fixtureText(relative), relative)).toBe(false);
    });

    it('does not claim a CSV without an AuditData column', () => {
      expect(m365AuditSource.sniff('CreationDate,UserIds,Operations\n2026-03-14,a,b\n', 'x.csv')).toBe(false);
    });
  });

  describe('Table and timeline', () => {
    let engine: DuckDbQueryEngine;
    beforeAll(async () => {
      engine = await DuckDbQueryEngine.create({ threads: 1 });
    });
    afterAll(async () => engine?.close());

    it('puts activity on the timeline with the workload as service and failed operations as failures', async () => {
      // Prepare
      await loadParsed(engine, m365AuditSource, [{ key: 'k/blob.json', result: parse(API) }]);

      // Act
      const timeline = await engine.query<Record<string, unknown>>(sourceTimeline(m365AuditSource));

      // Assess
      expect(timeline.map((r) => [r.cloud, r.actor, r.action, r.service, r.source_ip, r.outcome, r.error_code])).toEqual([
        ['m365', 'alice@contoso.example', 'FileDownloaded', 'SharePoint', '203.0.113.30', 'success', null],
        ['m365', 'admin@contoso.example', 'MailItemsAccessed', 'Exchange', '2001:db8::7', 'success', null],
        ['m365', 'alice@contoso.example', 'New-InboxRule', 'Exchange', '203.0.113.31', 'success', null],
        ['m365', 'bob@contoso.example', 'UserLoginFailed', 'AzureActiveDirectory', '203.0.113.32', 'failure', 'InvalidUserNameOrPassword'],
      ]);
    });
  });

  it('builds its Athena DDL over the derived rows', () => {
    expect(m365AuditAthenaDdl({ location: 's3://evidence/cases/C-1/_amber/derived/m365-audit/' })).toContain('`forward_recipients` STRING');
  });
});
