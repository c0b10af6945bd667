/**
 * The events that start preservation in Azure, normalised into PreservationRequests:
 *
 * - An Event Grid event of type `Amber.PreservationRequested` (Event Grid or CloudEvents schema; published on the
 *   Amber topic, or POSTed by `amber preserve --cloud azure`): its `data` is the same detail as the AWS custom
 *   event (case, instanceIds, accountId = subscription id, region = location, window, isolate, exportVhd, requestId).
 *   Instance ids are VM references `<resource group>:<vm name>` or full VM resource ids. Request id:
 *   `data.requestId`, else the event id.
 * - A Microsoft Defender for Cloud security alert, as workflow automation hands it to a Logic App (the alert
 *   object: SystemAlertId, AlertType, Severity, StartTimeUtc, ResourceIdentifiers ...), POSTed as is or wrapped
 *   as the `data` of an Event Grid event of type `Amber.DefenderAlert`. Every `AzureResource` identifier that is
 *   a virtual machine becomes a request, one per subscription; alerts below the severity threshold are ignored.
 *   Case `mdc-<alert id>`, request id `mdc-<alert id>-<hash of subscription>`: Defender delivering the same alert
 *   twice (or the automation running again) snapshots nothing twice.
 *
 * The Defender alert names no location, so the VM's location is looked up (`locate`) before the request is made.
 */
import { InvalidInputError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/evidence/hashing.ts';
import { caseNameFrom, validatePreservationRequest, type PreservationRequest } from '../../shared/preservation/request.ts';
import { LOCATION, SUBSCRIPTION_ID, parseArmId, vmFromInput, vmRef } from './adapters/arm.ts';

/** Event type of the custom preservation event. */
export const PRESERVATION_EVENT_TYPE = 'Amber.PreservationRequested';
/** Event type of a Defender alert forwarded through Event Grid. */
export const DEFENDER_EVENT_TYPE = 'Amber.DefenderAlert';

/** Defender for Cloud severities, lowest first. */
export const DEFENDER_SEVERITIES = ['Informational', 'Low', 'Medium', 'High'] as const;
export type DefenderSeverity = (typeof DEFENDER_SEVERITIES)[number];

export interface AzureTriggerConfig {
  /** Defender alerts below this severity are ignored. */
  readonly defenderMinSeverity: DefenderSeverity;
  /** Log window, in hours before the alert, for triggers that give none. */
  readonly defaultWindowHours: number;
  /** The location of a VM (Defender alerts do not carry it); undefined when the VM is not found. */
  readonly locate: (subscriptionId: string, vm: string) => Promise<string | undefined>;
}

/** Requests an event yields, and what it held that was deliberately not acted on. */
export interface NormalisedAzureTrigger {
  readonly requests: readonly PreservationRequest[];
  readonly ignored: readonly { readonly id: string; readonly reason: string }[];
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

/** True when the value looks like a Defender for Cloud alert (workflow automation shape). */
export function isDefenderAlert(value: unknown): boolean {
  const o = asObj(value);
  return typeof o.SystemAlertId === 'string' && typeof o.AlertType === 'string';
}

/** Normalises an Event Grid event (or a Defender alert POSTed as is); throws InvalidInputError naming what it cannot use. */
export async function normaliseAzureTrigger(event: unknown, config: AzureTriggerConfig): Promise<NormalisedAzureTrigger> {
  if (isDefenderAlert(event)) return defenderAlert(asObj(event), config);
  const e = asObj(event);
  const type = e.eventType ?? e.type;
  if (type === PRESERVATION_EVENT_TYPE) return { requests: [customRequest(e)], ignored: [] };
  if (type === DEFENDER_EVENT_TYPE && isDefenderAlert(e.data)) return defenderAlert(asObj(e.data), config);
  throw new InvalidInputError(`cannot use an event of type ${JSON.stringify(type ?? null)} (id ${JSON.stringify(e.id ?? null)})`, {
    hint: `send "${PRESERVATION_EVENT_TYPE}" events (data: case, instanceIds, accountId, region, isolate, requestId) or Defender for Cloud alerts (workflow automation) to this function`,
  });
}

function customRequest(e: Obj): PreservationRequest {
  const d = asObj(e.data);
  const eventId = String(e.id ?? '');
  const problems: string[] = [];
  if (typeof e.data !== 'object' || e.data === null) problems.push('the event has no data object');
  let accountId = typeof d.accountId === 'string' ? d.accountId : '';
  const instanceIds: string[] = [];
  const raw = Array.isArray(d.instanceIds) ? d.instanceIds : [];
  if (!Array.isArray(d.instanceIds)) problems.push('data.instanceIds must be a list of VM references or resource ids');
  raw.forEach((v, i) => {
    try {
      const vm = vmFromInput(String(v));
      if (vm.subscriptionId) {
        if (accountId === '') accountId = vm.subscriptionId;
        else if (vm.subscriptionId.toLowerCase() !== accountId.toLowerCase()) problems.push(`data.instanceIds[${i}] is in subscription ${vm.subscriptionId}, not ${accountId}`);
      }
      instanceIds.push(vm.ref);
    } catch (error) {
      problems.push(`data.instanceIds[${i}]: ${(error as Error).message}`);
    }
  });
  const window = d.window === undefined ? undefined : asObj(d.window);
  if (d.isolate !== undefined && typeof d.isolate !== 'boolean') problems.push(`data.isolate must be true or false, got ${JSON.stringify(d.isolate)}`);
  if (d.exportVhd !== undefined && typeof d.exportVhd !== 'boolean') problems.push(`data.exportVhd must be true or false, got ${JSON.stringify(d.exportVhd)}`);
  const request: PreservationRequest = {
    case: String(d.case ?? ''),
    accountId,
    region: String(d.region ?? ''),
    instanceIds,
    ...(window ? { window: { since: String(window.since), until: String(window.until) } } : {}),
    isolate: d.isolate === true,
    ...(d.exportVhd === true ? { exportVhd: true } : {}),
    requestId: typeof d.requestId === 'string' && d.requestId !== '' ? d.requestId : eventId,
    trigger: 'custom',
  };
  return checked(request, problems, eventId);
}

async function defenderAlert(alert: Obj, config: AzureTriggerConfig): Promise<NormalisedAzureTrigger> {
  const id = String(alert.SystemAlertId);
  const severity = String(alert.Severity ?? '');
  const rank = DEFENDER_SEVERITIES.indexOf(severity as DefenderSeverity);
  if (rank < 0 || rank < DEFENDER_SEVERITIES.indexOf(config.defenderMinSeverity)) {
    return { requests: [], ignored: [{ id, reason: `severity ${JSON.stringify(severity)} is below the threshold ${config.defenderMinSeverity}` }] };
  }
  const bySubscription = new Map<string, string[]>();
  for (const r of Array.isArray(alert.ResourceIdentifiers) ? alert.ResourceIdentifiers : []) {
    const ri = asObj(r);
    if (ri.Type !== 'AzureResource' || typeof ri.AzureResourceId !== 'string') continue;
    const arm = parseArmId(ri.AzureResourceId);
    if (!arm || arm.provider.toLowerCase() !== 'microsoft.compute' || arm.type.toLowerCase() !== 'virtualmachines') continue;
    const refs = bySubscription.get(arm.subscriptionId.toLowerCase()) ?? [];
    const ref = vmRef(arm.resourceGroup, arm.name);
    if (!refs.includes(ref)) refs.push(ref);
    bySubscription.set(arm.subscriptionId.toLowerCase(), refs);
  }
  if (bySubscription.size === 0) return { requests: [], ignored: [{ id, reason: 'the alert names no Azure virtual machine' }] };
  const at = Date.parse(String(alert.StartTimeUtc ?? alert.TimeGenerated ?? ''));
  if (Number.isNaN(at)) {
    throw new InvalidInputError(`Defender alert ${id} has no readable StartTimeUtc or TimeGenerated: ${JSON.stringify(alert.StartTimeUtc ?? null)}`, {
      hint: 'forward the whole alert object workflow automation gives (triggerBody() in the Logic App)',
    });
  }
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const window = { since: iso(at - config.defaultWindowHours * 3_600_000), until: iso(at) };
  const requests: PreservationRequest[] = [];
  const ignored: { id: string; reason: string }[] = [];
  for (const [subscriptionId, refs] of [...bySubscription.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    // One request per subscription and location (a request's VMs share one region).
    const byLocation = new Map<string, string[]>();
    for (const ref of refs) {
      const location = await config.locate(subscriptionId, ref);
      if (location === undefined) {
        ignored.push({ id, reason: `VM ${ref} in subscription ${subscriptionId} was not found (deleted, or not visible to Amber's identity)` });
        continue;
      }
      byLocation.set(location, [...(byLocation.get(location) ?? []), ref]);
    }
    for (const [location, vms] of [...byLocation.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      requests.push(
        checked(
          {
            case: caseNameFrom('mdc', id),
            accountId: subscriptionId,
            region: location,
            instanceIds: vms,
            window,
            isolate: false,
            requestId: `mdc-${sha256Hex(`${id}\n${subscriptionId}\n${location}`).slice(0, 32)}`,
            trigger: 'defender',
          },
          [],
          id,
        ),
      );
    }
  }
  return { requests, ignored };
}

/** The core's checks plus Azure's id formats; one error listing every problem. */
function checked(request: PreservationRequest, problems: string[], eventId: string): PreservationRequest {
  const all = [...problems];
  if (!SUBSCRIPTION_ID.test(request.accountId)) all.push(`accountId must be a subscription id (a GUID), got ${JSON.stringify(request.accountId)}`);
  if (!LOCATION.test(request.region)) all.push(`region must be an Azure location such as westeurope, got ${JSON.stringify(request.region)}`);
  if (all.length > 0) {
    throw new InvalidInputError(`invalid preservation request in event ${JSON.stringify(eventId)}: ${all.join('; ')}`, {
      hint: 'instanceIds are <resource group>:<vm name> or VM resource ids, accountId the subscription id, region the VM\'s location',
    });
  }
  return validatePreservationRequest(request);
}
