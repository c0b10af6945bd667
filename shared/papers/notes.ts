/**
 * Notes on a case's custody (`amber note`, ledger action `noted`): legal requests to providers, transfers of the
 * evidence between people, accesses and remarks. Validated here so the ledger only ever holds notes the custody
 * report can show as they were meant: required fields present, dates ISO-8601, lengths bounded, and no control or
 * bidi characters that would hide or reorder text.
 */
import { InvalidInputError } from '../errors.ts';

export const NOTE_KINDS = ['legal-request', 'transfer', 'access', 'remark'] as const;
export type NoteKind = (typeof NOTE_KINDS)[number];

/** A note field: its flag, its name in the ledger, what it holds. */
interface FieldSpec {
  readonly flag: string;
  readonly name: string;
  readonly required: boolean;
  readonly date?: true;
  readonly long?: true;
}

const TEXT: FieldSpec = { flag: 'text', name: 'text', required: false, long: true };

/** The fields of each kind of note, in the order the custody report shows them. */
export const NOTE_FIELDS: Readonly<Record<NoteKind, readonly FieldSpec[]>> = {
  'legal-request': [
    { flag: 'provider', name: 'provider', required: true },
    { flag: 'portal', name: 'portal', required: false },
    { flag: 'reference', name: 'reference', required: true },
    { flag: 'date', name: 'date', required: true, date: true },
    { flag: 'data-location', name: 'dataLocation', required: false },
    { flag: 'jurisdiction', name: 'jurisdiction', required: false },
    { flag: 'status', name: 'status', required: false },
    TEXT,
  ],
  transfer: [
    { flag: 'from', name: 'from', required: true },
    { flag: 'to', name: 'to', required: true },
    { flag: 'reason', name: 'reason', required: true },
    // When it happened, if not when it is noted (the entry's own time).
    { flag: 'date', name: 'date', required: false, date: true },
    TEXT,
  ],
  access: [{ flag: 'date', name: 'date', required: false, date: true }, { ...TEXT, required: true }],
  remark: [{ ...TEXT, required: true }],
};

/** Every flag a note can take (across kinds). */
export const NOTE_FLAGS: readonly string[] = [...new Set(Object.values(NOTE_FIELDS).flatMap((fields) => fields.map((f) => f.flag)))];

export const MAX_FIELD = 300;
export const MAX_TEXT = 4000;

/** Controls, bidi embeddings/overrides/isolates and marks, line and paragraph separators: refused in notes. */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point here
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** ISO-8601 date (YYYY-MM-DD) or date-time with a zone, naming a real calendar day. */
export function isIsoDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return false;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59)) return false;
  return true;
}

/**
 * The ledger detail of a note of `kind` from the flags given (flag name -> value). Throws InvalidInputError
 * naming the field and the fix for a missing required field, a field of another kind, a bad date, an
 * over-long value or a control or bidi character.
 */
export function noteDetail(kind: NoteKind, given: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const fields = NOTE_FIELDS[kind];
  const detail: Record<string, string> = { kind };
  for (const flag of Object.keys(given).sort()) {
    if (given[flag] === undefined) continue;
    if (!fields.some((f) => f.flag === flag)) {
      const owners = NOTE_KINDS.filter((k) => NOTE_FIELDS[k].some((f) => f.flag === flag));
      throw new InvalidInputError(`--${flag} does not belong to a note of kind ${kind}${owners.length ? ` (it is for --kind ${owners.join(' or ')})` : ''}`, {
        hint: `a ${kind} note takes ${fields.map((f) => `--${f.flag}`).join(', ')}`,
      });
    }
  }
  for (const f of fields) {
    const value = given[f.flag];
    if (value === undefined || value.trim() === '') {
      if (f.required) throw new InvalidInputError(`a ${kind} note needs --${f.flag}`, { hint: `add --${f.flag} ${f.date ? '2026-03-01 (ISO-8601)' : '"..."'}; a ${kind} note takes ${fields.map((x) => `--${x.flag}${x.required ? '' : ' (optional)'}`).join(', ')}` });
      continue;
    }
    const bad = FORBIDDEN.exec(value);
    if (bad) {
      const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new InvalidInputError(`--${f.flag} holds the control or bidi character U+${cp} at position ${bad.index + 1}: it could hide or reorder the note's text`, {
        hint: `give --${f.flag} as plain text on one line, without control or direction-changing characters`,
      });
    }
    const limit = f.long ? MAX_TEXT : MAX_FIELD;
    const length = Array.from(value).length;
    if (length > limit) throw new InvalidInputError(`--${f.flag} is ${length} characters long; the limit is ${limit}`, { hint: `shorten --${f.flag}${f.long ? '' : ', or put the details in --text'}` });
    if (f.date && !isIsoDate(value)) {
      throw new InvalidInputError(`--${f.flag} ${JSON.stringify(value)} is not an ISO-8601 date`, { hint: `give a calendar date such as 2026-03-01, or a time with its zone such as 2026-03-01T14:30:00+05:30` });
    }
    detail[f.name] = value;
  }
  return detail;
}

/** A note's particulars as "name: value" lines for the custody report (the text last). */
export function noteParticulars(detail: Readonly<Record<string, unknown>>): string[] {
  const kind = String(detail.kind ?? '');
  const fields = (NOTE_KINDS as readonly string[]).includes(kind) ? NOTE_FIELDS[kind as NoteKind] : [];
  const names = fields.length ? fields.map((f) => f.name) : Object.keys(detail).filter((k) => k !== 'kind').sort();
  return names.flatMap((name) => (detail[name] === undefined ? [] : [`${LABELS[name] ?? name}: ${String(detail[name])}`]));
}

const LABELS: Readonly<Record<string, string>> = {
  provider: 'Provider',
  portal: 'Portal',
  reference: 'Reference',
  date: 'Date',
  dataLocation: 'Data location',
  jurisdiction: 'Jurisdiction',
  status: 'Status',
  from: 'From',
  to: 'To',
  reason: 'Reason',
  text: 'Text',
};
