/**
 * Azure Resource Manager over its REST API (fetch and a bearer token), for the few calls the snapshot provider
 * makes: the ARM SDK clients would add megabytes to each function bundle for them, and the raw response body is
 * what Amber keeps as evidence anyway.
 *
 * - Tokens: the credential's `https://management.azure.com/.default` token, asked again when it is near expiry
 *   or when ARM answers 401 for an expired or invalid token (once per request).
 * - Throttling and server errors (429, 500, 502, 503, 504, no answer): retried up to `maxAttempts`, waiting what
 *   `Retry-After` says (seconds or an HTTP date), else 1 s, 2 s, 4 s.
 * - Long-running operations (201/202 with `Azure-AsyncOperation` or `Location`): the operation is polled until
 *   `Succeeded`, `Failed` or `Canceled` (Retry-After between polls, else `pollIntervalMs`); the result is the
 *   resource's GET for a PUT, the `Location` answer for a POST
 *   (https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations).
 * - Failures throw ArmRequestError with the HTTP status and ARM's `error.code`, as arm.ts's helpers read them.
 */
import type { TokenCredential } from '@azure/core-auth';
import { retryAfterMs } from './azure-http.ts';

/** One answered ARM request: the final response of the call (for an LRO, the result's). */
export interface ArmResponse {
  readonly status: number;
  readonly bodyAsText: string;
  readonly request: { readonly method: string; readonly url: string };
}

/** An ARM call that failed: status and ARM's error code, read by armErrorInfo / isNotFound. */
export class ArmRequestError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ArmRequestError';
  }
}

export interface ArmRestOptions {
  readonly credential: TokenCredential;
  /** @default 'https://management.azure.com' */
  readonly endpoint?: string;
  /** Delay between LRO polls when ARM gives no Retry-After. @default 2000 */
  readonly pollIntervalMs?: number;
  /** Attempts per request for throttling and server errors. @default 4 */
  readonly maxAttempts?: number;
  /** Longest time an LRO is followed. @default 30 minutes */
  readonly maxPollMs?: number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

const SCOPE = 'https://management.azure.com/.default';
const RETRIED = new Set([429, 500, 502, 503, 504]);
const TERMINAL = /^(succeeded|failed|canceled|cancelled)$/i;

function errorIn(text: string): { code?: string; message?: string } {
  try {
    const doc = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const e = doc?.error;
    if (e && typeof e === 'object') return { ...(typeof e.code === 'string' ? { code: e.code } : {}), ...(typeof e.message === 'string' ? { message: e.message } : {}) };
  } catch {
    // not JSON
  }
  return {};
}

/** Sends ARM requests; see the top of this file. */
export class ArmRest {
  private token?: { value: string; expires: number };
  private readonly endpoint: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: ArmRestOptions) {
    this.endpoint = (options.endpoint ?? 'https://management.azure.com').replace(/\/+$/, '');
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** The absolute URL of an ARM path with its api-version and query. */
  url(path: string, apiVersion: string, query: Readonly<Record<string, string>> = {}): string {
    const u = new URL(`${this.endpoint}${path}`);
    u.searchParams.set('api-version', apiVersion);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return u.toString();
  }

  private async bearer(): Promise<string> {
    if (this.token && this.token.expires - Date.now() > 120_000) return this.token.value;
    const got = await this.options.credential.getToken(SCOPE);
    if (!got?.token) throw new ArmRequestError(`the credential gave no token for ${SCOPE}`, 401, 'NoToken');
    this.token = { value: got.token, expires: got.expiresOnTimestamp };
    return got.token;
  }

  /** One request, retried on throttling and server errors; 2xx answers returned (with their headers), others thrown. */
  async send(method: string, url: string, body?: unknown): Promise<ArmResponse & { headers: Headers }> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      // A credential that cannot sign in fails here, once, with its own message (no retry would change it).
      const token = await this.bearer();
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          signal: AbortSignal.timeout(120_000),
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          redirect: 'error', // a redirect would carry the bearer token to a host nobody named
        });
      } catch (cause) {
        if (attempt >= maxAttempts) throw new ArmRequestError(`${method} ${url}: no answer after ${attempt} attempts (${(cause as Error).message})`, undefined, undefined, { cause });
        await this.sleep(1000 * 2 ** (attempt - 1));
        continue;
      }
      const text = await res.text();
      if (res.ok) return { status: res.status, bodyAsText: text, headers: res.headers, request: { method, url } };
      if (res.status === 401 && !renewed && /InvalidAuthenticationToken|ExpiredAuthenticationToken|invalid_token/i.test(`${text} ${res.headers.get('www-authenticate') ?? ''}`)) {
        renewed = true;
        this.token = undefined;
        attempt -= 1; // a renewed token is not a retry of a throttled request
        continue;
      }
      if (RETRIED.has(res.status) && attempt < maxAttempts) {
        await this.sleep(retryAfterMs(res.headers.get('retry-after')) ?? 1000 * 2 ** (attempt - 1));
        continue;
      }
      const e = errorIn(text);
      throw new ArmRequestError(e.message ?? `HTTP ${res.status} from ${method} ${url}${text ? `: ${text.slice(0, 200)}` : ''}`, res.status, e.code);
    }
  }

  /** GET or POST without a long-running operation. */
  async call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<ArmResponse> {
    const { status, bodyAsText, request } = await this.send(method, url, body);
    return { status, bodyAsText, request };
  }

  /**
   * A PUT or POST that may be long-running, followed to its end. The result is the resource's GET (PUT) or the
   * `Location` answer (POST); a `Failed`/`Canceled` operation throws ArmRequestError with the operation's error.
   */
  async lro(method: 'PUT' | 'POST', url: string, body?: unknown): Promise<ArmResponse> {
    const first = await this.send(method, url, body);
    const asyncOp = first.headers.get('azure-asyncoperation');
    const location = first.headers.get('location');
    const done = (r: ArmResponse & { headers?: Headers }): ArmResponse => ({ status: r.status, bodyAsText: r.bodyAsText, request: r.request });
    if ((first.status !== 201 && first.status !== 202) || (!asyncOp && !location)) return done(first);
    const deadline = Date.now() + (this.options.maxPollMs ?? 30 * 60_000);
    let wait = retryAfterMs(first.headers.get('retry-after'));
    if (asyncOp) {
      for (;;) {
        await this.sleep(wait ?? this.options.pollIntervalMs ?? 2000);
        const op = await this.send('GET', asyncOp);
        let doc: { status?: unknown; error?: { code?: unknown; message?: unknown } };
        try {
          doc = JSON.parse(op.bodyAsText || '{}') as typeof doc;
        } catch (cause) {
          throw new ArmRequestError(`the operation status of ${method} ${url} is not JSON: ${op.bodyAsText.slice(0, 200)}`, op.status, 'InvalidOperationStatus', { cause });
        }
        const status = typeof doc.status === 'string' ? doc.status : '';
        if (TERMINAL.test(status)) {
          if (!/^succeeded$/i.test(status)) {
            const code = typeof doc.error?.code === 'string' ? doc.error.code : status;
            throw new ArmRequestError(typeof doc.error?.message === 'string' ? doc.error.message : `the operation of ${method} ${url} ended ${status}`, op.status, code);
          }
          break;
        }
        if (Date.now() > deadline) throw new ArmRequestError(`the operation of ${method} ${url} was still ${status || 'running'} when Amber stopped following it`, undefined, 'OperationTimedOut');
        wait = retryAfterMs(op.headers.get('retry-after'));
      }
      if (method === 'PUT') return done(await this.send('GET', url));
      return location ? done(await this.send('GET', location)) : done(first);
    }
    // Location only: 202 while running, the result (200/201/204) when done.
    for (;;) {
      await this.sleep(wait ?? this.options.pollIntervalMs ?? 2000);
      const r = await this.send('GET', location!);
      if (r.status !== 202) return method === 'PUT' ? done(await this.send('GET', url)) : done(r);
      if (Date.now() > deadline) throw new ArmRequestError(`the operation of ${method} ${url} was still running when Amber stopped following it`, undefined, 'OperationTimedOut');
      wait = retryAfterMs(r.headers.get('retry-after'));
    }
  }
}
