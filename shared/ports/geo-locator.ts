/** The GeoLocator port: where an IP address is, for impossible-travel analysis. */

export interface GeoPoint {
  readonly latitude: number;
  readonly longitude: number;
  readonly city?: string;
  readonly country?: string;
}

export interface GeoLocator {
  /** Where the address is, or undefined for private, reserved, malformed or unknown addresses. */
  locate(ip: string): GeoPoint | undefined;
  /** Where the data comes from, for attribution in reports (e.g. "DB-IP City Lite (CC BY 4.0)"). */
  readonly attribution: string;
}
