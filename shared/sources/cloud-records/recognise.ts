/**
 * Recognition of Azure, Entra ID, Microsoft 365 and Google Cloud audit records by content. One classifier decides
 * for all five sources, in a fixed order, so two of them can never both claim a file (the registry refuses
 * ambiguous matches). It looks at the first record only: its keys and, for Azure diagnostic-settings records, the
 * `category` value that tells an Activity Log record from an Entra ID one.
 */
import { scanArray, scanObject, skipWhitespace } from '../cloudtrail/json-scan.ts';
import { isObject, pick, type JsonObject } from './fields.ts';
import { isStateContext, isStateKey } from '../azure-state/layout.ts';

/** The sources this classifier speaks for. */
export type CloudRecordKind = 'azure-activity' | 'entra-signin' | 'entra-audit' | 'entra-risk' | 'azure-state' | 'm365-audit' | 'gcp-audit';

/** Diagnostic-settings categories of the Entra ID sign-in logs (and their Log Analytics table names). */
export const SIGN_IN_CATEGORIES: Readonly<Record<string, string>> = {
  signinlogs: 'interactiveUser',
  noninteractiveusersigninlogs: 'nonInteractiveUser',
  serviceprincipalsigninlogs: 'servicePrincipal',
  managedidentitysigninlogs: 'managedIdentity',
  microsoftserviceprincipalsigninlogs: 'microsoftServicePrincipal',
  aadnoninteractiveusersigninlogs: 'nonInteractiveUser',
  aadserviceprincipalsigninlogs: 'servicePrincipal',
  aadmanagedidentitysigninlogs: 'managedIdentity',
};

/** Activity Log categories (diagnostic settings), plus `Action`/`Write`/`Delete` of the pre-2018 storage format. */
const ACTIVITY_CATEGORIES = new Set([
  'administrative', 'servicehealth', 'resourcehealth', 'alert', 'autoscale', 'security', 'recommendation', 'policy',
  'action', 'write', 'delete',
]);

const lower = (v: unknown): string => (typeof v === 'string' ? v.toLowerCase() : '');

/** What one parsed record is, or undefined when none of the five sources reads it. */
export function classifyRecord(record: JsonObject, wrapper?: JsonObject, key = ''): CloudRecordKind | undefined {
  const keys = new Set(Object.keys(record).map((k) => k.toLowerCase()));
  return classifyKeys(keys, (name) => pick(record, name), wrapper, key);
}

/** Pages `amber inventory --cloud azure` keeps (shared/sources/inventory/azure.ts reads them). */
const AZURE_INVENTORY_KEY = /(?:^|\/)azure\/inventory\/[^/]+\/\d{8}T\d{6}Z\//;

function classifyKeys(keys: ReadonlySet<string>, value: (name: string) => unknown, wrapper: JsonObject | undefined, key: string): CloudRecordKind | undefined {
  if (keys.has('protopayload') || keys.has('protopayload_auditlog')) return 'gcp-audit';
  const type = lower(value('Type'));
  if (type === 'officeactivity' || keys.has('officeworkload')) return 'm365-audit';
  if (keys.has('creationtime') && keys.has('operation') && (keys.has('workload') || keys.has('recordtype'))) return 'm365-audit';
  const category = lower(value('category'));
  const context = lower(pick(wrapper, '@odata.context'));
  // Graph pages Amber collects (api:entra-risk, api:azure-state): told apart by their @odata.context or Amber's key layout.
  // The Azure inventory reads Graph too (users, applications): its pages, under its own key layout, are the inventory's.
  if (AZURE_INVENTORY_KEY.test(key)) return undefined;
  const ownContext = lower(value('@odata.context'));
  if (/identityprotection\/(riskdetections|riskyusers)/.test(context) || keys.has('riskeventtype') || /\/azure\/entra\/[^/]+\/(risk-detections|risky-users)\//.test(key) || (keys.has('risklastupdateddatetime') && keys.has('risklevel'))) return 'entra-risk';
  if (!/\.next\.json$/.test(key) && (isStateKey(key) || isStateContext(context) || isStateContext(ownContext))) return 'azure-state';
  if (SIGN_IN_CATEGORIES[category] !== undefined || SIGN_IN_CATEGORIES[type] !== undefined) return 'entra-signin';
  if (context.includes('signins')) return 'entra-signin';
  if (keys.has('createddatetime') && ['conditionalaccessstatus', 'risklevelduringsignin', 'clientappused', 'isinteractive'].some((k) => keys.has(k))) {
    return 'entra-signin';
  }
  if (category === 'auditlogs' || type === 'auditlogs' || context.includes('directoryaudits')) return 'entra-audit';
  if (keys.has('activitydisplayname') && keys.has('loggedbyservice')) return 'entra-audit';
  // A diagnostic-settings record whose category was rewritten (SIEM re-exports): judge what `properties` holds.
  const properties = value('properties');
  if (isObject(properties)) {
    const inner = new Set(Object.keys(properties).map((k) => k.toLowerCase()));
    if (inner.has('createddatetime') && ['conditionalaccessstatus', 'risklevelduringsignin', 'clientappused', 'isinteractive'].some((k) => inner.has(k))) return 'entra-signin';
    if (inner.has('activitydisplayname') && (inner.has('loggedbyservice') || inner.has('initiatedby'))) return 'entra-audit';
  }
  if (type === 'azureactivity' || keys.has('operationnamevalue')) return 'azure-activity';
  if (keys.has('operationname') && (keys.has('eventtimestamp') || keys.has('eventdataid') || keys.has('submissiontimestamp'))) return 'azure-activity';
  if (keys.has('operationname') && keys.has('time')) {
    const resourceId = lower(value('resourceId'));
    if (resourceId.includes('/microsoft.aadiam')) return undefined;
    if (ACTIVITY_CATEGORIES.has(category) || /(^|\/)insights-activity-logs\//.test(key)) return 'azure-activity';
  }
  return undefined;
}

interface Head {
  readonly record?: JsonObject;
  readonly keys: ReadonlySet<string>;
  readonly wrapper?: JsonObject;
  readonly csvHeader?: readonly string[];
}

const RECORD_CONTAINERS = ['records', 'value', 'entries'];

function parseSlice(text: string, start: number, end: number | undefined): unknown {
  if (end === undefined) return undefined;
  try {
    return JSON.parse(text.slice(start, end)) as unknown;
  } catch {
    return undefined;
  }
}

/** The first record in the first bytes of an object, parsed when it is complete there. */
function readHead(head: string): Head {
  const start = skipWhitespace(head, head.charCodeAt(0) === 0xfeff ? 1 : 0);
  const c = head[start];
  if (c === '[') {
    const scan = scanArray(head, start);
    const firstEl = scan.elements[0];
    if (firstEl === undefined) return { keys: new Set() };
    const value = parseSlice(head, firstEl.start, firstEl.end);
    if (isObject(value)) return { record: value, keys: lowerKeys(value) };
    return { keys: new Set(scanObject(head, firstEl.start).keys.map((k) => k.toLowerCase())) };
  }
  if (c === '{') {
    const scan = scanObject(head, start);
    const doc = parseSlice(head, start, scan.end);
    const containerKey = RECORD_CONTAINERS.find((k) => scan.arrayStarts.has(k));
    if (containerKey !== undefined) {
      const wrapper = isObject(doc) ? doc : Object.fromEntries(scan.keys.map((k) => [k, undefined]));
      const open = scan.arrayStarts.get(containerKey)!;
      const element = scanArray(head, open).elements[0];
      if (element === undefined) return { keys: new Set(), wrapper };
      const value = parseSlice(head, element.start, element.end);
      if (isObject(value)) return { record: value, keys: lowerKeys(value), wrapper };
      return { keys: new Set(scanObject(head, element.start).keys.map((k) => k.toLowerCase())), wrapper };
    }
    if (isObject(doc)) return { record: doc, keys: lowerKeys(doc) };
    return { keys: new Set(scan.keys.map((k) => k.toLowerCase())) };
  }
  const lines = head.slice(start).split(/\r?\n/);
  const headerLine = lines.find((l) => !l.startsWith('#TYPE')) ?? '';
  return { keys: new Set(), csvHeader: headerLine.split(',').map((h) => h.trim().replace(/^"|"$/g, '')) };
}

function lowerKeys(obj: JsonObject): Set<string> {
  return new Set(Object.keys(obj).map((k) => k.toLowerCase()));
}

let memo: { head: string; key: string; kind: CloudRecordKind | undefined } | undefined;

/**
 * What the first bytes of an object (gunzipped) hold, or undefined. Memoised on the last head, since the registry
 * asks all five sources about the same bytes in a row.
 */
export function classifyHead(head: string, key: string): CloudRecordKind | undefined {
  if (memo && memo.head === head && memo.key === key) return memo.kind;
  const kind = classify(head, key);
  memo = { head, key, kind };
  return kind;
}

function classify(head: string, key: string): CloudRecordKind | undefined {
  const h = readHead(head);
  if (h.csvHeader !== undefined) {
    const cells = h.csvHeader.map((c) => c.toLowerCase());
    return cells.includes('auditdata') && ['creationdate', 'operations', 'operation', 'recordtype', 'userids'].some((c) => cells.includes(c)) ? 'm365-audit' : undefined;
  }
  if (h.record !== undefined) return classifyRecord(h.record, h.wrapper, key);
  // A first record too large for the head: keys alone, and the category as written in the text.
  const category = /"category"\s*:\s*"([^"]{1,80})"/i.exec(head)?.[1];
  const type = /"Type"\s*:\s*"([^"]{1,80})"/.exec(head)?.[1];
  const resourceId = /"resourceId"\s*:\s*"([^"]{1,400})"/i.exec(head)?.[1];
  const values: Record<string, unknown> = { category, type, resourceid: resourceId };
  return classifyKeys(h.keys, (name) => values[name.toLowerCase()], h.wrapper, key);
}
