/**
 * A page of the LookupEvents API as CloudTrail sends it (what `amber collect --from api:aws-cloudtrail`
 * preserves): compact JSON, `EventTime` in epoch seconds rather than the CLI's ISO text, `NextToken` beside
 * `Events`. The parser reads it from the `CloudTrailEvent` strings, as it reads the CLI's output.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCloudTrail } from '../../../../shared/sources/cloudtrail/index.ts';
import { recogniseSource } from '../../../../shared/sources/recognise.ts';

const PAGE = readFileSync(new URL('../../../fixtures/aws/cloudtrail/lookup-events/api-page.json', import.meta.url));
const KEY = 'cases/C/aws/cloudtrail-api/123456789012/eu-west-1/management/20240305T000000Z_20240306T000000Z/page-00001.json';

describe('CloudTrail parser: LookupEvents API pages', () => {
  it('recognises a raw API page as CloudTrail', () => {
    expect(recogniseSource(PAGE, KEY)).toBe('cloudtrail');
  });

  it('reads every event from its CloudTrailEvent string, indexed by position in Events', () => {
    // Act
    const parsed = parseCloudTrail(PAGE, KEY);

    // Assess
    expect(parsed).toMatchObject({ shape: 'lookup-events', container: '.Events', rejected: [], errors: [] });
    expect(parsed.records.map((r) => [r.index, r.record.eventName, r.record.eventTime])).toEqual([
      [0, 'StopLogging', '2024-03-05T11:02:03Z'],
      [1, 'DescribeTrails', '2024-03-05T11:01:00Z'],
    ]);
    expect(parsed.records[0]!.record.requestParameters).toEqual({ name: 'arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-trail' });
  });

  it('reads the empty page of a window without events as no records and no error', () => {
    // Act
    const parsed = parseCloudTrail(Buffer.from('{"Events":[]}'), KEY);

    // Assess
    expect(recogniseSource(Buffer.from('{"Events":[]}'), KEY)).toBe('cloudtrail');
    expect(parsed).toMatchObject({ shape: 'lookup-events', records: [], rejected: [], errors: [] });
  });
});
