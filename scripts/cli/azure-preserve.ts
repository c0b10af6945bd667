/**
 * `amber preserve --cloud azure`: asks the Azure deployment to preserve VMs by POSTing the preservation request
 * (the same detail as the AWS event) to the function app's `preserve` HTTP trigger, with its function key.
 * Everything is checked before anything is sent; each run carries its own request id, so sending it again
 * (after a timeout) preserves nothing twice.
 */
import { randomUUID } from 'node:crypto';
import { AcquisitionError, InvalidInputError, UsageError } from '../../shared/errors.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import type { PreservationRequestDetail } from '../../shared/ports/preservation-requests.ts';
import { validatePreservationRequest } from '../../shared/preservation/request.ts';
import { LOCATION, SUBSCRIPTION_ID, vmFromInput } from '../../functions/azure/adapters/arm.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { t, type Io } from './io.ts';

export const AZURE_PRESERVE_USAGE =
  'amber preserve --cloud azure --instance VM [--instance VM ...] --case C --region LOCATION [--account SUBSCRIPTION] [--isolate] [--since T --until T] [--function-url URL] [--json]';

/** Runs `amber preserve --cloud azure`; `window` is already parsed and checked by the caller. */
export async function runAzurePreserve(values: Values, io: Io, window: { since: string; until: string } | undefined): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', AZURE_PRESERVE_USAGE));
  const instances = (values.instance as string[] | undefined) ?? [];
  if (instances.length === 0) throw new UsageError('missing --instance', { hint: `usage: ${AZURE_PRESERVE_USAGE}` });
  let accountId = optionalString(values, 'account');
  if (accountId !== undefined && !SUBSCRIPTION_ID.test(accountId)) throw new InvalidInputError(`--account must be a subscription id (a GUID), got ${JSON.stringify(accountId)}`);
  const refs: string[] = [];
  for (const input of instances) {
    const vm = vmFromInput(input);
    if (vm.subscriptionId) {
      if (accountId !== undefined && accountId.toLowerCase() !== vm.subscriptionId.toLowerCase()) {
        throw new InvalidInputError(`${input} is in subscription ${vm.subscriptionId}, not --account ${accountId}`, { hint: 'one request covers the VMs of one subscription' });
      }
      accountId = vm.subscriptionId;
    }
    if (!refs.includes(vm.ref)) refs.push(vm.ref);
  }
  if (accountId === undefined) throw new UsageError('no subscription: pass --account, or the VMs\' full resource ids', { hint: `usage: ${AZURE_PRESERVE_USAGE}` });
  const region = optionalString(values, 'region');
  if (region === undefined || !LOCATION.test(region)) {
    throw new UsageError(`--region must be the VMs' Azure location (e.g. westeurope), got ${JSON.stringify(region ?? null)}`, { hint: `usage: ${AZURE_PRESERVE_USAGE}` });
  }
  const url = optionalString(values, 'function-url') ?? io.env.AMBER_AZURE_FUNCTION_URL;
  if (url === undefined || url === '') {
    throw new UsageError('amber preserve --cloud azure is not configured: no function URL', {
      hint: 'pass --function-url or set AMBER_AZURE_FUNCTION_URL to the preserve_url output of the infra/azure Terraform module (https://<app>.azurewebsites.net/api/preserve)',
    });
  }
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new InvalidInputError(`the function URL is not a URL: ${JSON.stringify(url)}`);
  }
  const local = target.hostname === '127.0.0.1' || target.hostname === 'localhost';
  if (target.protocol !== 'https:' && !(local && target.protocol === 'http:')) {
    throw new InvalidInputError(`the function URL must use https, got ${JSON.stringify(url)}`, { hint: 'the request carries the function key: never send it in clear' });
  }
  const key = io.env.AMBER_AZURE_FUNCTION_KEY;
  if (key === undefined || key === '') {
    throw new UsageError('amber preserve --cloud azure is not configured: AMBER_AZURE_FUNCTION_KEY is not set', {
      hint: 'set it to the preserve function\'s key: az functionapp function keys list -g <group> -n <app> --function-name preserve',
    });
  }
  const detail: PreservationRequestDetail = { case: caseName, instanceIds: refs, accountId, region, ...(window ? { window } : {}), isolate: values.isolate === true, requestId: randomUUID() };
  validatePreservationRequest({ ...detail, trigger: 'custom' });

  let res: Response;
  try {
    res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json', 'x-functions-key': key }, body: JSON.stringify(detail) });
  } catch (cause) {
    throw new AcquisitionError(`cannot reach the Amber function at ${target.origin}: ${(cause as Error).message}`, target.href, { cause, hint: `check the URL and the network; sending again is safe (request ${detail.requestId})` });
  }
  const text = await res.text();
  let body: { error?: { message?: string; hint?: string }; requests?: { vms?: { instanceId: string; status: string; snapshots?: unknown[]; error?: { step: string; message: string } }[] }[] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // reported below with the status
  }
  if (res.status === 401 || res.status === 403) throw new InvalidInputError(`the Amber function refused the function key (HTTP ${res.status})`, { hint: 'check AMBER_AZURE_FUNCTION_KEY' });
  if (res.status === 400) throw new InvalidInputError(`the Amber function refused the request: ${body.error?.message ?? text.slice(0, 300)}`, body.error?.hint ? { hint: body.error.hint } : {});
  if (res.status !== 200 && res.status !== 502) {
    throw new AcquisitionError(`the Amber function answered HTTP ${res.status}: ${body.error?.message ?? text.slice(0, 300)}`, target.href, { hint: `sending the same command again is safe; the case's ledger records each step (request ${detail.requestId})` });
  }
  const vms = body.requests?.flatMap((r) => r.vms ?? []) ?? [];
  if (values.json) {
    io.out(`${JSON.stringify({ url: target.href, ...detail, result: body }, null, 2)}\n`);
  } else {
    io.out(
      [
        `Preservation ${res.status === 200 ? 'done' : 'incomplete'} for case ${t(caseName)} in subscription ${accountId}, ${region}${detail.isolate ? ' (with isolation)' : ''}`,
        ...vms.map((v) => `  ${t(v.instanceId)}: ${v.status}${v.snapshots ? `, ${v.snapshots.length} snapshot(s)` : ''}${v.error ? ` (${t(v.error.step)}: ${t(v.error.message)})` : ''}`),
        `  request id: ${detail.requestId} (the case's ledger records every step)`,
        '',
      ].join('\n'),
    );
  }
  return res.status === 200 ? 0 : 1;
}
