/**
 * The PreservationRequests port: how a preservation request reaches the cloud deployment (an EventBridge
 * custom event in AWS, put by `amber preserve`).
 */

/** The custom event's detail: what `amber preserve` asks for. */
export interface PreservationRequestDetail {
  readonly case: string;
  readonly instanceIds: readonly string[];
  readonly accountId: string;
  readonly region: string;
  /** Log window to preserve, ISO-8601 UTC; absent: no log preservation. */
  readonly window?: { readonly since: string; readonly until: string };
  readonly isolate: boolean;
  /** Idempotency: the same request id never starts the work twice, even if the event is delivered twice. */
  readonly requestId: string;
}

/** Submits preservation requests. */
export interface PreservationRequests {
  /** Submits one request; returns the id the transport gave it (an EventBridge event id). */
  submit(detail: PreservationRequestDetail): Promise<{ readonly eventId: string }>;
}
