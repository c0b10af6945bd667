/**
 * Google Cloud REST calls over `fetch`, authorised by google-auth-library: one small client shared by the Compute,
 * Workflows and BigQuery adapters. The Google client libraries (@google-cloud/compute alone is several megabytes of
 * generated gRPC code) would break a function's 1 MB bundle budget; the REST APIs these adapters call are few and
 * documented, so plain JSON over HTTPS is enough.
 *
 * Retries: 429 and 5xx (and network errors) are retried with jittered exponential backoff, as Google's client
 * libraries do; any other status becomes a CloudCallError naming the call, the resource and, for 403, the
 * permission Google says is missing.
 */
import { GoogleAuth } from 'google-auth-library';
import { CloudCallError } from '../../../shared/preservation/errors.ts';

/** Gives an OAuth 2 access token for the calls. */
export type AccessTokenProvider = () => Promise<string>;

/** The error body every Google REST API returns (google.rpc.Status in JSON). */
interface GoogleErrorBody {
  readonly error?: {
    readonly code?: number;
    readonly message?: string;
    readonly status?: string;
    readonly errors?: readonly { readonly reason?: string; readonly message?: string }[];
  };
}

/** A Google API call that failed, with its HTTP status and Google's status and reason. */
export class GoogleCallError extends CloudCallError {
  override readonly code: string = 'GOOGLE_CALL_FAILED';
  constructor(
    message: string,
    call: string,
    readonly httpStatus: number,
    readonly googleStatus: string | undefined,
    readonly reason: string | undefined,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, call, httpStatus === 429 || httpStatus >= 500, options);
  }
}

export interface GoogleRestOptions {
  /** @default access tokens of the function's own service account (Application Default Credentials) */
  readonly token?: AccessTokenProvider;
  /** Attempts per call, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Options of one call. */
export interface CallOptions {
  /** What the call is, for errors: `compute.instances.get`. */
  readonly call: string;
  /** The resource it is about, for errors: `projects/p/zones/z/instances/i`. */
  readonly resource: string;
  readonly method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly body?: unknown;
  /** Statuses returned to the caller instead of thrown (e.g. 404 for "not there yet", 409 for "already exists"). */
  readonly accept?: readonly number[];
}

/** A response the caller accepted. */
export interface RestResponse<T> {
  readonly status: number;
  readonly body: T;
}

/** Application Default Credentials with the cloud-platform scope. */
export function defaultAccessToken(): AccessTokenProvider {
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  return async () => {
    const token = await auth.getAccessToken();
    if (!token) throw new CloudCallError('Application Default Credentials gave no access token', 'auth.getAccessToken', true, { hint: 'run inside Google Cloud (the function\'s service account) or set GOOGLE_APPLICATION_CREDENTIALS' });
    return token;
  };
}

/**
 * Short-lived access tokens of another service account (the member project's collector), minted with the IAM
 * Credentials API (generateAccessToken) using `base`'s token: no key exists anywhere. A token is reused until five
 * minutes before it expires.
 */
export function impersonatedAccessToken(serviceAccount: string, base: AccessTokenProvider, options: Omit<GoogleRestOptions, 'token'> = {}): AccessTokenProvider {
  const rest = new GoogleRest({ ...options, token: base });
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (cached && cached.until > Date.now()) return cached.token;
    const resource = `projects/-/serviceAccounts/${serviceAccount}`;
    const got = await rest.call<{ accessToken?: string; expireTime?: string }>(`https://iamcredentials.googleapis.com/v1/${resource}:generateAccessToken`, {
      call: 'iamcredentials.serviceAccounts.generateAccessToken',
      resource,
      method: 'POST',
      body: { scope: ['https://www.googleapis.com/auth/cloud-platform'], lifetime: '900s' },
    });
    if (!got.body.accessToken) throw new CloudCallError(`generateAccessToken for ${serviceAccount} returned no token`, 'iamcredentials.generateAccessToken', true);
    cached = { token: got.body.accessToken, until: Date.parse(got.body.expireTime ?? '') - 300_000 || Date.now() + 600_000 };
    return cached.token;
  };
}

/** JSON over HTTPS to Google APIs, with retries and errors that name the call and the resource. */
export class GoogleRest {
  private readonly token: AccessTokenProvider;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: GoogleRestOptions = {}) {
    this.token = options.token ?? defaultAccessToken();
    this.maxAttempts = options.maxAttempts ?? 5;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Calls `url` and returns its JSON body; throws GoogleCallError once retries are spent. */
  async call<T>(url: string, options: CallOptions): Promise<RestResponse<T>> {
    let last: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: options.method ?? 'GET',
          headers: { authorization: `Bearer ${await this.token()}`, 'content-type': 'application/json' },
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        });
      } catch (error) {
        last = new GoogleCallError(`${options.call} on ${options.resource} could not reach Google: ${(error as Error).message}`, options.call, 503, undefined, undefined, { cause: error });
        await this.backoff(attempt);
        continue;
      }
      const text = await response.text();
      const body = text === '' ? {} : (safeJson(text) ?? { raw: text });
      if (response.ok || options.accept?.includes(response.status)) return { status: response.status, body: body as T };
      last = this.failure(options, response.status, body as GoogleErrorBody);
      if (!(last as GoogleCallError).retryable) throw last;
      await this.backoff(attempt);
    }
    throw last;
  }

  private async backoff(attempt: number): Promise<void> {
    if (attempt >= this.maxAttempts) return;
    await this.sleep(Math.min(32_000, 2 ** (attempt - 1) * 500) * (0.5 + Math.random() / 2));
  }

  private failure(options: CallOptions, status: number, body: GoogleErrorBody): GoogleCallError {
    const e = body.error ?? {};
    const reason = e.errors?.[0]?.reason;
    const said = e.message ?? `HTTP ${status}`;
    // Compute says "Required 'compute.instances.get' permission for ...", IAM-style APIs "Permission 'x.y.z' denied".
    const permission = /'([a-z]+\.[A-Za-z]+\.[A-Za-z.]+)' permission|[Pp]ermission '?([a-z]+\.[A-Za-z]+\.[A-Za-z.]+)'?/.exec(said)?.slice(1).find(Boolean);
    const hint =
      status === 403
        ? `grant the service account the permission${permission ? ` ${permission}` : ''} on ${options.resource} (infra/gcp assigns the roles each function needs)`
        : status === 404
          ? `check the name: ${options.resource} does not exist or the service account cannot see it`
          : status === 429 || status >= 500
            ? 'Google is throttling or unavailable; the step is safe to run again'
            : 'see the message Google returned';
    return new GoogleCallError(`${options.call} on ${options.resource} failed: ${status} ${e.status ?? ''} ${said}`.replace(/\s+/g, ' ').trim(), options.call, status, e.status, reason, { hint });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
