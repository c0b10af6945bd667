/**
 * Every object an analysis reads, read once from the locker, hashed as it streams, and written to a private
 * folder (mkdtemp, mode 0700) that only this process uses. Parsers and DuckDB read those private copies, never
 * the locker: the bytes analysed are exactly the bytes hashed, and a change to the locker after the check (or
 * during it) cannot reach a finding. Any object whose SHA-256 or size differs from the custody record, or that is
 * missing, is an integrity failure: all of them are named together, before any parser or query runs.
 *
 * The copies also get the input-limit scan (input-scan.ts) here, streaming, so a hostile object is known before
 * anything tries to parse it whole.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { IntegrityError } from '../errors.ts';
import { HashingPassThrough, hashStream } from '../evidence/hashing.ts';
import type { EvidenceItem } from '../evidence/model.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { DEFAULT_INPUT_LIMITS, InputScanner, type InputLimits, type ScanOutcome } from './input-scan.ts';
import { forEachConcurrent } from '../evidence/concurrency.ts';

/**
 * Where the locker keeps an object as a local file: a LocalObjectStore, or a remote locker behind a read-through
 * cache (CachedLocker), which `fetch`es the items first. `fetch` never throws for one object: the integrity
 * check that follows names every missing or altered one.
 */
export interface LockerPaths {
  pathOf(key: string): string;
  fetch?(items: readonly EvidenceItem[]): Promise<unknown>;
}

/** A locker an analysis can read from and record into: the ObjectStore port plus local files to read. */
export type AnalysisLocker = ObjectStore & LockerPaths;

/** One verified object: its private copy and what the limit scan found. */
export interface VerifiedObject {
  readonly item: EvidenceItem;
  /** The private copy parsers and DuckDB read. */
  readonly path: string;
  readonly gzip: boolean;
  /** Undefined when the object was not scanned (derived copies Amber wrote itself). */
  readonly scan?: ScanOutcome;
}

export interface VerifyInputsOptions {
  readonly limits?: InputLimits;
  /** Keys whose content is scanned for the input limits. @default every item not derived */
  readonly scan?: (item: EvidenceItem) => boolean;
  /** How many objects are copied at once. @default 4 */
  readonly concurrency?: number;
}

const GLOB_SAFE = /[^A-Za-z0-9._-]/g;

/** The private copies of a set of evidence items; `close()` removes them. */
export class VerifiedInputs {
  private closed = false;
  private counter = 0;

  private constructor(
    readonly dir: string,
    private readonly objects: Map<string, VerifiedObject>,
    readonly limits: InputLimits,
  ) {}

  /**
   * Copies and hashes every item; throws IntegrityError naming every object that is missing or altered (and
   * removes the copies) so nothing is analysed from a case that does not match its custody record.
   */
  static async open(store: LockerPaths, items: readonly EvidenceItem[], options: VerifyInputsOptions = {}): Promise<VerifiedInputs> {
    const limits = options.limits ?? DEFAULT_INPUT_LIMITS;
    const shouldScan = options.scan ?? ((item: EvidenceItem) => !item.derivedFrom);
    const dir = await mkdtemp(join(tmpdir(), 'amber-verified-'));
    await chmod(dir, 0o700);
    const objects = new Map<string, VerifiedObject>();
    const failures: string[] = [];
    const inputs = new VerifiedInputs(dir, objects, limits);
    try {
      await store.fetch?.(items);
      await forEachConcurrent(items, options.concurrency ?? 4, async (item) => {
        const copy = await inputs.copy(store.pathOf(item.key), item);
        if ('failure' in copy) {
          failures.push(copy.failure);
          return;
        }
        const scan = shouldScan(item) ? await scanFile(copy.path, copy.gzip, limits) : undefined;
        objects.set(item.key, { item, path: copy.path, gzip: copy.gzip, ...(scan ? { scan } : {}) });
      });
    } catch (error) {
      await inputs.close();
      throw error;
    }
    if (failures.length > 0) {
      await inputs.close();
      throw mismatch(failures);
    }
    return inputs;
  }

  /** The verified copy of a key, or undefined when it was not among the items. */
  get(key: string): VerifiedObject | undefined {
    return this.objects.get(key);
  }

  /** Writes bytes Amber derived (and hashed) into the private folder, for DuckDB to read. */
  async writePrivate(name: string, bytes: Uint8Array): Promise<string> {
    this.counter += 1;
    const path = join(this.dir, `w${this.counter}-${name.replace(GLOB_SAFE, '_').slice(-80)}`);
    await writeFile(path, bytes, { mode: 0o600, flag: 'wx' });
    return path;
  }

  /** A fresh path in the private folder, for bytes Amber writes there itself (zip members). */
  reservePath(name: string): string {
    this.counter += 1;
    return join(this.dir, `r${this.counter}-${name.replace(GLOB_SAFE, '_').slice(-80)}`);
  }

  /** Removes the private copies (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await rm(this.dir, { recursive: true, force: true });
  }

  private async copy(source: string, item: EvidenceItem): Promise<{ path: string; gzip: boolean } | { failure: string }> {
    this.counter += 1;
    // The copy's name carries no part of the key (no glob characters for DuckDB), only `.gz` when the content is
    // gzip, which is how DuckDB's readers decide to inflate.
    const base = join(this.dir, `o${this.counter}`);
    let first: Buffer | undefined;
    const hasher = new HashingPassThrough((chunk) => {
      first ??= chunk;
    });
    const temp = `${base}.part`;
    try {
      await pipeline(createReadStream(source), hasher, createWriteStream(temp, { mode: 0o600, flags: 'wx' }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT') return { failure: `${item.key}: missing from the locker (recorded sha256 ${item.sha256}, ${item.size} bytes)` };
      return { failure: `${item.key}: cannot be read (${error instanceof Error ? error.message : String(error)})` };
    }
    if (hasher.sha256 !== item.sha256 || hasher.size !== item.size) {
      return { failure: `${item.key}: altered: sha256 ${hasher.sha256} (${hasher.size} bytes), the custody record says ${item.sha256} (${item.size} bytes)` };
    }
    const gzip = first !== undefined && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    // Amber's derived Parquet (magic `PAR1`) keeps its own extension: DuckDB reads it with read_parquet.
    const parquet = first !== undefined && first.length >= 4 && first.subarray(0, 4).toString('latin1') === 'PAR1';
    const path = parquet ? `${base}.parquet` : gzip ? `${base}.json.gz` : `${base}.json`;
    await rename(temp, path);
    return { path, gzip };
  }
}

/** The one error for objects that do not match their custody record: every object named, on one line. */
function mismatch(failures: string[]): IntegrityError {
  failures.sort();
  return new IntegrityError(
    // One line (the CLI shows errors on one line): each object, then why.
    `${failures.length === 1 ? '1 preserved object does' : `${failures.length} preserved objects do`} not match the custody record, so nothing was analysed: ${failures.join('; ')}`,
    { hint: 'run `amber verify` for the full integrity report; analyse only a case whose evidence verifies (restore the objects from a trusted copy, or collect them again into a new case)' },
  );
}

/**
 * Hashes objects where the locker keeps them, without copying: for objects that are checked but not analysed
 * (the originals behind a derived Parquet set), so a case whose evidence no longer matches its custody record
 * still stops every analysis with exit 3. Throws the same IntegrityError as `VerifiedInputs.open`.
 */
export async function checkInPlace(store: LockerPaths, items: readonly EvidenceItem[], concurrency = 4): Promise<void> {
  const failures: string[] = [];
  await store.fetch?.(items);
  await forEachConcurrent(items, concurrency, async (item) => {
    try {
      const { sha256, size } = await hashStream(createReadStream(store.pathOf(item.key)));
      if (sha256 !== item.sha256 || size !== item.size) failures.push(`${item.key}: altered: sha256 ${sha256} (${size} bytes), the custody record says ${item.sha256} (${item.size} bytes)`);
    } catch (error) {
      const code = (error as { code?: string }).code;
      failures.push(code === 'ENOENT' ? `${item.key}: missing from the locker (recorded sha256 ${item.sha256}, ${item.size} bytes)` : `${item.key}: cannot be read (${error instanceof Error ? error.message : String(error)})`);
    }
  });
  if (failures.length > 0) throw mismatch(failures);
}

/** Streams a private copy (inflating gzip, up to the limit) through the input-limit scanner. */
export async function scanFile(path: string, gzip: boolean, limits: InputLimits, options: { collect?: boolean } = {}): Promise<ScanOutcome> {
  const scanner = new InputScanner(limits, options);
  const read = createReadStream(path);
  if (!gzip) {
    for await (const chunk of read) scanner.push(chunk as Buffer);
    return scanner.end();
  }
  const gunzip = createGunzip();
  let inflated = 0;
  let over = false;
  try {
    await pipeline(read, gunzip, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        inflated += chunk.length;
        if (inflated > limits.maxInflatedBytes) {
          over = true;
          // Stop inflating now: reading on is exactly what a gzip bomb wants.
          throw new Error('over the inflated-size limit');
        }
        scanner.push(chunk);
      }
    });
  } catch {
    // Over the limit, or a damaged stream: the scan covers what inflated; the parser reports the damage itself.
  }
  const outcome = scanner.end();
  if (over) return { ...outcome, fileProblem: `inflates to more than ${limits.maxInflatedBytes} bytes (limit maxInflatedBytes; possible gzip bomb); it was not read` };
  return outcome;
}
