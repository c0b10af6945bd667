/**
 * The court papers' content, independent of how it is printed: one document model that the PDF and the HTML
 * renderers both draw, so the two carry the same text. Every string that came from a case (names, actors, keys,
 * origins, notes) goes through `visible` before it reaches either renderer.
 */

/** A column of a table: its title and its share of the line width. */
export interface Column {
  readonly title: string;
  readonly width: number;
}

/** One table row; `lines` are full-width lines under it (hashes, item keys), printed in a fixed-width font. */
export interface Row {
  readonly cells: readonly string[];
  readonly lines?: readonly string[];
}

export type Block =
  | { readonly kind: 'heading'; readonly text: string }
  | { readonly kind: 'subheading'; readonly text: string }
  | { readonly kind: 'paragraph'; readonly text: string; readonly strong?: boolean }
  /** Label and value pairs; `mono` values (hashes, keys) print in a fixed-width font. */
  | { readonly kind: 'fields'; readonly rows: ReadonlyArray<{ readonly label: string; readonly value: string; readonly mono?: boolean }> }
  | { readonly kind: 'table'; readonly columns: readonly Column[]; readonly rows: readonly Row[]; readonly empty: string }
  /** Blank lines a person fills in by hand (name, signature, date, place). */
  | { readonly kind: 'blanks'; readonly labels: readonly string[] };

/** A paper: title, the lines printed on every page, and the body. */
export interface PaperDocument {
  readonly title: string;
  /** Printed on every page beside "page N of M" (the latest sealed manifest's SHA-256, the ledger head). */
  readonly running: readonly string[];
  /** ISO-8601 UTC: the only time that differs between two papers issued from the same ledger. */
  readonly issuedAt: string;
  readonly subject: string;
  readonly blocks: readonly Block[];
}

/**
 * Characters a reader cannot see or that change how the text around them is shown: controls, bidi and other
 * format characters (RLO, zero-width joiners, soft hyphens), line and paragraph separators, surrogates,
 * private-use and unassigned code points.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u;

/** `[U+202E]`: how a character that cannot be shown as itself appears on the papers. */
export function codePointEscape(codePoint: number): string {
  return `[U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}]`;
}

/**
 * Text as it goes on the papers: every invisible or reordering character becomes a visible `[U+XXXX]`, and so
 * does every character `printable` rejects (the PDF's standard fonts encode WinAnsi only), so nothing is
 * silently dropped or reordered.
 */
export function visible(text: string, printable: (codePoint: number) => boolean = () => true): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out += INVISIBLE.test(ch) || !printable(cp) ? codePointEscape(cp) : ch;
  }
  return out;
}

/** Bytes as people read them: exact count, with a rounded unit for large sizes. */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${bytes} bytes (${v.toFixed(1)} ${units[u]})`;
}
