/**
 * What the Google Cloud adapters share: an OAuth access token (AMBER_GCP_TOKEN as given, else Application Default
 * Credentials through google-auth-library, loaded only when needed), and one HTTP call with bounded retries of the
 * statuses Google documents as retryable (429 RESOURCE_EXHAUSTED, 500, 502, 503 UNAVAILABLE, 504) with exponential
 * backoff. Plain `fetch` rather than the Google Cloud client libraries: the adapters need the response bytes
 * exactly as sent (a Logging page is preserved byte for byte) and full control of the preconditions and upload
 * protocol (GCS write-once), which the client libraries re-serialise or hide.
 */
import { AcquisitionError } from '../../../shared/errors.ts';

/** Gives an access token for the Authorization header (fresh or cached by the provider). */
export type TokenProvider = () => Promise<string>;

/** Environment variables the adapters read, passed in by the entry point (never read from process.env here). */
export interface GcpEnv {
  readonly AMBER_GCP_TOKEN?: string;
  readonly [name: string]: string | undefined;
}

/**
 * The token provider for `scopes`: AMBER_GCP_TOKEN used as is (a token from `gcloud auth print-access-token`),
 * else Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default login`,
 * or the metadata server on Google Cloud). A failure names every way to provide credentials.
 */
export function gcpTokenProvider(env: GcpEnv, scopes: readonly string[], what: string): TokenProvider {
  const given = env.AMBER_GCP_TOKEN?.trim();
  if (given) return () => Promise.resolve(given);
  let client: Promise<{ getAccessToken(): Promise<{ token?: string | null }> }> | undefined;
  return async () => {
    try {
      client ??= import('google-auth-library').then((mod) => {
        // A CommonJS package: bundled, its exports sit on `default` rather than as named exports.
        const { GoogleAuth } = typeof mod.GoogleAuth === 'function' ? mod : mod.default;
        return new GoogleAuth({ scopes: [...scopes] }).getClient();
      });
      const { token } = await (await client).getAccessToken();
      if (!token) throw new Error('Application Default Credentials gave no access token');
      return token;
    } catch (cause) {
      client = undefined;
      throw new AcquisitionError(`no Google Cloud credentials for ${what}: ${(cause as Error).message}`, what, {
        hint: `run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or AMBER_GCP_TOKEN to an access token (gcloud auth print-access-token) with the scope ${scopes.join(' ')}`,
        cause,
      });
    }
  };
}

/** HTTP statuses Google's APIs document as retryable with exponential backoff. */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

export interface RetryPolicy {
  /**
   * Attempts in all, the first included.
   * @default 6
   */
  readonly attempts?: number;
  /**
   * First backoff; doubled each retry, plus up to 1 s of jitter, capped at 32 s (Google's documented scheme).
   * @default 1000
   */
  readonly baseMs?: number;
  /** Sleep (tests inject a virtual one). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Random source for the jitter. @default Math.random */
  readonly random?: () => number;
}

/** A response read whole: status, headers and the exact body bytes. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/** Thrown when a call failed with a non-retryable status, or a retryable one on every attempt. */
export class GcpHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Buffer,
    readonly attempts: number,
  ) {
    super(describeGoogleError(status, body));
    this.name = 'GcpHttpError';
  }

  /** `error.status` of Google's error body (RESOURCE_EXHAUSTED, PERMISSION_DENIED...), when there is one. */
  get googleStatus(): string | undefined {
    return googleErrorOf(this.body)?.status;
  }
}

/**
 * Sends one request, retrying the retryable statuses and network failures with backoff (each attempt first
 * waits for `beforeAttempt`, the pacing of the caller), and returns the response whole. Any other status is
 * thrown as GcpHttpError at once.
 */
export async function sendWithRetry(
  url: string,
  init: () => Promise<RequestInit>,
  policy: RetryPolicy = {},
  beforeAttempt?: () => Promise<void>,
): Promise<RawResponse> {
  const attempts = policy.attempts ?? 6;
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = policy.random ?? Math.random;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (attempt > 1) await sleep(Math.min(32_000, (policy.baseMs ?? 1000) * 2 ** (attempt - 2) + Math.floor(random() * 1000)));
    await beforeAttempt?.();
    let response: Response;
    try {
      response = await fetch(url, await init());
    } catch (err) {
      if (err instanceof AcquisitionError) throw err; // no credentials: retrying will not help
      last = err;
      continue;
    }
    const body = Buffer.from(await response.arrayBuffer());
    if (response.ok || (response.status >= 300 && response.status < 400)) return { status: response.status, headers: response.headers, body };
    last = new GcpHttpError(response.status, body, attempt);
    if (!RETRYABLE_STATUS.has(response.status)) throw last;
  }
  if (last instanceof GcpHttpError) throw new GcpHttpError(last.status, last.body, attempts);
  throw last;
}

/** Google's JSON error body `{"error":{"code","message","status"}}`, when the body is one. */
export function googleErrorOf(body: Buffer): { code?: number; message?: string; status?: string } | undefined {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { error?: { code?: number; message?: string; status?: string } };
    return typeof doc.error === 'object' && doc.error !== null ? doc.error : undefined;
  } catch {
    return undefined;
  }
}

/** `HTTP 403 PERMISSION_DENIED: message`, from Google's error body or the first bytes of another. */
export function describeGoogleError(status: number, body: Buffer): string {
  const e = googleErrorOf(body);
  const said = e?.message ?? body.toString('utf8').slice(0, 200).trim();
  return `HTTP ${status}${e?.status ? ` ${e.status}` : ''}${said ? `: ${said}` : ''}`;
}
