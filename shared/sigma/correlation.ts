/**
 * Sigma correlation rules that map to SQL windows: `event_count` and `value_count` over rules of one table,
 * grouped by fields, in fixed windows of the rule's `timespan` (aligned to the Unix epoch, as SIEM time bins are).
 * One finding per group and window; it cites the window's first record (by time, evidence key, record index), a
 * record that produced it. `temporal` and `temporal_ordered` (order across rules) are refused with their reason.
 */
import { compileDetection, type SigmaRule } from './compile.ts';
import { SigmaUnsupportedError } from './errors.ts';
import { mappingFor, sqlString, type LogsourceMapping } from './mappings.ts';

/** A detection rule a correlation can name, by its `name` or `id`. */
export interface BaseRule {
  readonly rule: SigmaRule;
  readonly name?: string;
}

const unsupported = (reason: string): never => {
  throw new SigmaUnsupportedError(reason);
};

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };
const OPS: Readonly<Record<string, string>> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=' };

/** Compiles a correlation document against the rules of the same set; the table and logsource of its rules. */
export function compileCorrelation(
  id: string,
  title: string,
  correlation: Readonly<Record<string, unknown>>,
  bases: readonly BaseRule[],
): { table: string; logsource: string; sql: string } {
  const type = String(correlation.type ?? '');
  if (type !== 'event_count' && type !== 'value_count') {
    return unsupported(`correlation type ${JSON.stringify(type)} is not compiled: only event_count and value_count map to SQL windows`);
  }
  const names = Array.isArray(correlation.rules) ? correlation.rules.map(String) : typeof correlation.rules === 'string' ? [correlation.rules] : [];
  if (names.length === 0) return unsupported('correlation names no rules');
  const rules = names.map((n) => bases.find((b) => b.name === n || b.rule.id === n)?.rule ?? unsupported(`correlation names rule ${JSON.stringify(n)}, which is not in the rules folder`));
  const mappings = rules.map((r) => mappingFor(r.logsource));
  const first = mappings[0]!;
  if ('reason' in first) return unsupported(first.reason);
  if (mappings.some((m) => 'reason' in m || m.table !== first.table)) return unsupported('correlation joins rules of different tables; only rules of one table are compiled');
  const mapping = first as LogsourceMapping;

  const span = /^(\d+)([smhd])$/.exec(String(correlation.timespan ?? ''));
  if (!span || Number(span[1]) <= 0) return unsupported(`correlation timespan ${JSON.stringify(correlation.timespan)} is not a duration such as 5m, 1h or 1d`);
  const seconds = Number(span[1]) * UNIT_SECONDS[span[2]!]!;

  const groupBy = Array.isArray(correlation['group-by']) ? correlation['group-by'].map(String) : [];
  const groupSql = groupBy.map((f) => {
    const m = mapping.field(f);
    return 'reason' in m ? unsupported(`group-by: ${m.reason}`) : m.sql;
  });

  const condition = (correlation.condition ?? {}) as Record<string, unknown>;
  let counted: string | undefined;
  if (type === 'value_count') {
    const field = mapping.field(String(condition.field ?? ''));
    if ('reason' in field) return unsupported(`value_count condition field: ${field.reason}`);
    counted = field.sql;
  }
  const measure = counted === undefined ? 'count(*)' : 'count(DISTINCT counted)';
  const tests = Object.entries(condition)
    .filter(([k]) => k !== 'field')
    .map(([k, v]) => {
      if (!OPS[k] || typeof v !== 'number' || !Number.isInteger(v)) return unsupported(`correlation condition ${k}: ${JSON.stringify(v)} is not gt/gte/lt/lte/eq with a whole number`);
      return `${measure} ${OPS[k]} ${v}`;
    });
  if (tests.length === 0) return unsupported('correlation condition has no gt/gte/lt/lte/eq threshold');

  const where = rules.map((r) => `(${compileDetection(r.detection, mapping)})`).join(' OR ');
  const o = mapping.output;
  const pick = `coalesce(${o.eventTime}, '') || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0')`;
  const groups = groupSql.map((g, i) => `,\n    ${g} AS g_${i}`).join('');
  const sql = [
    'WITH matched AS (',
    '  SELECT',
    `    ${o.eventTime} AS event_time,`,
    `    ${o.actor} AS actor,`,
    `    ${o.sourceIp} AS source_ip,`,
    `    ${o.action} AS action,`,
    `    ${o.target} AS target,`,
    '    evidence_key,',
    '    evidence_record,',
    `    ${pick} AS pick,`,
    `    floor(to_unixtime(from_iso8601_timestamp(${o.eventTime})) / ${seconds}) AS bucket${groups}${counted === undefined ? '' : `,\n    ${counted} AS counted`}`,
    `  FROM ${mapping.table}`,
    `  WHERE ${where}`,
    ')',
    'SELECT',
    '  min_by(event_time, pick) AS event_time,',
    '  min_by(actor, pick) AS actor,',
    '  min_by(source_ip, pick) AS source_ip,',
    '  min_by(action, pick) AS action,',
    '  min_by(target, pick) AS target,',
    `  ${sqlString(`sigma ${id}: ${title}: `)} || CAST(${measure} AS varchar) || ${sqlString(` ${counted === undefined ? 'events' : 'distinct values'} in one ${span[0]} window`)} AS detail,`,
    '  min_by(evidence_key, pick) AS evidence_key,',
    '  min_by(evidence_record, pick) AS evidence_record',
    'FROM matched',
    `GROUP BY bucket${groupSql.map((_, i) => `, g_${i}`).join('')}`,
    `HAVING ${tests.join(' AND ')}`,
    'ORDER BY event_time, evidence_key, evidence_record',
  ].join('\n');
  return { table: mapping.table, logsource: mapping.logsource, sql };
}
