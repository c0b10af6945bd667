/**
 * `amber collect --from api:aws-cloudtrail`: CloudTrail event history (LookupEvents) wiring for the CLI, loaded
 * only when an api: source is named (keeps the AWS SDK out of start-up). Validates the window, resolves the
 * regions and the account, and builds the source that reads the pages.
 */
import { CloudTrailLookupSource, CLOUDTRAIL_API_SPEC, preservedPagesIn } from '../../functions/aws/adapters/cloudtrail-lookup-source.ts';
import { UsageError } from '../../shared/errors.ts';
import type { EvidenceSource } from '../../shared/ports/evidence-source.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { callerAccount, checkRegionNames, enabledRegions, homeRegion } from './aws-account.ts';
import type { Io } from './io.ts';

/** What `collect` passes to an api: source: the flags that shape the request, and where pages are kept. */
export interface ApiSourceOptions {
  readonly since?: string;
  readonly until?: string;
  readonly regions: readonly string[];
  readonly allRegions: boolean;
  readonly insights: boolean;
  /** api:gcp-logging: --project, --log (repeatable), --filter; gs:// sources: --all-versions. */
  readonly gcp?: { readonly project?: string; readonly logs: readonly string[]; readonly filter?: string; readonly allVersions?: boolean };
  /** Opens the locker (the pages to resume from); called only after the AWS setup checked out, so a run without credentials stores nothing. */
  readonly openStore: () => Promise<ObjectStore>;
  readonly caseName: string;
}

/** How long CloudTrail keeps event history. */
export const EVENT_HISTORY_DAYS = 90;
/** CloudTrail delivers an event to event history within about 5 minutes; 15 leaves a margin. */
export const SETTLE_MINUTES = 15;
const DAY_MS = 86_400_000;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Checks `--since/--until` for event history: both present, ISO-8601 with a zone, in order, closed (`until`
 * settled at least SETTLE_MINUTES ago, so a re-run reads the same pages), and inside the 90 days CloudTrail
 * keeps. Returns the dates and warnings (a window reaching further back than 90 days is only partly there).
 */
export function checkLookupWindow(since: string | undefined, until: string | undefined, now: Date): { since: Date; until: Date; warnings: string[] } {
  const example = `e.g. --since ${new Date(now.getTime() - DAY_MS).toISOString().slice(0, 19)}Z --until ${new Date(now.getTime() - SETTLE_MINUTES * 60_000).toISOString().slice(0, 16)}:00Z`;
  if (since === undefined || until === undefined) {
    throw new UsageError(`${CLOUDTRAIL_API_SPEC} needs a time window: --since and --until are required`, { hint: example });
  }
  const s = parseIso(since, '--since', example);
  const u = parseIso(until, '--until', example);
  if (s.getTime() >= u.getTime()) {
    throw new UsageError(`--since ${since} is not before --until ${until}`, { hint: `swap them or widen the window (${example})` });
  }
  const settled = new Date(now.getTime() - SETTLE_MINUTES * 60_000);
  if (u.getTime() > settled.getTime()) {
    throw new UsageError(
      `--until ${until} is ${u.getTime() > now.getTime() ? 'in the future' : `less than ${SETTLE_MINUTES} minutes ago`}: events of an open window are still arriving, so its pages would change and a later run could not re-preserve them byte for byte`,
      { hint: `end the window at or before ${settled.toISOString().slice(0, 16)}:00Z, and collect later events in a second window once they have settled` },
    );
  }
  const oldest = new Date(now.getTime() - EVENT_HISTORY_DAYS * DAY_MS);
  if (u.getTime() <= oldest.getTime()) {
    throw new UsageError(`the window ends ${until}, more than ${EVENT_HISTORY_DAYS} days ago: CloudTrail event history keeps ${EVENT_HISTORY_DAYS} days, so LookupEvents has nothing for it`, {
      hint: 'collect the trail\'s log files from its S3 bucket instead: --from s3://trail-bucket/AWSLogs/<account>/CloudTrail/',
    });
  }
  const warnings: string[] = [];
  if (s.getTime() < oldest.getTime()) {
    warnings.push(`--since ${since} is more than ${EVENT_HISTORY_DAYS} days ago: event history holds only events after ${oldest.toISOString()}; for older events collect the trail's S3 log files`);
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

/** Opens `api:aws-cloudtrail` with the SDK's default configuration (credentials, region, AWS_ENDPOINT_URL_CLOUDTRAIL). */
export async function openApiSource(spec: string, io: Io, api: ApiSourceOptions): Promise<EvidenceSource> {
  if (spec !== CLOUDTRAIL_API_SPEC) {
    throw new UsageError(`unknown API source ${JSON.stringify(spec)}`, { hint: `this version collects from ${CLOUDTRAIL_API_SPEC} (CloudTrail event history)` });
  }
  const { since, until, warnings } = checkLookupWindow(api.since, api.until, new Date());
  for (const warning of warnings) io.err(`amber: warning: ${warning}\n`);
  if (api.allRegions && api.regions.length > 0) {
    throw new UsageError('--region and --all-regions were both given', { hint: 'name the regions with --region, or read every enabled region with --all-regions' });
  }
  checkRegionNames(api.regions);
  // A named region is enough to call STS and CloudTrail in; the configured one is needed only without one.
  const home = api.regions[0] ?? (await homeRegion(CLOUDTRAIL_API_SPEC, io));
  const account = await callerAccount(CLOUDTRAIL_API_SPEC, home, io);
  const regions = api.allRegions ? await enabledRegions(CLOUDTRAIL_API_SPEC, home) : api.regions.length > 0 ? [...new Set(api.regions)] : [home];
  return new CloudTrailLookupSource({ regions, since, until, insights: api.insights, account, preserved: preservedPagesIn(await api.openStore(), api.caseName) });
}

