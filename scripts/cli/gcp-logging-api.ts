/**
 * `amber collect --from api:gcp-logging`: Cloud Audit Logs through Cloud Logging entries.list, wired for the CLI;
 * loaded only when this source is named. Checks the window and the flags, finds the credentials and builds the
 * source that reads the pages.
 */
import { AUDIT_LOGS, CloudLoggingSource, GCP_LOGGING_SPEC, LOGGING_READ_SCOPE, type AuditLog } from '../../functions/gcp/adapters/cloud-logging-source.ts';
import { gcpTokenProvider } from '../../functions/gcp/adapters/gcp-http.ts';
import { UsageError } from '../../shared/errors.ts';
import { preservedPagesIn } from '../../shared/evidence/api-pages.ts';
import type { EvidenceSource } from '../../shared/ports/evidence-source.ts';
import type { ApiSourceOptions } from './cloudtrail-api.ts';
import type { Io } from './io.ts';

/** Admin Activity and System Event logs stay in the _Required bucket for 400 days. */
export const REQUIRED_BUCKET_DAYS = 400;
/** Data Access and Policy Denied logs go to the _Default bucket: 30 days unless its retention was raised. */
export const DEFAULT_BUCKET_DAYS = 30;
/** Audit log entries reach Logging within minutes; a window closed 15 minutes ago no longer changes. */
export const SETTLE_MINUTES = 15;
const DAY_MS = 86_400_000;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Checks `--since/--until` for Cloud Logging: both present, ISO-8601 with a zone, in order, closed (`until` at least
 * SETTLE_MINUTES ago, so a re-run reads the same pages) and not wholly older than what Logging keeps. Returns the
 * dates and warnings (a window older than the _Default bucket's 30 days may miss Data Access and Policy entries).
 */
export function checkLoggingWindow(since: string | undefined, until: string | undefined, logs: readonly AuditLog[], now: Date): { since: Date; until: Date; warnings: string[] } {
  const example = `e.g. --since ${new Date(now.getTime() - DAY_MS).toISOString().slice(0, 19)}Z --until ${new Date(now.getTime() - SETTLE_MINUTES * 60_000).toISOString().slice(0, 16)}:00Z`;
  if (since === undefined || until === undefined) {
    throw new UsageError(`${GCP_LOGGING_SPEC} needs a time window: --since and --until are required`, { hint: example });
  }
  const s = parseIso(since, '--since', example);
  const u = parseIso(until, '--until', example);
  if (s.getTime() >= u.getTime()) throw new UsageError(`--since ${since} is not before --until ${until}`, { hint: `swap them or widen the window (${example})` });
  const settled = new Date(now.getTime() - SETTLE_MINUTES * 60_000);
  if (u.getTime() > settled.getTime()) {
    throw new UsageError(
      `--until ${until} is ${u.getTime() > now.getTime() ? 'in the future' : `less than ${SETTLE_MINUTES} minutes ago`}: entries of an open window are still arriving, so its pages would change and a later run could not re-preserve them byte for byte`,
      { hint: `end the window at or before ${settled.toISOString().slice(0, 16)}:00Z, and collect later entries in a second window once they have settled` },
    );
  }
  const oldest = new Date(now.getTime() - REQUIRED_BUCKET_DAYS * DAY_MS);
  if (u.getTime() <= oldest.getTime()) {
    throw new UsageError(`the window ends ${until}, more than ${REQUIRED_BUCKET_DAYS} days ago: Cloud Logging keeps audit logs ${REQUIRED_BUCKET_DAYS} days at most (unless routed elsewhere)`, {
      hint: 'collect the copies a log sink kept instead: --from gs://sink-bucket/cloudaudit.googleapis.com/',
    });
  }
  const warnings: string[] = [];
  const shortLived = logs.filter((l) => l === 'data_access' || l === 'policy');
  if (shortLived.length > 0 && s.getTime() < now.getTime() - DEFAULT_BUCKET_DAYS * DAY_MS) {
    warnings.push(`--since ${since} is more than ${DEFAULT_BUCKET_DAYS} days ago: ${shortLived.join(' and ')} entries live in the _Default log bucket, kept ${DEFAULT_BUCKET_DAYS} days unless its retention was raised; older ones may be gone (collect a sink's copies for those)`);
  }
  return { since: s, until: u, warnings };
}

function parseIso(value: string, flag: string, example: string): Date {
  const date = new Date(value);
  if (!ISO_WITH_ZONE.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not an ISO-8601 time with a zone`, { hint: `write it like 2026-03-01T00:00:00Z (UTC) or with an offset (+02:00): ${example}` });
  }
  return date;
}

/** `--log` values as audit logs (all four when none is given), each once, in a fixed order. */
export function auditLogsFrom(values: readonly string[]): AuditLog[] {
  const names = Object.keys(AUDIT_LOGS) as AuditLog[];
  for (const v of values) {
    if (!(names as string[]).includes(v)) throw new UsageError(`--log ${JSON.stringify(v)} is not a Cloud Audit Log`, { hint: `use one of ${names.join(', ')} (repeat --log for several)` });
  }
  // A fixed order, whatever order the flags came in: the same logs always make the same request and folder.
  return values.length === 0 ? names : names.filter((n) => values.includes(n));
}

/** Opens `api:gcp-logging` for the project and window the flags name. */
export async function openGcpLoggingSource(io: Io, api: ApiSourceOptions): Promise<EvidenceSource> {
  const gcp = api.gcp ?? { logs: [] };
  if (gcp.project === undefined) throw new UsageError(`${GCP_LOGGING_SPEC} needs --project P`, { hint: 'name the project whose audit logs to read, e.g. --project acme-prod-1' });
  if (api.regions.length > 0 || api.allRegions || api.insights) {
    throw new UsageError(`--region, --all-regions and --insights apply to api:aws-cloudtrail, not ${GCP_LOGGING_SPEC}`, { hint: 'Cloud Logging reads every location of the project at once: drop the flag' });
  }
  if (gcp.filter !== undefined && gcp.filter.trim() === '') throw new UsageError('--filter is empty', { hint: 'give a Logging query language expression, e.g. --filter \'protoPayload.serviceName="iam.googleapis.com"\'' });
  const logs = auditLogsFrom(gcp.logs);
  const { since, until, warnings } = checkLoggingWindow(api.since, api.until, logs, new Date());
  for (const warning of warnings) io.err(`amber: warning: ${warning}\n`);
  const token = gcpTokenProvider(io.env, [LOGGING_READ_SCOPE], GCP_LOGGING_SPEC);
  await token(); // no credentials: fail before the locker is opened, so nothing is stored
  const source = new CloudLoggingSource({
    project: gcp.project,
    logs,
    since,
    until,
    ...(gcp.filter === undefined ? {} : { filter: gcp.filter }),
    token,
    ...(io.env.AMBER_GCP_LOGGING_URL ? { baseUrl: io.env.AMBER_GCP_LOGGING_URL } : {}),
    preserved: preservedPagesIn(await api.openStore(), api.caseName),
  });
  return source;
}
