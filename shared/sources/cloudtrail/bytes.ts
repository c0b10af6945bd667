/**
 * Byte-level helpers shared by the CloudTrail parser and the digest validator: gzip detection and
 * inflation that never hides damage, text decoding that reports invalid UTF-8 instead of smoothing it
 * over, and SHA-256. Nothing here knows about CloudTrail records.
 */
import { constants as zlibConstants, gunzipSync } from 'node:zlib';

/** Inflated output above this is refused unless the caller raises it: a few KB of gzip can claim gigabytes. */
export const DEFAULT_MAX_INFLATED_BYTES = 1024 * 1024 * 1024;

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Outcome of inflating a gzip object: the bytes that could be read, and why the rest could not. */
export interface InflateResult {
  /** Everything inflated; when `damage` is set, only what came before the damage. */
  readonly data: Uint8Array;
  /** Why the stream could not be read to its end (truncated, corrupt, too large); undefined when intact. */
  readonly damage?: string;
}

/**
 * Inflates a gzip object. When the stream is damaged, the longest intact prefix is recovered so records
 * before the damage are not lost, and `damage` says what happened and where.
 */
export function inflateGzip(bytes: Uint8Array, maxInflatedBytes: number = DEFAULT_MAX_INFLATED_BYTES): InflateResult {
  try {
    return { data: gunzipSync(bytes, { maxOutputLength: maxInflatedBytes }) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (isTooLarge(error)) {
      return {
        data: new Uint8Array(0),
        damage: `inflates to more than ${maxInflatedBytes} bytes (limit maxInflatedBytes); refusing to read it (possible gzip bomb)`,
      };
    }
    // Binary search for the longest compressed prefix that inflates without error. A partial flush
    // (Z_SYNC_FLUSH) returns what a prefix decodes to without demanding the trailer, and an error can
    // only be detected at or after the damaged byte, so "prefix inflates" is monotonic in the length.
    const inflatesCleanly = (length: number): Uint8Array | undefined => {
      try {
        return gunzipSync(bytes.subarray(0, length), {
          finishFlush: zlibConstants.Z_SYNC_FLUSH,
          maxOutputLength: maxInflatedBytes,
        });
      } catch {
        return undefined;
      }
    };
    let good = 0;
    let bad = bytes.length + 1;
    const whole = inflatesCleanly(bytes.length);
    if (whole !== undefined) good = bytes.length;
    while (bad - good > 1) {
      const middle = Math.floor((good + bad) / 2);
      if (inflatesCleanly(middle) === undefined) bad = middle;
      else good = middle;
    }
    const data = whole ?? inflatesCleanly(good) ?? new Uint8Array(0);
    const where =
      good >= bytes.length
        ? `the stream ends early (truncated after ${bytes.length} compressed bytes)`
        : `damage at or after compressed byte ${good} of ${bytes.length}`;
    return {
      data,
      damage: `gzip stream is damaged (${message}): ${where}; ${data.length} bytes inflated before the damage`,
    };
  }
}

function isTooLarge(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
}

/**
 * Inflates just the head of a gzip object, for cheap format sniffing. Feeding a few KB of compressed
 * input bounds the work even for a gzip bomb (deflate expands at most ~1032:1). Text that compresses well
 * (flow logs, CloudTrail) can inflate past `maxOutputBytes` from the given compressed prefix: the prefix is then
 * halved until its output fits, so a head is always returned, never nothing because there was too much of it.
 */
export function inflateHead(bytes: Uint8Array, compressedBytes: number, maxOutputBytes: number): Uint8Array {
  let length = Math.min(compressedBytes, bytes.length);
  for (;;) {
    try {
      return gunzipSync(bytes.subarray(0, length), {
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
        maxOutputLength: maxOutputBytes,
      });
    } catch (error) {
      if (isTooLarge(error) && length > 1) {
        length = Math.floor(length / 2);
        continue;
      }
      // Trailing garbage or damage inside the head: recover what precedes it (cheap on a few KB). Sniffing
      // must not throw; an unreadable head yields no text, and the full parse reports why.
      return inflateGzip(bytes.subarray(0, length), maxOutputBytes).data;
    }
  }
}

/** Text encodings Amber recognises by their byte-order mark. */
export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be';

/** Detects the encoding from a byte-order mark and returns the offset where content starts. */
export function detectEncoding(bytes: Uint8Array): { encoding: TextEncodingName; start: number } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', start: 3 };
  // PowerShell 5 redirection (`aws cloudtrail lookup-events > out.json`) writes UTF-16LE with a BOM.
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', start: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', start: 2 };
  return { encoding: 'utf-8', start: 0 };
}

/**
 * Re-encodes content as UTF-8 bytes without its BOM, so every later step (line splitting, byte limits)
 * works on one encoding. UTF-16 input is transcoded; its line numbers and record positions are unchanged.
 */
export function toUtf8Bytes(bytes: Uint8Array): { data: Uint8Array; encoding: TextEncodingName } {
  const { encoding, start } = detectEncoding(bytes);
  if (encoding === 'utf-8') return { data: bytes.subarray(start), encoding };
  const text = new TextDecoder(encoding).decode(bytes.subarray(start));
  return { data: Buffer.from(text, 'utf8'), encoding };
}

/** Byte offset of the first invalid UTF-8 sequence, or -1 when the bytes are valid UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + need >= n) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k += 1) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid UTF-8.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}

/** Decodes UTF-8 text; invalid sequences become U+FFFD and the first bad offset is returned for reporting. */
export function decodeUtf8(bytes: Uint8Array): { text: string; invalidAt: number } {
  const invalidAt = firstInvalidUtf8(bytes);
  return { text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), invalidAt };
}
