/**
 * Escaping for attacker-controlled text (file names, log fields) wherever Amber shows it.
 */

/**
 * Makes text safe for a terminal: C0/C1 control characters (ESC sequences that recolour, retitle or
 * rewrite the screen, carriage returns that hide text) and bidirectional overrides become visible escapes.
 */
export function escapeTerminal(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, visibleEscape);
}

/**
 * Text bound for standard output, terminal or pipe: line feeds and tabs kept, every other control or bidi
 * character written as `\uXXXX`. Inside JSON strings that is a valid escape of the same character (JSON output
 * parses to the same value); in CSV or prose it is a visible, inert escape. Idempotent.
 */
export function terminalSafeText(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function visibleEscape(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Makes text safe inside HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * One CSV cell (RFC 4180 quoting), safe against formula injection: a cell a spreadsheet would evaluate
 * (starting with =, +, -, @, tab or carriage return) is prefixed with an apostrophe, as OWASP advises.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text) && !(typeof value === 'number')) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}
