/** Media type of preserved objects, from the first bytes (magic numbers win over names). */

const BY_EXTENSION: ReadonlyArray<[RegExp, string]> = [
  [/\.(jsonl|ndjson)$/i, 'application/x-ndjson'],
  [/\.json$/i, 'application/json'],
  [/\.csv$/i, 'text/csv'],
  [/\.(log|txt)$/i, 'text/plain'],
  [/\.parquet$/i, 'application/vnd.apache.parquet'],
];

/** Guesses a media type from a key and the object's first bytes. */
export function sniffMediaType(key: string, head: Uint8Array): string {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'application/gzip';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) return 'application/vnd.apache.parquet';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'application/zip';
  for (const [pattern, type] of BY_EXTENSION) if (pattern.test(key)) return type;
  if (head.length === 0) return 'application/octet-stream';
  const first = head.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (first === 0x7b || first === 0x5b) return 'application/json';
  const printable = head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b !== 0x7f));
  return printable ? 'text/plain' : 'application/octet-stream';
}
