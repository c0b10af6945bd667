import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entraAuditAthenaDdl, entraAuditSource, ENTRA_AUDIT_COLUMNS } from '../../../../shared/sources/entra-audit/index.ts';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { fixtureText, loadParsed, parseFixture, sourceTimeline } from '../cloud-records/fixtures.ts';

const parse = (relative: string) => parseFixture(entraAuditSource, relative);

describe('Source: entra-audit', () => {
  describe('Method: parse', () => {
    it.each([
      ['azure/entra-audit/diagnostic-settings/records.json', 'diagnostic-settings:.records', 3],
      ['azure/entra-audit/graph/directoryaudits.json', 'graph:.value', 2],
      ['azure/entra-audit/log-analytics/auditlogs.jsonl', 'log-analytics:single', 1],
    ])('reads %s as %s, every record a row', (relative, variant, rows) => {
      // Act
      const result = parse(relative);

      // Assess
      expect(result.problems).toEqual([]);
      expect(result.variant).toBe(variant);
      expect(result.rows).toHaveLength(rows);
      for (const { row } of result.rows) expect(Object.keys(row)).toEqual(ENTRA_AUDIT_COLUMNS.map((c) => c.name));
    });

    it('reads the initiator (user or app), the first target, the user agent and the role of a role change', () => {
      // Act
      const [addUser, addRole, device] = parse('azure/entra-audit/diagnostic-settings/records.json').rows.map((r) => r.row);

      // Assess
      expect(addUser).toMatchObject({
        time: '2026-03-14T12:00:00Z', original_time: '2026-03-14T12:00:00.5+00:00', activity_display_name: 'Add user', category: 'UserManagement',
        result: 'success', initiated_by_user_upn: 'admin@contoso.example', ip_address: '203.0.113.9', user_agent: 'python-requests/2.31',
        target_type: 'User', target_user_principal_name: 'new@contoso.example', target_member: 'new@contoso.example', source_shape: 'diagnostic-settings',
      });
      expect(addRole).toMatchObject({ activity_display_name: 'Add member to role', role_name: 'Global Administrator', target_member: 'new@contoso.example' });
      expect(device).toMatchObject({ initiated_by_user_upn: null, initiated_by_app_display_name: 'Device Registration Service', initiated_by_service_principal_id: 'sp1', target_display_name: 'LAPTOP-7' });
    });

    it('names the role and the member of a PIM role grant from Graph directoryAudits', () => {
      // Act
      const [pim, failed] = parse('azure/entra-audit/graph/directoryaudits.json').rows.map((r) => r.row);

      // Assess
      expect(pim).toMatchObject({ time: '2026-03-14T12:10:00Z', role_name: 'Privileged Role Administrator', target_member: 'nina@contoso.example', source_shape: 'graph' });
      expect(failed).toMatchObject({ activity_display_name: 'Reset user password', result: 'failure' });
    });

    it('parses the JSON-text columns of Log Analytics exports', () => {
      // Act
      const [row] = parse('azure/entra-audit/log-analytics/auditlogs.jsonl').rows.map((r) => r.row);

      // Assess
      expect(row).toMatchObject({ activity_display_name: 'Add service principal credentials', initiated_by_user_upn: 'admin@contoso.example', target_display_name: 'PayrollSync', target_type: 'ServicePrincipal', category: 'ApplicationManagement', source_shape: 'log-analytics' });
      expect(JSON.parse(String(row?.target_resources))[0].modifiedProperties[0].displayName).toBe('KeyDescription');
    });

    it('reports unreadable records with line and reason', () => {
      // Act
      const result = parse('azure/entra-audit/malformed/PT1H.json');

      // Assess
      expect(result.rows.map((r) => r.index)).toEqual([0]);
      expect(result.problems).toEqual([
        { index: 1, line: 2, reason: expect.stringMatching(/^is not valid JSON/) },
        { index: 2, line: 3, reason: 'has no activityDisplayName or operationName' },
      ]);
    });
  });

  describe('Method: sniff', () => {
    it.each([['azure/entra-audit/diagnostic-settings/records.json'], ['azure/entra-audit/graph/directoryaudits.json'], ['azure/entra-audit/log-analytics/auditlogs.jsonl']])('recognises %s', (relative) => {
      expect(entraAuditSource.sniff(fixtureText(relative), relative)).toBe(true);
    });

    it('leaves sign-in logs to entra-signin', () => {
      expect(entraAuditSource.sniff(fixtureText('azure/entra-signin/diagnostic-settings/PT1H.json'), 'x')).toBe(false);
    });
  });

  describe('Table and timeline', () => {
    let engine: DuckDbQueryEngine;
    beforeAll(async () => {
      engine = await DuckDbQueryEngine.create({ threads: 1 });
    });
    afterAll(async () => engine?.close());

    it('puts directory changes on the timeline: initiator as actor, activity as action, failures as failures', async () => {
      // Prepare
      await loadParsed(engine, entraAuditSource, [
        { key: 'k/diag.json', result: parse('azure/entra-audit/diagnostic-settings/records.json') },
        { key: 'k/graph.json', result: parse('azure/entra-audit/graph/directoryaudits.json') },
      ]);

      // Act
      const timeline = await engine.query<Record<string, unknown>>(sourceTimeline(entraAuditSource));

      // Assess
      expect(timeline.map((r) => [r.actor, r.action, r.service, r.target, r.outcome, r.error_code])).toEqual([
        ['admin@contoso.example', 'Add user', 'Core Directory', 'new@contoso.example', 'success', null],
        ['admin@contoso.example', 'Add member to role', 'Core Directory', 'new@contoso.example', 'success', null],
        ['Device Registration Service', 'Update device', 'Core Directory', 'LAPTOP-7', 'success', null],
        ['admin@contoso.example', 'Add member to role in PIM completed (permanent)', 'Core Directory', 'Privileged Role Administrator', 'success', null],
        ['admin@contoso.example', 'Reset user password', 'Core Directory', 'new@contoso.example', 'failure', 'failure'],
      ]);
    });
  });

  it('builds its Athena DDL over the derived rows', () => {
    expect(entraAuditAthenaDdl({ location: 's3://evidence/cases/C-1/_amber/derived/entra-audit/' })).toContain('`role_name` STRING');
  });
});
