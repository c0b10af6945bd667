import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entraSignInAthenaDdl, entraSignInSource, ENTRA_SIGNIN_COLUMNS } from '../../../../shared/sources/entra-signin/index.ts';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { TIMELINE_COLUMNS } from '../../../../shared/timeline/timeline.ts';
import { fixtureText, loadParsed, parseFixture, sourceTimeline } from '../cloud-records/fixtures.ts';

const DIAG = 'azure/entra-signin/diagnostic-settings/PT1H.json';
const parse = (relative: string) => parseFixture(entraSignInSource, relative);

describe('Source: entra-signin', () => {
  describe('Method: parse', () => {
    it.each([
      [DIAG, 'diagnostic-settings:jsonl', 5],
      ['azure/entra-signin/graph-v1/signins.json', 'graph:.value', 2],
      ['azure/entra-signin/graph-beta/signins.json', 'graph:.value', 2],
      ['azure/entra-signin/log-analytics/signinlogs.json', 'log-analytics:array', 2],
    ])('reads %s as %s, every record a row', (relative, variant, rows) => {
      // Act
      const result = parse(relative);

      // Assess
      expect(result.problems).toEqual([]);
      expect(result.variant).toBe(variant);
      expect(result.rows).toHaveLength(rows);
      for (const { row } of result.rows) expect(Object.keys(row)).toEqual(ENTRA_SIGNIN_COLUMNS.map((c) => c.name));
    });

    it('tells the four sign-in logs apart by diagnostic category', () => {
      // Act
      const rows = parse(DIAG).rows.map((r) => r.row);

      // Assess
      expect(rows.map((r) => [r.category, r.sign_in_type, r.user_principal_name ?? r.service_principal_name])).toEqual([
        ['SignInLogs', 'interactiveUser', 'alice@contoso.example'],
        ['NonInteractiveUserSignInLogs', 'nonInteractiveUser', 'alice@contoso.example'],
        ['ServicePrincipalSignInLogs', 'servicePrincipal', 'billing-exporter'],
        ['ManagedIdentitySignInLogs', 'managedIdentity', 'vm-identity'],
        ['SignInLogs', 'interactiveUser', 'alice@contoso.example'],
      ]);
      expect(rows[3]?.managed_identity_type).toBe('systemAssigned');
    });

    it('reads risk, MFA and conditional access fields as Entra writes them, and the time in UTC from createdDateTime', () => {
      // Act
      const [first, , , , failed] = parse(DIAG).rows.map((r) => r.row);

      // Assess
      expect(first).toMatchObject({
        time: '2026-03-14T08:00:00Z', original_time: '2026-03-14T08:00:00.1234567Z', error_code: '0', ip_address: '203.0.113.5',
        authentication_requirement: 'multiFactorAuthentication', conditional_access_status: 'success', risk_level_during_sign_in: 'none',
        risk_level_aggregated: 'none', risk_state: 'none', token_issuer_type: 'AzureAD', is_interactive: true, location_country: 'PT',
        location_city: 'Porto', client_app_used: 'Browser', app_display_name: 'OfficeHome', user_agent: 'Mozilla/5.0 (Macintosh)',
      });
      expect(JSON.parse(String(first?.mfa_detail))).toEqual({ authMethod: 'Mobile app notification', authDetail: null });
      expect(JSON.parse(String(first?.applied_conditional_access_policies))).toEqual([{ id: 'p1', displayName: 'Require MFA', result: 'success' }]);
      expect(failed).toMatchObject({ time: '2026-03-14T08:00:04Z', original_time: '2026-03-14T03:00:04.5-05:00', error_code: '50126', failure_reason: 'Invalid password' });
    });

    it('derives the sign-in type of Graph records from signInEventTypes (beta) or isInteractive (v1.0)', () => {
      // Act / Assess
      expect(parse('azure/entra-signin/graph-v1/signins.json').rows.map((r) => [r.row.sign_in_type, r.row.error_code, r.row.source_shape])).toEqual([
        ['interactiveUser', '0', 'graph'], ['interactiveUser', '50074', 'graph'],
      ]);
      expect(parse('azure/entra-signin/graph-beta/signins.json').rows.map((r) => r.row.sign_in_type)).toEqual(['nonInteractiveUser', 'servicePrincipal']);
    });

    it('reads Log Analytics exports with PascalCase columns and JSON-text Status and LocationDetails', () => {
      // Act
      const [interactive, nonInteractive] = parse('azure/entra-signin/log-analytics/signinlogs.json').rows.map((r) => r.row);

      // Assess
      expect(interactive).toMatchObject({
        sign_in_type: 'interactiveUser', user_principal_name: 'alice@contoso.example', ip_address: '203.0.113.7', error_code: '0',
        authentication_requirement: 'singleFactorAuthentication', risk_level_during_sign_in: 'medium', risk_state: 'atRisk',
        location_country: 'PT', location_city: 'Braga', is_interactive: true, source_shape: 'log-analytics',
      });
      expect(nonInteractive).toMatchObject({ sign_in_type: 'nonInteractiveUser', error_code: '50173', failure_reason: 'The provided grant has expired' });
    });

    it('reports unreadable records with their line and reason and keeps the good one', () => {
      // Act
      const result = parse('azure/entra-signin/malformed/PT1H.json');

      // Assess
      expect(result.rows.map((r) => r.index)).toEqual([0]);
      expect(result.problems).toEqual([
        { index: 1, line: 2, reason: expect.stringMatching(/^is not valid JSON/) },
        { index: 2, line: 3, reason: 'has a date that does not exist: "2026-02-30T00:00:00Z"' },
        { index: 3, line: 4, reason: 'names no user, service principal or application (no userPrincipalName, userId, servicePrincipalId or appId)' },
        { index: 4, line: 5, reason: 'is not a JSON object (it is a string)' },
      ]);
    });
  });

  describe('Method: sniff', () => {
    it.each([[DIAG], ['azure/entra-signin/graph-v1/signins.json'], ['azure/entra-signin/graph-beta/signins.json'], ['azure/entra-signin/log-analytics/signinlogs.json']])('recognises %s', (relative) => {
      // Act / Assess
      expect(entraSignInSource.sniff(fixtureText(relative), relative)).toBe(true);
    });

    it.each([['azure/entra-audit/diagnostic-settings/records.json'], ['azure/azure-activity/rest-api/activity-log-values.json'], ['m365/m365-audit/management-api/content-blob.json']])('leaves %s to its own source', (relative) => {
      // Act / Assess
      expect(entraSignInSource.sniff(fixtureText(relative), relative)).toBe(false);
    });
  });

  describe('Table and timeline', () => {
    let engine: DuckDbQueryEngine;
    beforeAll(async () => {
      engine = await DuckDbQueryEngine.create({ threads: 1 });
    });
    afterAll(async () => engine?.close());

    it('puts sign-ins on the timeline: the user or service principal as actor, failures with their error code', async () => {
      // Prepare
      await loadParsed(engine, entraSignInSource, [{ key: 'cases/c1/signin.json', result: parse(DIAG) }]);

      // Act
      const timeline = await engine.query<Record<string, unknown>>(sourceTimeline(entraSignInSource));
      const types = await engine.query<{ column_name: string; column_type: string }>(`DESCRIBE ${sourceTimeline(entraSignInSource)}`);

      // Assess
      expect(types.map((t) => [t.column_name, t.column_type])).toEqual(TIMELINE_COLUMNS.map((c) => [c, c === 'evidence_record' ? 'INTEGER' : 'VARCHAR']));
      expect(timeline.map((r) => [r.actor, r.identity, r.action, r.outcome, r.error_code])).toEqual([
        ['alice@contoso.example', 'alice@contoso.example', 'Sign-in activity (interactiveUser)', 'success', null],
        ['alice@contoso.example', 'alice@contoso.example', 'Sign-in activity (nonInteractiveUser)', 'success', null],
        ['billing-exporter', 'billing-exporter', 'Sign-in activity (servicePrincipal)', 'success', null],
        ['vm-identity', 'vm-identity', 'Sign-in activity (managedIdentity)', 'success', null],
        ['alice@contoso.example', 'alice@contoso.example', 'Sign-in activity (interactiveUser)', 'failure', '50126'],
      ]);
      expect(timeline[0]).toMatchObject({ cloud: 'azure', source: 'entra-signin', account: '7f6e5d4c-3b2a-4190-8877-665544332211', service: 'Microsoft Entra ID', target: 'OfficeHome', source_ip: '203.0.113.5' });
    });
  });

  it('builds its Athena DDL over the derived rows, the boolean column typed BOOLEAN', () => {
    // Act
    const ddl = entraSignInAthenaDdl({ location: 's3://evidence/cases/C-1/_amber/derived/entra-signin/', tableName: 'amber.entra_signin' });

    // Assess
    expect(ddl).toMatch(/^CREATE EXTERNAL TABLE amber\.entra_signin \(/);
    expect(ddl).toContain('`is_interactive` BOOLEAN');
    expect(ddl).toContain('`risk_level_during_sign_in` STRING');
  });
});
