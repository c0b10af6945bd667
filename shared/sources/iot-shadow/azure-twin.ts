/**
 * Azure IoT Hub device twins read as shadow documents, so the `iot_shadows` table and the `iot-shadow-*`
 * detections cover them. A twin (as the service's `devices/query` and `twins/{id}` return it):
 * `{"deviceId","etag","version","properties":{"desired":{<fields>,"$metadata":{"$lastUpdated":ISO,<field>:
 * {"$lastUpdated":ISO,...}},"$version":N},"reported":{...same...}}}` becomes
 * `{"thingName": deviceId, "state":{"desired","reported"}, "metadata":{"desired","reported"}, "version"}` with
 * every `$lastUpdated` as a metadata `timestamp` (whole seconds since the epoch, the shadow convention) and the
 * `$`-prefixed bookkeeping keys (`$metadata`, `$version`) left out of the state. The twin's `version` is the
 * document's; a twin has no document time, so the latest root `$lastUpdated` of desired and reported (its last
 * change) is its `timestamp`. Module identities
 * (`moduleId`) are named `<deviceId>/<moduleId>`.
 */
import { isObject, type JsonObject } from '../iot-common/fields.ts';
import { parseInstant } from '../iot-common/time.ts';

/** True for a device (or module) twin. */
export function isDeviceTwin(v: JsonObject): boolean {
  return typeof v.deviceId === 'string' && isObject(v.properties) && (isObject(v.properties.desired) || isObject(v.properties.reported));
}

function stateOf(section: unknown): JsonObject {
  if (!isObject(section)) return {};
  return Object.fromEntries(Object.entries(section).filter(([k]) => !k.startsWith('$')));
}

function metadataOf(node: unknown): unknown {
  if (!isObject(node)) return undefined;
  const out: JsonObject = {};
  const when = parseInstant(node.$lastUpdated);
  if ('ms' in when) out.timestamp = Math.floor(when.ms / 1000);
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('$')) continue;
    const child = metadataOf(v);
    if (child !== undefined) out[k] = child;
  }
  return out;
}

/** The shadow document a twin reads as; see the top of this file. */
export function twinAsShadow(twin: JsonObject): JsonObject {
  const properties = twin.properties as JsonObject;
  const desired = properties.desired;
  const reported = properties.reported;
  // A twin carries no time of its own; the latest root `$lastUpdated` (its last change) stands for it.
  const roots = [desired, reported].map((p) => (isObject(p) && isObject(p.$metadata) ? parseInstant(p.$metadata.$lastUpdated) : undefined));
  const times = roots.flatMap((t) => (t !== undefined && 'ms' in t ? [Math.floor(t.ms / 1000)] : []));
  const changed = times.length === 0 ? undefined : Math.max(...times);
  const thing = typeof twin.moduleId === 'string' && twin.moduleId !== '' ? `${String(twin.deviceId)}/${twin.moduleId}` : String(twin.deviceId);
  return {
    thingName: thing,
    state: { desired: stateOf(desired), reported: stateOf(reported) },
    metadata: { desired: metadataOf(isObject(desired) ? desired.$metadata : undefined) ?? {}, reported: metadataOf(isObject(reported) ? reported.$metadata : undefined) ?? {} },
    ...(twin.version === undefined ? {} : { version: twin.version }),
    ...(changed === undefined ? {} : { timestamp: changed }),
  };
}
