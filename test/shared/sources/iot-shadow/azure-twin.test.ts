/** Azure IoT Hub device twins (a `devices/query` page) read into `iot_shadows` rows like AWS shadow documents. */
import { describe, expect, it } from 'vitest';
import { parseIotShadow } from '../../../../shared/sources/iot-shadow/index.ts';
import { recogniseSource } from '../../../../shared/sources/recognise.ts';

const page = [
  {
    deviceId: 'pump-7',
    etag: 'AAAAAAAAAAc=',
    version: 12,
    status: 'enabled',
    properties: {
      desired: { valve: { open: true }, rpm: 900, $metadata: { $lastUpdated: '2026-03-10T10:00:00.1234567Z', valve: { $lastUpdated: '2026-03-10T10:00:00Z', open: { $lastUpdated: '2026-03-10T10:00:00Z' } }, rpm: { $lastUpdated: '2026-03-10T09:00:00Z' } }, $version: 4 },
      reported: { rpm: 900, valve: { open: false }, $metadata: { $lastUpdated: '2026-03-10T10:30:00Z', rpm: { $lastUpdated: '2026-03-10T09:00:05Z' }, valve: { $lastUpdated: '2026-03-10T10:30:00Z', open: { $lastUpdated: '2026-03-10T10:30:00Z' } } }, $version: 9 },
    },
  },
  { deviceId: 'gw-1', moduleId: 'edgeAgent', version: 2, properties: { desired: { $metadata: { $lastUpdated: '2026-03-10T08:00:00Z' }, $version: 1 }, reported: { $metadata: { $lastUpdated: '2026-03-10T08:00:00Z' }, $version: 1 } } },
];
const text = JSON.stringify(page);
const KEY = 'azure/iot-hub/plant/twins/20260310T110000Z/page-00001.json';

describe('Function: parseIotShadow on Azure device twins', () => {
  it('is recognised as iot-shadow by content', () => {
    expect(recogniseSource(Buffer.from(text), KEY)).toBe('iot-shadow');
  });

  it('compares desired and reported per field with their $lastUpdated times, without the $ bookkeeping keys', () => {
    const out = parseIotShadow(text, KEY);

    expect(out.problems).toEqual([]);
    expect(out.variant).toBe('azure-device-twin');
    const rows = out.rows.filter((r) => r.index === 0).map((r) => r.row);
    expect(rows.map((r) => [r.thing_name, r.path, r.desired, r.reported, r.desired_time, r.reported_time, r.in_sync, r.version])).toEqual([
      ['pump-7', 'rpm', '900', '900', '2026-03-10T09:00:00Z', '2026-03-10T09:00:05Z', true, 12],
      ['pump-7', 'valve.open', 'true', 'false', '2026-03-10T10:00:00Z', '2026-03-10T10:30:00Z', false, 12],
    ]);
    expect(rows[0]!.time).toBe('2026-03-10T10:30:00Z');
  });

  it('names a module twin device/module and keeps an empty twin as one row', () => {
    const rows = parseIotShadow(text, KEY).rows.filter((r) => r.index === 1).map((r) => r.row);

    expect(rows).toEqual([expect.objectContaining({ thing_name: 'gw-1/edgeAgent', path: null, time: '2026-03-10T08:00:00Z' })]);
  });
});
