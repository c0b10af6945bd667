/**
 * One HTTP exchange with an Azure API, as Amber needs it for evidence: the response body exactly as sent (bytes,
 * never re-serialised), with the documented throttling and token behaviour handled:
 * - 429 and 503 (and 500/502/504, network failures) are retried a bounded number of times, waiting what
 *   `Retry-After` asks (seconds or an HTTP date) when the API says, else 1 s, 2 s, 4 s...; a `Retry-After` longer
 *   than the cap is not waited out: the request is reported as not answered, naming the wait asked for;
 * - 401 with an expired or invalid token (`InvalidAuthenticationToken`, `ExpiredAuthenticationToken`,
 *   `WWW-Authenticate: ... error="invalid_token"`) asks the credential for a new token once and tries again.
 */
import { AcquisitionError } from '../../../shared/errors.ts';
import type { AzureApi, AzureTokens } from './azure-auth.ts';

/** One request to an Azure API. */
export interface AzureRequest {
  readonly api: AzureApi;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** JSON text sent as the body (POST). */
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A response Amber keeps: status 2xx (or a status the caller asked to keep), the body's bytes and the headers. */
export interface AzureResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
}

export interface AzureHttpOptions {
  readonly tokens: AzureTokens;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Attempts per request for throttling and server errors (the first one included).
   * @default 4
   */
  readonly maxAttempts?: number;
  /**
   * Longest `Retry-After` waited out, in seconds.
   * @default 300
   */
  readonly maxRetryAfterSeconds?: number;
  /**
   * Time allowed for one attempt, in milliseconds.
   * @default 120000
   */
  readonly timeoutMs?: number;
}

const RETRIED = new Set([429, 500, 502, 503, 504]);
const EXPIRED_CODES = /InvalidAuthenticationToken|ExpiredAuthenticationToken|AuthenticationFailed|invalid_token/i;

/** The `origin` form of a URL: query parameters that could carry a secret are dropped. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const name of [...u.searchParams.keys()]) {
      if (/^(sig|code|access_token|client_secret|key|token)$/i.test(name)) u.searchParams.set(name, 'REDACTED');
    }
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** Sends Azure API requests with bounded retries and one token refresh; see the top of this file. */
export class AzureHttp {
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: AzureHttpOptions) {
    this.fetchFn = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * Sends `request` until it is answered 2xx, or throws an AcquisitionError naming the request and the answer.
   * `keep` lists statuses that are answers in their own right (a 403 refusal preserved as evidence): they are
   * returned as they are, never retried.
   */
  async send(request: AzureRequest, origin: string, keep: readonly number[] = []): Promise<AzureResponse> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    const maxWait = (this.options.maxRetryAfterSeconds ?? 300) * 1000;
    let refreshed = false;
    let attempt = 0;
    const said: string[] = [];
    for (;;) {
      attempt += 1;
      const token = await this.options.tokens.token(request.api, false);
      let response: Response;
      try {
        response = await this.fetchFn(request.url, {
          method: request.method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
          ...(request.body === undefined ? {} : { body: request.body }),
          redirect: 'error', // a redirect would carry the bearer token to a host nobody named
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
        });
      } catch (cause) {
        // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a timeout) is in its cause.
        const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
        said.push(`attempt ${attempt}: no answer (${(cause as Error).message}${inner ? `: ${inner.code ?? inner.message ?? ''}` : ''})`);
        if (attempt >= maxAttempts) throw this.failure(request, origin, `no answer after ${attempt} attempts`, said, cause);
        await this.sleep(backoff(attempt));
        continue;
      }
      const bytes = Buffer.from(await response.arrayBuffer());
      if ((response.status >= 200 && response.status < 300) || keep.includes(response.status)) return { status: response.status, headers: response.headers, bytes };
      const error = errorOf(bytes);
      said.push(`attempt ${attempt}: HTTP ${response.status}${error ? ` ${error}` : ''}`);
      if (response.status === 401 && !refreshed && (EXPIRED_CODES.test(error) || EXPIRED_CODES.test(response.headers.get('www-authenticate') ?? ''))) {
        if (!this.options.tokens.refreshable) {
          throw this.failure(request, origin, `the token was refused (HTTP 401 ${error})`, said, undefined, `${this.options.tokens.describe} is a fixed token and has expired or is not for this API: set a fresh one, or unset it so DefaultAzureCredential can renew tokens itself; run the same command again (it resumes)`);
        }
        refreshed = true;
        attempt -= 1; // a renewed token is not a retry of a throttled request
        await this.options.tokens.token(request.api, true);
        continue;
      }
      if (!RETRIED.has(response.status)) {
        throw this.failure(request, origin, `HTTP ${response.status}${error ? ` ${error}` : ''}`, said, undefined, hintFor(response.status, error));
      }
      const wait = retryAfterMs(response.headers.get('retry-after'));
      if (wait !== undefined && wait > maxWait) {
        throw this.failure(request, origin, `HTTP ${response.status}: the API asked to wait ${Math.round(wait / 1000)} s (Retry-After), longer than the ${maxWait / 1000} s Amber waits`, said, undefined, 'run the same command again later: it resumes after the last preserved page');
      }
      if (attempt >= maxAttempts) {
        throw this.failure(request, origin, `still HTTP ${response.status} after ${attempt} attempts`, said, undefined, 'the API kept throttling or failing: run the same command again later (it resumes after the last preserved page)');
      }
      await this.sleep(wait ?? backoff(attempt));
    }
  }

  private failure(request: AzureRequest, origin: string, what: string, said: string[], cause?: unknown, hint = 'run the same command again: it resumes after the last preserved page'): AcquisitionError {
    return new AcquisitionError(`${request.method} ${publicUrl(request.url)}: ${what} (${said.join('; ')})`, origin, { hint, ...(cause === undefined ? {} : { cause }) });
  }
}

function backoff(attempt: number): number {
  return 1000 * 2 ** (attempt - 1);
}

/** Retry-After in milliseconds: delay-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** `code: message` of the documented error body `{"error":{"code","message"}}`, or the start of the body. */
function errorOf(bytes: Buffer): string {
  const textBody = bytes.toString('utf8');
  try {
    const doc = JSON.parse(textBody) as { error?: { code?: unknown; message?: unknown } };
    if (doc.error && typeof doc.error === 'object') return `${String(doc.error.code ?? '')}: ${String(doc.error.message ?? '')}`.slice(0, 300);
  } catch {
    // not JSON: quoted below
  }
  return textBody.slice(0, 200).replace(/\s+/g, ' ').trim();
}

function hintFor(status: number, error: string): string {
  if (status === 401) return 'the token was refused: check the tenant and that the credential is for this API; run the same command again';
  if (status === 403) return `the identity lacks a permission this API needs (${error.split(':')[0] || 'Forbidden'}): grant the application permission the README lists for this source, with admin consent, and run again (it resumes)`;
  if (status === 404) return 'check the tenant, subscription, hub or user named on the command line';
  return 'run the same command again: it resumes after the last preserved page';
}
