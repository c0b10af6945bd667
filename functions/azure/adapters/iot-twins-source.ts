/**
 * `api:azure-iot-twins`: the device twins of an IoT Hub through its service API, as a snapshot: `POST
 * https://{hub}.azure-devices.net/devices/query?api-version=2021-04-12` with `{"query":"SELECT * FROM devices"}`,
 * every page (a JSON array of twins) preserved as received, paging with the `x-ms-continuation` response header
 * sent back as a request header (kept beside each page, see azure-pages.ts). Each run is a new snapshot under
 * its own time: twins are current state, so a later run is a later picture, never a duplicate.
 */
import { AzureApiSource, compactTime, segment } from './azure-api-source.ts';
import type { AzureHttp } from './azure-http.ts';
import { readStream, type PageStream } from './azure-pages.ts';

export const IOT_TWINS_SPEC = 'api:azure-iot-twins';
export const IOT_HUB_API_VERSION = '2021-04-12';
/** Twins per page asked for (`x-ms-max-item-count`); the service caps it at 100 for device queries. */
export const TWINS_PER_PAGE = 100;

export interface IotTwinsOptions {
  /** The hub's name (keys) and its base URL (https://{hub}.azure-devices.net, or a stand-in). */
  readonly hub: string;
  readonly hubUrl: string;
  readonly at: Date;
  readonly http: AzureHttp;
}

/** The twin query stream of a hub. */
export function twinStream(o: IotTwinsOptions): PageStream {
  const headers = { 'x-ms-max-item-count': String(TWINS_PER_PAGE) };
  return {
    spec: IOT_TWINS_SPEC,
    folder: `azure/iot-hub/${segment(o.hub)}/twins/${compactTime(o.at)}`,
    label: `the device twins of IoT hub ${o.hub}`,
    first: { api: 'iothub', method: 'POST', url: `${o.hubUrl.replace(/\/+$/, '')}/devices/query?api-version=${IOT_HUB_API_VERSION}`, body: JSON.stringify({ query: 'SELECT * FROM devices' }), headers },
    continuation: { kind: 'header', header: 'x-ms-continuation', apply: (first, _previous, value) => ({ ...first, headers: { ...headers, 'x-ms-continuation': value } }) },
    params: { hub: o.hub },
  };
}

/** The twins of one hub. */
export function iotTwinsSource(o: IotTwinsOptions): AzureApiSource {
  const stream = twinStream(o);
  return new AzureApiSource(IOT_TWINS_SPEC, [{ origin: `${IOT_TWINS_SPEC}?hub=${encodeURIComponent(o.hub)}`, run: () => readStream(stream, o.http, undefined) }]);
}
