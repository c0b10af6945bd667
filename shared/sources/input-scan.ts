/**
 * A streaming structural scan of one object's (inflated) content that enforces the input limits before any
 * parser or DuckDB sees the bytes: nesting depth (a file of 100k `[` crashed DuckDB's recursive reader), the size
 * of one record and of one field (a 500 MB single-line record drove a whole-file parse to gigabytes), and the
 * inflated size of gzip (a few KB can claim gigabytes). It never builds values and keeps no more than one record
 * in memory (and only when asked to collect the good ones), so memory stays bounded whatever the file holds.
 *
 * What a "record" is here, so problems name the same positions the parsers do:
 * - a file of JSON values one after another (JSON Lines): each top-level value; its index is its 0-based line;
 * - a top-level array: each element, by position;
 * - a top-level object with a known container array (`Records`, `Events`, `value`, ...): each element of it;
 * - any other top-level object: the whole object is record 0;
 * - text that is not JSON (flow logs, access logs, broker logs): each line, by 0-based line number.
 */

/** Limits on what one object may hold. Each problem names the limit, so a real file that needs more can be let in. */
export interface InputLimits {
  /** Deepest nesting of arrays and objects anywhere in a document. */
  readonly maxDepth: number;
  /** Largest record (one JSON value, one line), in bytes of (inflated) content. */
  readonly maxRecordBytes: number;
  /** Largest single field (one JSON string or number), in bytes. */
  readonly maxFieldBytes: number;
  /** Largest inflated size of one gzip object. */
  readonly maxInflatedBytes: number;
}

const MIB = 1024 * 1024;

/**
 * The defaults. CloudTrail caps one event at 256 KB and no other source Amber reads writes records near 1 MiB;
 * 64 levels is several times the deepest real record seen in the corpora (IAM policies arrive as strings).
 */
export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxDepth: 64,
  maxRecordBytes: MIB,
  maxFieldBytes: 512 * 1024,
  maxInflatedBytes: 1024 * MIB,
};

/** A record over a limit: where it is and which limit it broke. */
export interface LimitViolation {
  /** 0-based record index (line index for JSON Lines and text). */
  readonly record: number;
  readonly reason: string;
}

export interface ScanOutcome {
  /** Bytes of content scanned (inflated size for gzip). */
  readonly bytes: number;
  /** Records over a limit (the first VIOLATIONS_KEPT; `moreViolations` counts the rest). */
  readonly violations: readonly LimitViolation[];
  readonly moreViolations: number;
  /** A problem with the object as a whole (over the inflated-size limit): nothing of it may be read. */
  readonly fileProblem?: string;
  /** With `collect`: the records within every limit, in order, each with its index. */
  readonly good?: readonly { readonly record: number; readonly bytes: Buffer }[];
}

const VIOLATIONS_KEPT = 1000;
const CONTAINER_KEYS = new Set(['Records', 'Events', 'QueryResultRows', 'value', 'records', 'events', 'logEvents', 'logFiles', 'entries', 'assets']);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/**
 * Scans content chunk by chunk (`push`), then `end()`. With `collect`, the records within every limit are kept
 * (each at most maxRecordBytes), so a file with a few hostile records can still give its good ones.
 */
export class InputScanner {
  private mode: 'unknown' | 'json' | 'text' = 'unknown';
  private bytes = 0;
  private line = 0;
  private readonly violations: LimitViolation[] = [];
  private moreViolations = 0;
  private readonly good: { record: number; bytes: Buffer }[] | undefined;

  // JSON state
  private depth = 0;
  private inString = false;
  private escape = false;
  private stringBytes = 0;
  private scalarBytes = 0;
  private inScalar = false;
  /** Depth at which records are values: 0 (top-level values), 1 (top-level array) or 2 (container arrays). */
  private recordDepth = 0;
  private topIsArray = false;
  private expectKeyAt1 = false;
  private keyBytes: number[] | undefined;
  private lastKey = '';
  private afterColonAt1 = false;
  // The record in progress
  private recordOpen = false;
  private recordIndex = -1;
  private elementOrdinal = -1;
  private recordStartLine = 0;
  private recordSize = 0;
  private recordFlagged = false;
  private recordChunks: Buffer[] = [];
  private recordTooBigToKeep = false;

  constructor(
    private readonly limits: InputLimits,
    options: { readonly collect?: boolean } = {},
  ) {
    this.good = options.collect ? [] : undefined;
  }

  push(chunk: Buffer): void {
    if (this.mode === 'unknown') {
      let i = 0;
      while (i < chunk.length && isWs(chunk[i]!)) i += 1;
      if (i === chunk.length) {
        this.countLines(chunk, 0, chunk.length);
        this.bytes += chunk.length;
        return;
      }
      const c = chunk[i]!;
      if (c === 0xef && chunk[i + 1] === 0xbb && chunk[i + 2] === 0xbf) {
        // A UTF-8 byte-order mark is not content: skip it and decide on what follows.
        this.bytes += i + 3;
        this.push(chunk.subarray(i + 3));
        return;
      }
      // UTF-16 (a BOM of ff fe / fe ff) is scanned as lines of bytes: sizes count twice the characters at worst.
      this.mode = c === 0x7b || c === 0x5b ? 'json' : 'text';
    }
    if (this.mode === 'text') this.pushText(chunk);
    else this.pushJson(chunk);
    this.bytes += chunk.length;
  }

  end(): ScanOutcome {
    if (this.mode === 'text') {
      if (this.recordOpen) this.closeRecord(this.bytes);
    } else if (this.recordOpen) {
      // A record still open at the end: truncated, or nested past the end. The parser reports the damage; here only
      // a limit it broke is reported.
      if (this.recordFlagged || this.recordSize > this.limits.maxRecordBytes) this.closeRecord(this.bytes, false);
    }
    return {
      bytes: this.bytes,
      violations: this.violations,
      moreViolations: this.moreViolations,
      ...(this.good ? { good: this.good } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Text: one record a line.

  private pushText(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.recordOpen) this.openRecord(this.line, this.line);
      this.grow(chunk, start, end);
      if (nl === -1) break;
      this.closeRecord(this.bytes + nl);
      this.line += 1;
      start = nl + 1;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // JSON

  private pushJson(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let segment = this.recordOpen ? 0 : -1;
    let nextBackslash = -1;
    while (i < n) {
      if (this.inString) {
        // Jump to the next quote or backslash: most of a log is string content.
        let j = i;
        if (this.escape) {
          this.escape = false;
          j += 1;
          this.stringBytes += 1;
        }
        let stop = n;
        const q = chunk.indexOf(QUOTE, j);
        // The next backslash is remembered per chunk: searching afresh for each string would scan to the chunk's end
        // every time when it holds none (quadratic in the chunk size).
        if (nextBackslash < j) {
          nextBackslash = chunk.indexOf(BACKSLASH, j);
          if (nextBackslash === -1) nextBackslash = n;
        }
        if (q !== -1) stop = q;
        if (nextBackslash < stop) stop = nextBackslash;
        this.stringBytes += stop - j;
        if (this.keyBytes && this.keyBytes.length < 64) for (let k = j; k < stop && this.keyBytes.length < 64; k += 1) this.keyBytes.push(chunk[k]!);
        if (stop === n) break;
        if (chunk[stop] === BACKSLASH) {
          this.escape = true;
          i = stop + 1;
          continue;
        }
        // Closing quote.
        this.inString = false;
        this.checkField(this.stringBytes, 'string');
        if (this.keyBytes) {
          this.lastKey = Buffer.from(this.keyBytes).toString('utf8');
          this.keyBytes = undefined;
        }
        i = stop + 1;
        if (this.recordOpen && this.depth === this.recordDepth) {
          // A string record (an element that is a bare string) ends with its quote.
          this.grow(chunk, segment, i);
          segment = -1;
          this.closeRecord(this.bytes + i);
        }
        continue;
      }
      const c = chunk[i]!;
      if (this.inScalar) {
        if (isDelimiter(c)) {
          this.inScalar = false;
          this.checkField(this.scalarBytes, 'value');
          if (this.recordOpen && this.depth === this.recordDepth) {
            this.grow(chunk, segment, i);
            segment = -1;
            this.closeRecord(this.bytes + i);
          }
        } else {
          this.scalarBytes += 1;
          i += 1;
          continue;
        }
      }
      if (c === NEWLINE) {
        this.line += 1;
        i += 1;
        continue;
      }
      if (isWs(c) || c === 0x3a /* : */ || c === 0x2c /* , */) {
        if (c === 0x3a && this.depth === 1) this.afterColonAt1 = true;
        if (c === 0x2c && this.depth === 1 && !this.topIsArray) this.expectKeyAt1 = true;
        i += 1;
        continue;
      }
      // A value or a closing bracket.
      if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        this.depth -= 1;
        i += 1;
        // Stray closers (damaged JSON) must not make the depth negative; the parser reports the damage.
        if (this.depth < 0) this.depth = 0;
        if (this.recordOpen && this.depth === this.recordDepth) {
          this.grow(chunk, segment, i);
          segment = -1;
          this.closeRecord(this.bytes + i);
        }
        if (this.depth === 1 && c === 0x5d && this.recordDepth === 2) this.recordDepth = 0;
        if (this.depth === 0 && c === 0x5d && this.topIsArray) this.recordDepth = 0;
        continue;
      }
      // A value starts here.
      if (!this.recordOpen && this.depth === this.recordDepth) {
        this.elementOrdinal += 1;
        // JSON Lines positions are line numbers; array elements are ordinals.
        const index = this.recordDepth === 0 ? this.line : this.elementOrdinal;
        this.openRecord(index, this.line);
        segment = i;
      }
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (this.depth === 0) {
          this.topIsArray = c === 0x5b;
          if (this.topIsArray) {
            // The array itself is not a record; its elements are.
            this.cancelRecord();
            segment = -1;
            this.recordDepth = 1;
            this.elementOrdinal = -1;
          } else {
            this.expectKeyAt1 = true;
          }
        } else if (this.depth === 1 && !this.topIsArray && c === 0x5b && this.afterColonAt1 && CONTAINER_KEYS.has(this.lastKey)) {
          // The top-level object is a wrapper: its container's elements are the records.
          this.cancelRecord();
          segment = -1;
          this.recordDepth = 2;
          this.elementOrdinal = -1;
        }
        if (this.depth === 1) this.afterColonAt1 = false;
        this.depth += 1;
        if (this.depth > this.limits.maxDepth) this.flag(`nests deeper than ${this.limits.maxDepth} levels (limit maxDepth)`);
        i += 1;
        continue;
      }
      if (this.depth === 1) this.afterColonAt1 = false;
      if (c === QUOTE) {
        this.inString = true;
        this.stringBytes = 0;
        if (this.depth === 1 && !this.topIsArray && this.expectKeyAt1) {
          this.keyBytes = [];
          this.expectKeyAt1 = false;
        }
        i += 1;
        continue;
      }
      this.inScalar = true;
      this.scalarBytes = 1;
      i += 1;
    }
    if (this.recordOpen && segment !== -1) this.grow(chunk, segment, n);
  }

  private checkField(size: number, what: string): void {
    if (size > this.limits.maxFieldBytes) this.flag(`has a ${what} field of ${size} bytes, over the ${this.limits.maxFieldBytes}-byte field limit (limit maxFieldBytes)`);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Records

  private openRecord(index: number, line: number): void {
    this.recordOpen = true;
    this.recordIndex = index;
    this.recordStartLine = line;
    this.recordSize = 0;
    this.recordFlagged = false;
    this.recordChunks = [];
    this.recordTooBigToKeep = false;
    this.pendingReasons = [];
  }

  private pendingReasons: string[] = [];

  private cancelRecord(): void {
    this.recordOpen = false;
    this.recordChunks = [];
    this.pendingReasons = [];
    this.recordFlagged = false;
  }

  private grow(chunk: Buffer, from: number, to: number): void {
    if (from < 0 || to <= from) return;
    this.recordSize += to - from;
    if (this.good && !this.recordTooBigToKeep && !this.recordFlagged) {
      if (this.recordSize > this.limits.maxRecordBytes) {
        this.recordTooBigToKeep = true;
        this.recordChunks = [];
      } else {
        this.recordChunks.push(Buffer.from(chunk.subarray(from, to)));
      }
    }
  }

  private flag(reason: string): void {
    if (!this.recordOpen) {
      // Outside any record (a wrapper's other keys): still reported, as record 0 of the object.
      this.openRecord(0, this.line);
    }
    if (!this.recordFlagged) {
      this.recordFlagged = true;
      this.recordChunks = [];
    }
    if (this.pendingReasons.length < 2 && !this.pendingReasons.includes(reason)) this.pendingReasons.push(reason);
  }

  private closeRecord(_endOffset: number, complete = true): void {
    const reasons = [...this.pendingReasons];
    if (this.recordSize > this.limits.maxRecordBytes) {
      reasons.unshift(`is ${complete ? '' : 'at least '}${this.recordSize} bytes, over the ${this.limits.maxRecordBytes}-byte record limit (limit maxRecordBytes)`);
    }
    if (reasons.length > 0) {
      const where = this.recordDepth === 0 || this.mode === 'text' ? ` (line ${this.recordStartLine + 1})` : '';
      if (this.violations.length < VIOLATIONS_KEPT) this.violations.push({ record: this.recordIndex, reason: `record ${this.recordIndex}${where} ${reasons.join('; ')}; it was not read` });
      else this.moreViolations += 1;
    } else if (this.good) {
      const bytes = Buffer.concat(this.recordChunks);
      if (this.mode === 'json' || bytes.some((b) => !isWs(b))) this.good.push({ record: this.recordIndex, bytes });
    }
    this.recordOpen = false;
    this.recordChunks = [];
    this.pendingReasons = [];
    this.recordFlagged = false;
  }

  private countLines(chunk: Buffer, from: number, to: number): void {
    for (let i = chunk.indexOf(NEWLINE, from); i !== -1 && i < to; i = chunk.indexOf(NEWLINE, i + 1)) this.line += 1;
  }
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDelimiter(c: number): boolean {
  return c === 0x2c || c === 0x5d || c === 0x7d || isWs(c);
}
