import { describe, expect, it } from 'vitest';
import { activityBuckets, activityPlot, axisLabel, bucketName, bucketSeconds, MAX_BARS } from '../../../shared/reports/activity-plot.ts';
import { caseWith } from '../../helpers/case.ts';

const T0 = Date.parse('2026-03-01T12:00:00Z') / 1000;

/** A CloudTrail file of our own: one ConsoleLogin-style record per given minute offset. */
function trail(minutes: readonly number[], failed: readonly number[] = []): string {
  return JSON.stringify({
    Records: minutes.map((m, i) => ({
      eventVersion: '1.08', eventTime: new Date((T0 + m * 60) * 1000).toISOString().replace('.000Z', 'Z'), eventSource: 'iam.amazonaws.com', eventName: 'ListUsers',
      awsRegion: 'us-east-1', sourceIPAddress: '203.0.113.5', userAgent: 'test', eventID: `e-${i}`, eventType: 'AwsApiCall', recipientAccountId: '111122223333',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', userName: 'alice' },
      ...(failed.includes(i) ? { errorCode: 'AccessDenied' } : {}),
    })),
  });
}

describe('Function: bucketSeconds', () => {
  it('draws a 55-minute incident per minute, three days per hour, a quarter per day, never more than MAX_BARS bars', () => {
    expect(bucketSeconds(T0, T0 + 55 * 60)).toBe(60);
    expect(bucketSeconds(T0, T0 + 72 * 3600)).toBe(3600);
    expect(bucketSeconds(T0, T0 + 90 * 86_400)).toBe(86_400);
    expect(bucketSeconds(T0, T0 + 5 * 60)).toBe(10);
    for (const span of [1, 59, 3600, 7200, 86_399, 86_400 * 7, 86_400 * 365]) {
      const step = bucketSeconds(T0, T0 + span);
      expect(Math.floor((T0 + span) / step) - Math.floor(T0 / step) + 1, String(span)).toBeLessThanOrEqual(MAX_BARS);
    }
  });

  it('names widths and writes labels as precisely as they need', () => {
    expect([bucketName(60), bucketName(300), bucketName(3600), bucketName(21_600), bucketName(86_400)]).toEqual(['minute', '5 minutes', 'hour', '6 hours', 'day']);
    expect(axisLabel('2026-03-01T12:05:00.000Z', 60)).toBe('03-01 12:05');
    expect(axisLabel('2026-03-01T12:10:00.000Z', 60, '2026-03-01T12:05:00.000Z')).toBe('12:10');
    expect(axisLabel('2026-03-02T00:00:00.000Z', 3600, '2026-03-01T23:00:00.000Z')).toBe('03-02 00:00');
    expect(axisLabel('2026-03-02T00:00:00.000Z', 86_400)).toBe('2026-03-02');
  });
});

describe('Function: activityBuckets', () => {
  it('counts a 55-minute case per minute, empty minutes filled, failures apart, the same twice', async () => {
    const minutes = [0, 0, 1, 7, 30, 54, 55];
    const { engine, tables } = await caseWith({ 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T1300Z_a.json': trail(minutes, [1]) });
    const buckets = await activityBuckets(engine, tables.sources);
    expect(buckets.length).toBe(56);
    expect(buckets.every((b) => b.seconds === 60)).toBe(true);
    expect(buckets[0]).toEqual({ hour: '2026-03-01T12:00:00.000Z', events: 2, errors: 1, seconds: 60 });
    expect(buckets[7]).toMatchObject({ hour: '2026-03-01T12:07:00.000Z', events: 1, errors: 0 });
    expect(buckets[2]).toMatchObject({ events: 0 });
    expect(buckets.reduce((n, b) => n + b.events, 0)).toBe(minutes.length);
    expect(await activityBuckets(engine, tables.sources)).toEqual(buckets);
    const svg = activityPlot(buckets, []);
    expect(svg).toContain('one bar per minute');
    expect(svg).toContain('>03-01 12:00<');
    expect(svg).toMatch(/>12:\d\d</);
  });
});
