import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureActivityAthenaDdl, azureActivitySource, AZURE_ACTIVITY_COLUMNS } from '../../../../shared/sources/azure-activity/index.ts';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { TIMELINE_COLUMNS } from '../../../../shared/timeline/timeline.ts';
import { fixtureText, HOSTILE, loadParsed, parseFixture, sourceTimeline } from '../cloud-records/fixtures.ts';

const SUB = '0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
const JSONL = `azure/azure-activity/diagnostic-settings-jsonl/insights-activity-logs/resourceId=/SUBSCRIPTIONS/${SUB}/y=2026/m=03/d=14/h=10/m=00/PT1H.json`;
const parse = (relative: string) => parseFixture(azureActivitySource, relative);

describe('Source: azure-activity', () => {
  describe('Method: parse', () => {
    it.each([
      [JSONL, 'diagnostic-settings:jsonl', 3],
      ['azure/azure-activity/diagnostic-settings-records/eventhub-batch.json', 'diagnostic-settings:.records', 2],
      ['azure/azure-activity/rest-api/activity-log-values.json', 'rest-api:.value', 2],
      ['azure/azure-activity/export-array/az-monitor-activity-log-list.json.gz', 'rest-api:array', 1],
      ['azure/azure-activity/log-analytics/azureactivity.json', 'log-analytics:array', 1],
    ])('reads %s as %s, every record a row', (relative, variant, rows) => {
      // Act
      const result = parse(relative);

      // Assess
      expect(result.problems).toEqual([]);
      expect(result.variant).toBe(variant);
      expect(result.rows).toHaveLength(rows);
      for (const { row } of result.rows) {
        expect(Object.keys(row)).toEqual(AZURE_ACTIVITY_COLUMNS.map((c) => c.name));
        expect(row.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      }
    });

    it('reads a diagnostic-settings record: caller from the UPN claim, subscription and group from the resource id', () => {
      // Act
      const [first] = parse(JSONL).rows;

      // Assess
      expect(first?.row).toMatchObject({
        time: '2026-03-14T10:00:00Z',
        original_time: '2026-03-14T10:00:00.1234567Z',
        operation_name: 'MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE',
        result_type: 'Start',
        caller: 'alice@contoso.example',
        caller_ip: '198.51.100.10',
        subscription_id: SUB,
        resource_group: 'APP-RG',
        resource_provider: 'MICROSOFT.COMPUTE',
        tenant_id: '7f6e5d4c-3b2a-4190-8877-665544332211',
        authorization_action: 'MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE',
        principal_id: '11111111-2222-4333-8444-555555555555',
        principal_type: 'User',
        app_id: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
        duration_ms: 1200,
        location: 'westeurope',
        source_shape: 'diagnostic-settings',
      });
      expect(JSON.parse(String(first?.row.claims))).toMatchObject({ appid: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c' });
    });

    it('reads the REST shape: operationName.value, status.value, httpRequest.clientIpAddress, subscriptionId', () => {
      // Act
      const [, failed] = parse('azure/azure-activity/rest-api/activity-log-values.json').rows;

      // Assess
      expect(failed?.row).toMatchObject({
        time: '2026-03-14T12:01:00Z',
        operation_name: 'Microsoft.Storage/storageAccounts/listKeys/action',
        operation_name_localized: 'Create/Update Storage Account',
        result_type: 'Failed',
        result_signature: 'Forbidden',
        caller: 'bob@contoso.example',
        caller_ip: '198.51.100.11',
        category: 'Administrative',
        event_data_id: 'e0000000-0000-4000-8000-000000000002',
        resource_group: 'data-rg',
        resource_provider: 'Microsoft.Storage',
        resource_type: 'Microsoft.Storage/storageAccounts',
        subscription_id: SUB,
        source_shape: 'rest-api',
      });
    });

    it('reads a Log Analytics AzureActivity export, parsing its JSON-text Authorization column', () => {
      // Act
      const [row] = parse('azure/azure-activity/log-analytics/azureactivity.json').rows;

      // Assess
      expect(row?.row).toMatchObject({
        operation_name: 'MICROSOFT.COMPUTE/VIRTUALMACHINES/DELETE',
        operation_name_localized: 'Delete Virtual Machine',
        result_type: 'Success',
        caller: 'carol@contoso.example',
        caller_ip: '198.51.100.12',
        authorization_action: 'Microsoft.Compute/virtualMachines/delete',
        app_id: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
        source_shape: 'log-analytics',
      });
    });

    it('keeps each record\'s index: position in the container, physical line in JSON Lines (blank lines count)', () => {
      // Act / Assess
      expect(parse(JSONL).rows.map((r) => [r.index, r.line])).toEqual([[0, 1], [1, 2], [3, 4]]);
      expect(parse('azure/azure-activity/rest-api/activity-log-values.json').rows.map((r) => r.index)).toEqual([0, 1]);
    });

    it('reports every unreadable record with its line and reason, and keeps the good ones', () => {
      // Act
      const result = parse('azure/azure-activity/malformed/PT1H.json');

      // Assess
      expect(result.rows.map((r) => r.index)).toEqual([0, 6]);
      expect(result.problems).toEqual([
        { index: 1, line: 2, reason: expect.stringMatching(/^is not valid JSON/) },
        { index: 2, line: 3, reason: 'is not a JSON object (it is an array)' },
        { index: 3, line: 4, reason: 'has a time that is not ISO-8601: "yesterday"' },
        { index: 4, line: 5, reason: 'has no operationName' },
        { index: 5, line: 6, reason: expect.stringMatching(/^looks like a entra-signin record, not azure-activity; collect this object with --source entra-signin/) },
      ]);
    });

    it('keeps the records before the damage of a truncated blob and reports the damage', () => {
      // Act
      const result = parse('azure/azure-activity/truncated/records.json');

      // Assess
      expect(result.rows).toHaveLength(2);
      expect(result.problems).toEqual([{ index: 2, line: expect.any(Number), reason: expect.stringMatching(/damaged .* in \.records\[2\]; the 2 complete record\(s\) before it were kept/) }]);
    });

    it('passes hostile strings through unaltered', () => {
      // Act
      const [row] = parse('azure/azure-activity/hostile/hostile.jsonl').rows;

      // Assess
      expect(row?.row.caller).toBe(HOSTILE);
      expect(row?.row.resource_id).toBe(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Resources/tags/${HOSTILE}`);
      expect(JSON.parse(String(row?.row.properties))).toEqual({ statusCode: 'OK', ['__proto__']: { polluted: true }, message: HOSTILE });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('Method: sniff', () => {
    it.each([
      [JSONL],
      ['azure/azure-activity/diagnostic-settings-records/eventhub-batch.json'],
      ['azure/azure-activity/rest-api/activity-log-values.json'],
      ['azure/azure-activity/export-array/az-monitor-activity-log-list.json.gz'],
      ['azure/azure-activity/log-analytics/azureactivity.json'],
    ])('recognises %s', (relative) => {
      // Act / Assess
      expect(azureActivitySource.sniff(fixtureText(relative).slice(0, 65536), relative)).toBe(true);
    });

    it.each([
      ['azure/entra-signin/diagnostic-settings/PT1H.json'],
      ['azure/entra-audit/diagnostic-settings/records.json'],
      ['gcp/gcp-audit/gcloud-array/logging-read.json'],
      ['m365/m365-audit/management-api/content-blob.json'],
      ['aws/cloudtrail/records/123456789012_CloudTrail_us-east-1_20240305T1005Z_AmbrFixtureRec01.json'],
    ])('leaves %s to its own source', (relative) => {
      // Act / Assess
      expect(azureActivitySource.sniff(fixtureText(relative).slice(0, 65536), relative)).toBe(false);
    });

    it('does not claim another Azure resource log with the same top-level schema', () => {
      // Prepare: a Key Vault AuditEvent record shares time/resourceId/operationName/category with the Activity Log.
      const keyVault = JSON.stringify({ time: '2026-03-14T10:00:00Z', resourceId: `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV`, operationName: 'SecretGet', category: 'AuditEvent', resultType: 'Success' });

      // Act / Assess
      expect(azureActivitySource.sniff(keyVault, 'resourceId=/x/PT1H.json')).toBe(false);
    });
  });

  describe('Table and timeline', () => {
    let engine: DuckDbQueryEngine;
    beforeAll(async () => {
      engine = await DuckDbQueryEngine.create({ threads: 1 });
    });
    afterAll(async () => engine?.close());

    it('loads every shape into azure_activity and puts each row on the timeline with the documented columns and types', async () => {
      // Prepare
      const files = [JSONL, 'azure/azure-activity/rest-api/activity-log-values.json', 'azure/azure-activity/hostile/hostile.jsonl'];
      const count = await loadParsed(engine, azureActivitySource, files.map((f) => ({ key: `cases/c1/${f}`, result: parse(f) })));

      // Act
      const timeline = await engine.query<Record<string, unknown>>(sourceTimeline(azureActivitySource));
      const types = await engine.query<{ column_name: string; column_type: string }>(`DESCRIBE ${sourceTimeline(azureActivitySource)}`);

      // Assess
      expect(count).toBe(6);
      expect(types.map((t) => [t.column_name, t.column_type])).toEqual(TIMELINE_COLUMNS.map((c) => [c, c === 'evidence_record' ? 'INTEGER' : 'VARCHAR']));
      expect(timeline[0]).toEqual({
        time: '2026-03-14T10:00:00Z', cloud: 'azure', source: 'azure-activity', account: SUB, region: 'westeurope', actor: 'alice@contoso.example', identity: 'alice@contoso.example',
        action: 'MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE', service: 'MICROSOFT.COMPUTE', target: `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/APP-RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM-1`,
        source_ip: '198.51.100.10', user_agent: null, outcome: 'success', error_code: null, evidence_key: `cases/c1/${JSONL}`, evidence_record: 0,
      });
      expect(timeline.filter((r) => r.outcome === 'failure').map((r) => [r.action, r.error_code])).toEqual([
        ['Microsoft.Compute/virtualMachines/delete', 'OK'],
        ['Microsoft.Storage/storageAccounts/listKeys/action', 'OK'],
      ]);
      expect(timeline.find((r) => r.time === '2026-03-14T17:00:00Z')?.actor).toBe(HOSTILE);
    });
  });

  describe('Function: azureActivityAthenaDdl', () => {
    it('declares every column over the derived rows, typed for Athena', () => {
      // Act
      const ddl = azureActivityAthenaDdl({ location: 's3://evidence-bucket/cases/C-1/_amber/derived/azure-activity/' });

      // Assess
      expect(ddl).toMatch(/^CREATE EXTERNAL TABLE azure_activity \(/);
      for (const c of AZURE_ACTIVITY_COLUMNS) expect(ddl).toContain(`\`${c.name}\` ${c.type === 'BIGINT' ? 'BIGINT' : 'STRING'}`);
      expect(ddl).toContain('`evidence_record` INT');
      expect(ddl).toContain("LOCATION 's3://evidence-bucket/cases/C-1/_amber/derived/azure-activity/'");
    });

    it('refuses a location that is not an s3 folder, saying what to pass', () => {
      // Act / Assess
      expect(() => azureActivityAthenaDdl({ location: '/tmp/x' })).toThrow(/location must be an s3:\/\/ folder URI ending in \/, got \/tmp\/x/);
      expect(() => azureActivityAthenaDdl({ location: "s3://bucket/a'b/" })).toThrow(/location must be an s3:\/\/ folder URI/);
    });
  });
});
