/**
 * `api:azure-activity`: the Azure Activity Log of each subscription through Azure Monitor's REST API
 * (`GET {ARM}/subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01
 * &$filter=eventTimestamp ge '...' and eventTimestamp le '...'`), every page `{"value":[...],"nextLink"}` preserved
 * as received, following `nextLink`. The `azure-activity` parser reads the pages as they are.
 */
import { AzureApiSource, compactTime, filterTime, segment, type SourcePart } from './azure-api-source.ts';
import type { AzureHttp } from './azure-http.ts';
import { readStream, type PageStream, type PreservedPages } from './azure-pages.ts';

export const ACTIVITY_SPEC = 'api:azure-activity';
/** How long the Activity Log keeps events (Azure Monitor documentation). */
export const ACTIVITY_RETENTION_DAYS = 90;

export interface ActivityLogOptions {
  /** Azure Resource Manager base URL, e.g. https://management.azure.com. */
  readonly armUrl: string;
  readonly subscriptions: readonly string[];
  readonly since: Date;
  readonly until: Date;
  readonly http: AzureHttp;
  readonly preserved?: PreservedPages;
}

/** The stream of one subscription's Activity Log pages for the window. */
export function activityStream(armUrl: string, subscription: string, since: Date, until: Date): PageStream {
  const filter = `eventTimestamp ge '${filterTime(since)}' and eventTimestamp le '${filterTime(until)}'`;
  const url = `${armUrl.replace(/\/+$/, '')}/subscriptions/${encodeURIComponent(subscription)}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(filter)}`;
  return {
    spec: ACTIVITY_SPEC,
    folder: `azure/activity-log/${segment(subscription)}/${compactTime(since)}_${compactTime(until)}`,
    label: `the Activity Log of subscription ${subscription}`,
    first: { api: 'arm', method: 'GET', url },
    continuation: { kind: 'body', key: 'nextLink' },
  };
}

/** The Activity Log of every subscription named, one part each. */
export function activityLogSource(options: ActivityLogOptions): AzureApiSource {
  const parts: SourcePart[] = options.subscriptions.map((subscription) => {
    const stream = activityStream(options.armUrl, subscription, options.since, options.until);
    return { origin: `${ACTIVITY_SPEC}?subscription=${encodeURIComponent(subscription)}`, run: () => readStream(stream, options.http, options.preserved) };
  });
  return new AzureApiSource(ACTIVITY_SPEC, parts);
}
