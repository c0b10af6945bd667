/**
 * An ObjectStore wrapper that injects faults at chosen steps, for crash and disk-full tests. Written behaviour:
 * - `crashAfter(step)`: the first operation matching `step` completes, then the process "dies": that call and
 *   every later write or read throws Crash, so nothing after the crash point reaches the store (lock release
 *   still works, so the same test process can run the next command);
 * - `tearNextAppend()`: the next appendLog writes only the first half of its bytes to the file, then dies;
 * - `noSpaceFor(match)`: puts whose key matches fail with ENOSPC before storing anything, appends too when
 *   `appends` is set, as a full disk would make them.
 */
import { appendFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import type { ObjectStore, PutOptions, PutResult, StoredObject } from '../../shared/ports/object-store.ts';

export class Crash extends Error {}

export type Step = { op: 'putImmutable' | 'appendLog'; key: (key: string) => boolean };

export class FaultyStore implements ObjectStore {
  readonly uri: string;
  private dead = false;
  private crashStep: Step | undefined;
  private tear = false;
  private noSpace: ((key: string) => boolean) | undefined;
  private noSpaceAppends = false;

  constructor(readonly inner: LocalObjectStore) {
    this.uri = inner.uri;
  }

  crashAfter(step: Step): void {
    this.crashStep = step;
  }

  tearNextAppend(): void {
    this.tear = true;
  }

  noSpaceFor(match: (key: string) => boolean, options: { appends?: boolean } = {}): void {
    this.noSpace = match;
    this.noSpaceAppends = options.appends ?? false;
  }

  private alive(): void {
    if (this.dead) throw new Crash('the process was killed');
  }

  private after(op: Step['op'], key: string): void {
    if (this.crashStep && this.crashStep.op === op && this.crashStep.key(key)) {
      this.dead = true;
      throw new Crash(`killed after ${op} ${key}`);
    }
  }

  async putImmutable(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult> {
    this.alive();
    if (this.noSpace?.(key)) {
      if (!(body instanceof Uint8Array)) body.destroy();
      throw Object.assign(new Error(`ENOSPC: no space left on device, write (${key})`), { code: 'ENOSPC' });
    }
    const result = await this.inner.putImmutable(key, body, options);
    this.after('putImmutable', key);
    return result;
  }

  async appendLog(key: string, text: string): Promise<void> {
    this.alive();
    if (this.tear) {
      this.dead = true;
      const bytes = Buffer.from(text);
      await appendFile(this.inner.pathOf(key), bytes.subarray(0, Math.floor(bytes.length / 2)));
      throw new Crash(`killed while appending to ${key}`);
    }
    if (this.noSpaceAppends) throw Object.assign(new Error(`ENOSPC: no space left on device, write (${key})`), { code: 'ENOSPC' });
    await this.inner.appendLog(key, text);
    this.after('appendLog', key);
  }

  async get(key: string): Promise<Readable> {
    this.alive();
    return this.inner.get(key);
  }

  async readText(key: string): Promise<string | undefined> {
    this.alive();
    return this.inner.readText(key);
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    this.alive();
    yield* this.inner.list(prefix);
  }

  async trimLogTail(key: string, tail: string): Promise<void> {
    this.alive();
    return this.inner.trimLogTail(key, tail);
  }

  async lock(name: string): Promise<() => Promise<void>> {
    return this.inner.lock(name);
  }

  async exists(): Promise<boolean> {
    return this.inner.exists();
  }
}
