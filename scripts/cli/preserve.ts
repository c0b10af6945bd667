/**
 * `amber preserve`: asks the AWS deployment to preserve instances (and optionally a log window) by putting
 * the `amber` / `Preservation Requested` event on the event bus with the default credentials. Everything is
 * checked before anything is sent; each run carries its own request id, so a retried PutEvents cannot start
 * the work twice.
 */
import { randomUUID } from 'node:crypto';
import { InvalidInputError, UsageError } from '../../shared/errors.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { validatePreservationRequest, windowProblems } from '../../shared/preservation/request.ts';
import type { PreservationRequestDetail } from '../../shared/ports/preservation-requests.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { t, type Io } from './io.ts';

export const PRESERVE_USAGE =
  'amber preserve --instance ID [--instance ID ...] --case C [--isolate] [--account A] [--region R] [--since T --until T] [--event-bus NAME] [--json]\n       amber preserve --cloud azure --instance VM --case C --region LOCATION [--account SUBSCRIPTION] [--isolate] [--since T --until T] [--function-url URL] [--json]\n       amber preserve --cloud gcp --instance NAME --case C --account PROJECT --region ZONE [--isolate] [--since T --until T [--log-sink gs://B[/P]]] [--json]';

const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/** Runs `amber preserve`. */
export async function runPreserve(values: Values, _positionals: string[], io: Io): Promise<number> {
  const cloud = optionalString(values, 'cloud') ?? 'aws';
  if (cloud !== 'gcp' && optionalString(values, 'log-sink') !== undefined) throw new UsageError('--log-sink is for --cloud gcp (a Cloud Logging sink bucket)', { hint: `usage: ${PRESERVE_USAGE}` });
  if (cloud === 'azure') return (await import('./azure-preserve.ts')).runAzurePreserve(values, io, parseWindow(optionalString(values, 'since'), optionalString(values, 'until')));
  if (cloud !== 'aws' && cloud !== 'gcp') throw new UsageError(`--cloud takes aws, azure or gcp, got ${JSON.stringify(cloud)}`, { hint: `usage: ${PRESERVE_USAGE}` });
  const caseName = validateCaseName(requireString(values, 'case', PRESERVE_USAGE));
  const instances = (values.instance as string[] | undefined) ?? [];
  if (instances.length === 0) throw new UsageError('missing --instance', { hint: `usage: ${PRESERVE_USAGE}` });
  if (cloud === 'gcp') {
    const gcp = await import('./gcp-preserve.ts');
    return gcp.runGcpPreserve(values, caseName, parseWindow(optionalString(values, 'since'), optionalString(values, 'until')), io);
  }
  const bad = instances.filter((i) => !INSTANCE_ID.test(i));
  if (bad.length > 0) {
    throw new InvalidInputError(`not an EC2 instance id: ${bad.map((b) => JSON.stringify(b)).join(', ')}`, { hint: 'instance ids look like i-0123456789abcdef0' });
  }
  const account = optionalString(values, 'account');
  if (account !== undefined && !ACCOUNT_ID.test(account)) throw new InvalidInputError(`--account must be a 12-digit account id, got ${JSON.stringify(account)}`);
  const regionFlag = optionalString(values, 'region');
  if (regionFlag !== undefined && !REGION.test(regionFlag)) throw new InvalidInputError(`--region is not a region name: ${JSON.stringify(regionFlag)}`, { hint: 'e.g. eu-west-1' });
  const window = parseWindow(optionalString(values, 'since'), optionalString(values, 'until'));

  const aws = await import('./aws-preserve.ts');
  const region = regionFlag ?? (await aws.defaultRegion(io));
  if (region === undefined) {
    throw new InvalidInputError('no region: the instance\'s region is not given and none is configured', { hint: 'pass --region, or set AWS_REGION / a profile region' });
  }
  const accountId = account ?? (await aws.callerAccount(io));
  const detail: PreservationRequestDetail = {
    case: caseName,
    instanceIds: [...new Set(instances)],
    accountId,
    region,
    ...(window ? { window } : {}),
    isolate: values.isolate === true,
    requestId: randomUUID(),
  };
  validatePreservationRequest({ ...detail, trigger: 'custom' });
  const eventBus = optionalString(values, 'event-bus') ?? 'default';
  const { eventId } = await aws.submitPreservation(detail, eventBus, io);
  if (values.json) {
    io.out(`${JSON.stringify({ eventId, eventBus, ...detail }, null, 2)}\n`);
    return 0;
  }
  io.out(
    [
      `Preservation requested for case ${t(caseName)}: ${detail.instanceIds.join(', ')} in account ${accountId}, ${region}${detail.isolate ? ' (with isolation)' : ''}`,
      window ? `  logs:       ${window.since} to ${window.until}` : '  logs:       none (pass --since and --until to preserve CloudTrail logs)',
      `  event:      ${eventId} on bus ${t(eventBus)}`,
      `  request id: ${detail.requestId} (names the executions; the case's ledger records every step)`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** Both or neither; any time JavaScript reads, normalised to ISO-8601 UTC. */
function parseWindow(since: string | undefined, until: string | undefined): { since: string; until: string } | undefined {
  if (since === undefined && until === undefined) return undefined;
  if (since === undefined || until === undefined) throw new UsageError('--since and --until go together', { hint: `usage: ${PRESERVE_USAGE}` });
  const iso = (flag: string, v: string): string => {
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw new InvalidInputError(`--${flag} is not a time: ${JSON.stringify(v)}`, { hint: 'use ISO-8601, e.g. 2026-03-01T12:00:00Z' });
    return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
  };
  const w = { since: iso('since', since), until: iso('until', until) };
  const problems = windowProblems(w.since, w.until);
  if (problems.length > 0) throw new InvalidInputError(problems.join('; '), { hint: 'give --since before --until' });
  return w;
}
