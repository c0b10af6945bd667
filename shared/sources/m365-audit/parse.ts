/**
 * Microsoft 365 unified audit log records into rows of `m365_audit`. Shapes:
 *
 * | shape                          | where it comes from                                                         | index                |
 * |--------------------------------|-----------------------------------------------------------------------------|----------------------|
 * | `management-api`               | Office 365 Management Activity API content blobs (a JSON array of common-schema records), JSON Lines or `{"value":[...]}` of them | as for any JSON container |
 * | `search-unifiedauditlog-csv`   | `Search-UnifiedAuditLog ... \| Export-Csv` or the Purview portal's export: CSV with the record as JSON in the `AuditData` column | 0-based data record (header excluded), with the line it starts on |
 * | `log-analytics-officeactivity` | Log Analytics / Sentinel `OfficeActivity` exports                            | as for any JSON container |
 *
 * Times: the common schema's `CreationTime` is UTC written without a zone. The CSV's own `CreationDate` column is
 * in the exporting machine's zone and locale, so it is used only when it carries an explicit zone and AuditData
 * has no CreationTime.
 *
 * Derived columns, so detections need no JSON gymnastics:
 * - logon_type_name: the Exchange mailbox LogonType number (0 Owner, 1 Admin, 2 Delegated, 3 Transport,
 *   4 SystemService, 5 BestAccess, 6 DelegatedAdmin) or name, as a name;
 * - forward_recipients: the addresses a cmdlet or rule forwards or redirects mail to (Parameters ForwardTo,
 *   RedirectTo, ForwardAsAttachmentTo, ForwardingSmtpAddress, ForwardingAddress; the RuleActions property of
 *   UpdateInboxRules when it forwards or redirects), comma-separated; a value with no address in it (a recipient
 *   object's name) is kept as written.
 */
import type { SourceParseResult, SourceProblem, SourceRow } from '../log-source.ts';
import { readCsv } from '../cloud-records/csv.ts';
import { first, isObject, kindOf, parsedJson, pick, text, type JsonObject } from '../cloud-records/fields.ts';
import { eventTime, parseJsonSource, type RowResult } from '../cloud-records/source-kit.ts';
import { toUtcSeconds } from '../cloud-records/time.ts';

const LOGON_TYPES = ['Owner', 'Admin', 'Delegated', 'Transport', 'SystemService', 'BestAccess', 'DelegatedAdmin'];
const FORWARD_PARAMETERS = new Set(['forwardto', 'redirectto', 'forwardasattachmentto', 'forwardingsmtpaddress', 'forwardingaddress']);
const EMAIL = /[A-Za-z0-9._%+'!#$&*=?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

function logonTypeName(value: unknown): string | null {
  const t = text(value);
  if (t === null || t === '') return null;
  if (/^-?\d+$/.test(t)) return Number(t) === -1 ? 'NotDefined' : (LOGON_TYPES[Number(t)] ?? t);
  return LOGON_TYPES.find((n) => n.toLowerCase() === t.toLowerCase()) ?? t;
}

/** Name/Value pairs (Parameters, OperationProperties, ExtendedProperties), however the export wrote them. */
function pairs(value: unknown): Array<{ name: string; value: unknown }> {
  const list = parsedJson(value);
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((p) => ({ name: String(pick(p, 'Name') ?? ''), value: pick(p, 'Value') }));
}

function forwardRecipients(record: JsonObject): string | null {
  const found: string[] = [];
  const add = (value: unknown): void => {
    const t = text(value)?.trim();
    if (!t) return;
    const emails = t.match(EMAIL);
    if (emails) found.push(...emails);
    else found.push(t);
  };
  for (const p of pairs(pick(record, 'Parameters'))) if (FORWARD_PARAMETERS.has(p.name.toLowerCase())) add(p.value);
  for (const p of pairs(pick(record, 'OperationProperties'))) {
    if (p.name.toLowerCase() === 'ruleactions' && /forward|redirect/i.test(text(p.value) ?? '')) {
      const emails = (text(p.value) ?? '').match(EMAIL);
      if (emails) found.push(...emails);
    }
  }
  return found.length === 0 ? null : [...new Set(found)].join(', ');
}

/** The address part of `1.2.3.4:5678` or `[2001:db8::1]:443`, as Exchange writes client addresses with ports. */
function ipOnly(value: unknown): string | null {
  const t = text(value);
  if (t === null) return null;
  const s = t.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) return bracketed[1] ?? s;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(s);
  return v4 ? (v4[1] ?? s) : s;
}

function userAgent(record: JsonObject): string | null {
  const direct = text(pick(record, 'UserAgent'));
  if (direct) return direct;
  const extended = pairs(pick(record, 'ExtendedProperties')).find((p) => p.name.toLowerCase() === 'useragent');
  return text(extended?.value) ?? text(pick(record, 'ClientInfoString'));
}

/** Values a CSV export carries beside AuditData, used when the record itself lacks them. */
interface CsvFallback {
  readonly creationDate?: string;
  readonly operation?: string;
  readonly userId?: string;
  readonly recordType?: string;
  readonly id?: string;
  readonly auditDataText: string;
}

function readRecord(record: JsonObject, fallback?: CsvFallback): RowResult {
  const shape = fallback ? 'search-unifiedauditlog-csv' : pick(record, 'TimeGenerated') !== undefined || pick(record, 'OfficeWorkload') !== undefined ? 'log-analytics-officeactivity' : 'management-api';
  let raw = first(record, 'CreationTime', 'TimeGenerated');
  if ((raw === undefined || raw === '') && fallback?.creationDate !== undefined) {
    if (!/(Z|[+-]\d{2}:?\d{2}|UTC)$/i.test(fallback.creationDate.trim()) || 'reason' in toUtcSeconds(fallback.creationDate)) {
      return { reason: `AuditData has no CreationTime, and the CreationDate column (${JSON.stringify(fallback.creationDate)}) has no time zone: it is in the exporting machine's local time and cannot be placed in UTC` };
    }
    raw = fallback.creationDate;
  }
  const when = eventTime(raw);
  if ('reason' in when) return when;
  const operation = text(pick(record, 'Operation')) ?? fallback?.operation ?? null;
  if (operation === null || operation === '') return { reason: 'has no Operation' };
  const row: Record<string, unknown> = {
    time: when.time,
    original_time: when.original,
    id: text(first(record, 'Id', 'OfficeId')) ?? fallback?.id ?? null,
    record_type: text(pick(record, 'RecordType')) ?? fallback?.recordType ?? null,
    operation,
    organization_id: text(pick(record, 'OrganizationId')),
    user_id: text(pick(record, 'UserId')) ?? fallback?.userId ?? null,
    user_key: text(pick(record, 'UserKey')),
    user_type: text(pick(record, 'UserType')),
    workload: text(first(record, 'Workload', 'OfficeWorkload')),
    client_ip: ipOnly(first(record, 'ClientIP', 'ClientIPAddress', 'ActorIpAddress', 'Client_IPAddress')),
    object_id: text(first(record, 'ObjectId', 'OfficeObjectId')),
    result_status: text(pick(record, 'ResultStatus')),
    logon_error: text(pick(record, 'LogonError')),
    logon_type: text(first(record, 'LogonType', 'Logon_Type')),
    logon_type_name: logonTypeName(first(record, 'LogonType', 'Logon_Type')),
    mailbox_owner_upn: text(pick(record, 'MailboxOwnerUPN')),
    external_access: text(pick(record, 'ExternalAccess')),
    app_id: text(pick(record, 'AppId')),
    client_app_id: text(pick(record, 'ClientAppId')),
    user_agent: userAgent(record),
    site_url: text(pick(record, 'SiteUrl')),
    source_file_name: text(pick(record, 'SourceFileName')),
    forward_recipients: forwardRecipients(record),
    parameters: text(parsedJson(pick(record, 'Parameters'))),
    operation_properties: text(parsedJson(pick(record, 'OperationProperties'))),
    extended_properties: text(parsedJson(pick(record, 'ExtendedProperties'))),
    modified_properties: text(parsedJson(pick(record, 'ModifiedProperties'))),
    audit_data: fallback ? fallback.auditDataText : JSON.stringify(record),
    source_shape: shape,
  };
  return { row, shape };
}

/** Reads one common-schema (or OfficeActivity) record. */
function readM365Audit(record: JsonObject): RowResult {
  return readRecord(record);
}

/** Parses a Search-UnifiedAuditLog / Purview CSV export: one row per data record, AuditData parsed. */
function parseAuditCsv(text: string): SourceParseResult {
  const csv = readCsv(text);
  const rows: SourceRow[] = [];
  const problems: SourceProblem[] = csv.problems.map((p) => ({ index: p.ordinal, line: p.line, reason: p.reason }));
  const column = (name: string): number => csv.header.findIndex((h) => h.trim().toLowerCase() === name);
  const auditData = column('auditdata');
  if (auditData < 0) {
    return { variant: 'search-unifiedauditlog-csv', rows, problems: [{ line: csv.headerLine || 1, reason: `the CSV has no AuditData column (header: ${csv.header.slice(0, 10).join(', ')})` }] };
  }
  const cell = (cells: readonly string[], name: string): string | undefined => {
    const i = column(name);
    const v = i < 0 ? undefined : cells[i];
    return v === undefined || v === '' ? undefined : v;
  };
  for (const r of csv.records) {
    const cellText = r.cells[auditData] ?? '';
    let record: unknown;
    try {
      record = JSON.parse(cellText) as unknown;
    } catch (error) {
      problems.push({ index: r.ordinal, line: r.line, reason: `AuditData is not valid JSON: ${(error as Error).message}` });
      continue;
    }
    if (!isObject(record)) {
      problems.push({ index: r.ordinal, line: r.line, reason: `AuditData is not a JSON object (it is ${kindOf(record)})` });
      continue;
    }
    const fallback: CsvFallback = {
      auditDataText: cellText,
      ...optional('creationDate', cell(r.cells, 'creationdate')),
      ...optional('operation', cell(r.cells, 'operations') ?? cell(r.cells, 'operation')),
      ...optional('userId', cell(r.cells, 'userids') ?? cell(r.cells, 'userid')),
      ...optional('recordType', cell(r.cells, 'recordtype')),
      ...optional('id', cell(r.cells, 'recordid') ?? cell(r.cells, 'identity')),
    };
    const result = readRecord(record, fallback);
    if ('reason' in result) problems.push({ index: r.ordinal, line: r.line, reason: result.reason });
    else rows.push({ index: r.ordinal, line: r.line, row: result.row });
  }
  problems.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  return { variant: 'search-unifiedauditlog-csv', rows, problems };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** Parses any Microsoft 365 audit export: JSON in any container, or the CSV export. */
export function parseM365Audit(text: string, key: string): SourceParseResult {
  const start = /\S/.exec(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)?.[0];
  if (start === '{' || start === '[' || start === undefined) {
    return parseJsonSource(text, key, { id: 'm365-audit', containers: ['value', 'records'], read: readM365Audit });
  }
  return parseAuditCsv(text);
}
