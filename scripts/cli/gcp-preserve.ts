/**
 * `amber preserve --cloud gcp`: asks the Google Cloud deployment (infra/gcp) to preserve Compute Engine instances by
 * POSTing the "Preservation Requested" JSON (the same as the AWS event) to the preserveHttp function, with a Google
 * ID token for that URL. The function's ingress is internal: run this from inside the VPC (a bastion, Cloud Shell
 * with VPC access) or publish the same JSON to the preservation topic instead.
 *
 *   AMBER_GCP_PRESERVE_URL   the evidence module's preserve_url output (required)
 *   AMBER_GCP_ID_TOKEN       an ID token for that URL (e.g. gcloud auth print-identity-token); otherwise Application
 *                            Default Credentials mint one
 */
import { randomUUID } from 'node:crypto';
import { InvalidInputError, UsageError } from '../../shared/errors.ts';
import { AmberError } from '../../shared/errors.ts';
import type { Values } from '../amber.ts';
import { optionalString } from './args.ts';
import { t, type Io } from './io.ts';

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;
const INSTANCE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$|^\d{1,20}$/;

/** Runs `amber preserve --cloud gcp` for an already validated case name and window. */
export async function runGcpPreserve(values: Values, caseName: string, window: { since: string; until: string } | undefined, io: Io): Promise<number> {
  const url = io.env.AMBER_GCP_PRESERVE_URL;
  if (!url) {
    throw new InvalidInputError('amber preserve --cloud gcp is not configured: AMBER_GCP_PRESERVE_URL is not set', {
      hint: 'set AMBER_GCP_PRESERVE_URL to the preserve_url output of infra/gcp (terraform output preserve_url)',
    });
  }
  if (!/^https?:\/\//.test(url)) throw new InvalidInputError(`AMBER_GCP_PRESERVE_URL is not a URL: ${JSON.stringify(url)}`);
  const instances = [...new Set((values.instance as string[] | undefined) ?? [])];
  const project = optionalString(values, 'account');
  const zone = optionalString(values, 'region');
  const logSink = optionalString(values, 'log-sink');
  const problems = [
    ...(project === undefined ? ['--account (the project id) is required'] : PROJECT_ID.test(project) ? [] : [`--account is not a project id: ${JSON.stringify(project)}`]),
    ...(zone === undefined ? ['--region (the zone) is required'] : ZONE.test(zone) ? [] : [`--region is not a Compute Engine zone: ${JSON.stringify(zone)}`]),
    ...instances.filter((i) => !INSTANCE.test(i)).map((i) => `not a Compute Engine instance name: ${JSON.stringify(i)}`),
    ...(logSink === undefined ? [] : !/^gs:\/\/[a-z0-9][a-z0-9._-]{1,221}(\/.*)?$/.test(logSink) ? [`--log-sink is not a Cloud Storage location (gs://bucket[/prefix]): ${JSON.stringify(logSink)}`] : window ? [] : ['--log-sink needs --since and --until: the sink\'s objects are preserved with the log window']),
  ];
  if (problems.length > 0) throw new UsageError(problems.join('; '), { hint: 'e.g. amber preserve --cloud gcp --account my-project --region europe-west1-b --instance web-1 --case INC-7' });
  const detail = { case: caseName, accountId: project!, region: zone!, instanceIds: instances, ...(window ? { window } : {}), ...(logSink ? { logSink } : {}), isolate: values.isolate === true, requestId: randomUUID() };
  const token = io.env.AMBER_GCP_ID_TOKEN ?? (await idToken(url));
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-amber-request-id': detail.requestId },
      body: JSON.stringify({ source: 'amber', 'detail-type': 'Preservation Requested', detail }),
    });
  } catch (error) {
    throw new AmberError(`cannot reach ${url}: ${(error as Error).message}`, { hint: 'the function accepts internal traffic only: run from inside the VPC, or publish to the preservation topic', cause: error });
  }
  const body = (await response.json().catch(() => ({}))) as { error?: string; hint?: string; requests?: { executions: { kind: string; id: string; started: boolean }[] }[] };
  if (response.status === 400) throw new InvalidInputError(`the preserve function refused the request: ${body.error ?? response.statusText}`, body.hint ? { hint: body.hint } : {});
  if (!response.ok) throw new AmberError(`the preserve function answered ${response.status}: ${body.error ?? response.statusText}`, { hint: response.status === 401 || response.status === 403 ? 'your identity needs roles/run.invoker on the preserveHttp function' : 'see the function\'s log' });
  const executions = body.requests?.flatMap((r) => r.executions) ?? [];
  if (values.json) {
    io.out(`${JSON.stringify({ cloud: 'gcp', ...detail, executions }, null, 2)}\n`);
    return 0;
  }
  io.out(
    [
      `Preservation requested for case ${t(caseName)}: ${instances.join(', ')} in project ${project}, zone ${zone}${detail.isolate ? ' (with isolation)' : ''}`,
      ...executions.map((e) => `  ${e.kind.padEnd(9)} ${t(e.id)}${e.started ? '' : ' (already started)'}`),
      `  request id: ${detail.requestId}`,
      '',
    ].join('\n'),
  );
  return 0;
}

async function idToken(url: string): Promise<string> {
  const { GoogleAuth } = await import('google-auth-library');
  const client = await new GoogleAuth().getIdTokenClient(url);
  const headers = await client.getRequestHeaders();
  const value = headers instanceof Headers ? headers.get('authorization') : (headers as Record<string, string>).Authorization;
  if (!value) throw new InvalidInputError('Application Default Credentials gave no ID token', { hint: 'set AMBER_GCP_ID_TOKEN=$(gcloud auth print-identity-token)' });
  return value.replace(/^Bearer /, '');
}
