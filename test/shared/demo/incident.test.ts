import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateIncident } from '../../../shared/demo/incident.ts';

describe('Function: generateIncident', () => {
  it('writes the same bytes every time (reruns of the demo are idempotent)', () => {
    const a = generateIncident();
    const b = generateIncident();
    expect(a.map((f) => f.path)).toEqual(b.map((f) => f.path));
    expect(a.every((f, i) => f.bytes.equals(b[i]!.bytes))).toBe(true);
  });

  it('writes valid CloudTrail times, in order, within each file of the S3 layout', () => {
    for (const file of generateIncident()) {
      expect(file.path).toMatch(/^AWSLogs\/111122223333\/CloudTrail\/us-east-1\/2026\/11\/20\/111122223333_CloudTrail_us-east-1_20261120T\d{4}Z_[a-z0-9]{16}\.json\.gz$/);
      const times = (JSON.parse(gunzipSync(file.bytes).toString()) as { Records: { eventTime: string }[] }).Records.map((r) => r.eventTime);
      expect(times).toHaveLength(file.records);
      for (const t of times) expect(new Date(t).toISOString().replace('.000Z', 'Z')).toBe(t);
      expect([...times].sort()).toEqual(times);
    }
  });
});
