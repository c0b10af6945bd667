/**
 * What every API source (CloudTrail LookupEvents, Cloud Logging entries.list, ...) shares: pacing within a
 * documented request quota, sortable window names for keys, and reading back the pages a case already holds so a
 * re-run resumes after the last preserved page instead of asking again (tokens are opaque and a page asked for
 * twice may come back with other bytes, which the write-once locker would refuse).
 */
import { casePrefix } from './names.ts';
import type { ObjectStore } from '../ports/object-store.ts';

/**
 * A token bucket holding one token, refilled `rate` times a second: requests go out at least 1/rate s apart,
 * so no sliding second ever holds more than `rate` of them (a bucket of `rate` tokens would let `rate` + 1
 * through within one second after an idle spell). Clock and sleep injectable for tests.
 */
export class TokenBucket {
  private tokens = 1;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly now: () => number = () => Date.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.last = now();
  }

  /** Waits until a request may be sent, then spends its token. */
  async take(): Promise<void> {
    for (;;) {
      const now = this.now();
      this.tokens = Math.min(1, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000));
    }
  }
}

/** What is already in the locker under a source's keys (for resuming); paths relative to the case. */
export interface PreservedPages {
  /** Relative paths of objects already stored under `relPrefix`. */
  list(relPrefix: string): Promise<string[]>;
  /** The stored bytes of one of them. */
  read(relPath: string): Promise<Buffer>;
}

/** The pages of a case in a locker, for resuming (what `collect` stores under `cases/<case>/<relPath>`). */
export function preservedPagesIn(store: ObjectStore, caseName: string): PreservedPages {
  const prefix = casePrefix(caseName);
  return {
    async list(relPrefix) {
      const out: string[] = [];
      for await (const object of store.list(`${prefix}${relPrefix}`)) out.push(object.key.slice(prefix.length));
      return out;
    },
    async read(relPath) {
      const chunks: Buffer[] = [];
      for await (const chunk of await store.get(`${prefix}${relPath}`)) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      return Buffer.concat(chunks);
    },
  };
}

/** `2024-03-05T10:00:00.000Z` → `20240305T100000Z`: sortable, no characters a path dislikes. */
export function compactTime(date: Date): string {
  const iso = date.toISOString();
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 19).replace(/[-:]/g, '')}${ms === '000' ? '' : `.${ms}`}Z`;
}

/** Page numbers have five digits so keys sort in page order. */
export const MAX_PAGES = 99_999;

/** `<folder>/page-00001.json`. */
export function pagePath(folder: string, page: number): string {
  return `${folder}/page-${String(page).padStart(5, '0')}.json`;
}
