import { describe, expect, it } from 'vitest';
import { distanceKm, isNonPublicAddress, MmdbGeoLocator } from '../../../shared/geo/mmdb-geo-locator.ts';

describe('Class: MmdbGeoLocator', () => {
  const geo = new MmdbGeoLocator();

  it('locates public IPv4 and IPv6 addresses offline from the DB-IP City Lite database', () => {
    expect(geo.locate('8.8.8.8')).toMatchObject({ country: 'US' });
    expect(geo.locate('1.1.1.1')).toMatchObject({ country: 'AU' });
    expect(geo.locate('2001:4860:4860::8888')).toMatchObject({ latitude: expect.any(Number) });
    expect(geo.attribution).toMatch(/DB-IP.*CC BY 4\.0/);
  });

  it('never places private, reserved or documentation addresses', () => {
    for (const ip of ['10.1.2.3', '172.16.5.4', '192.168.1.1', '100.64.0.1', '127.0.0.1', '169.254.169.254', '192.0.2.1', '198.51.100.23', '203.0.113.66', 'fd00::1', '2001:db8::1', 'not-an-ip', 'ec2.amazonaws.com']) {
      expect(isNonPublicAddress(ip), ip).toBe(true);
      expect(geo.locate(ip), ip).toBeUndefined();
    }
    expect(isNonPublicAddress('8.8.8.8')).toBe(false);
  });
});

describe('Function: distanceKm', () => {
  it('gives great-circle distances (London to New York is about 5,570 km)', () => {
    const km = distanceKm({ latitude: 51.5074, longitude: -0.1278 }, { latitude: 40.7128, longitude: -74.006 });
    expect(km).toBeGreaterThan(5540);
    expect(km).toBeLessThan(5600);
  });
});
