/**
 * entra-risk: Graph riskDetections and riskyUsers pages, as `api:entra-risk` preserves them, recognised by the
 * registry and read into `entra_risk` rows; a record without its time is a problem naming it, the rest are rows.
 */
import { describe, expect, it } from 'vitest';
import { entraRiskSource } from '../../../../shared/sources/entra-risk/index.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';

const DETECTIONS_KEY = 'cases/C/azure/entra/00000000-0000-4000-8000-0000000000aa/risk-detections/20260314T000000Z_20260315T000000Z/page-00001.json';
const detections = JSON.stringify({
  '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#identityProtection/riskDetections',
  value: [
    { id: 'd1', riskEventType: 'passwordSpray', riskState: 'atRisk', riskLevel: 'high', riskDetail: 'none', detectionTimingType: 'offline', activity: 'signin', ipAddress: '203.0.113.9', location: { city: 'X', countryOrRegion: 'ZZ' }, activityDateTime: '2026-03-14T10:00:00Z', detectedDateTime: '2026-03-14T10:30:00.1234567Z', userId: 'u1', userPrincipalName: 'alex@contoso.example' },
    { id: 'd2', riskEventType: 'unfamiliarFeatures', riskLevel: 'low', userId: 'u2' },
  ],
});
const riskyUsers = JSON.stringify({
  '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#identityProtection/riskyUsers',
  value: [{ id: 'u1', isDeleted: false, isProcessing: true, riskLastUpdatedDateTime: '2026-03-14T11:00:00Z', riskLevel: 'medium', riskState: 'atRisk', riskDetail: 'none', userDisplayName: 'Alex', userPrincipalName: 'alex@contoso.example' }],
});

describe('Source: entra-risk', () => {
  it('is the one source the registry recognises for both Graph resources', () => {
    expect(detectSource(detections.slice(0, 400), DETECTIONS_KEY).source?.id).toBe('entra-risk');
    expect(detectSource(riskyUsers, DETECTIONS_KEY.replace('risk-detections', 'risky-users')).source?.id).toBe('entra-risk');
  });

  it('reads a risk detection at its detection time and a risky user at its last update, and names a record without a time', () => {
    const parsed = entraRiskSource.parse(detections, DETECTIONS_KEY);

    expect(parsed.rows).toHaveLength(1);
    expect(parsed.rows[0]!.row).toMatchObject({ time: '2026-03-14T10:30:00Z', record_type: 'risk-detection', risk_event_type: 'passwordSpray', risk_level: 'high', risk_state: 'atRisk', ip_address: '203.0.113.9', location_country: 'ZZ', user_principal_name: 'alex@contoso.example', user_id: 'u1' });
    expect(parsed.problems).toEqual([{ index: 1, reason: expect.stringContaining('a risk detection without a readable detectedDateTime') as unknown }]);

    const users = entraRiskSource.parse(riskyUsers, 'risky-users.json');
    expect(users.problems).toEqual([]);
    expect(users.rows[0]!.row).toMatchObject({ time: '2026-03-14T11:00:00Z', record_type: 'risky-user', user_id: 'u1', risk_level: 'medium', is_processing: true, risk_event_type: null });
  });

  it('does not claim a sign-in page (its own source keeps it)', () => {
    const signIns = JSON.stringify({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns', value: [{ id: 's', createdDateTime: '2026-03-14T10:00:00Z', riskLevelDuringSignIn: 'high', clientAppUsed: 'Browser' }] });
    expect(detectSource(signIns, 'signins.json').source?.id).toBe('entra-signin');
  });
});
