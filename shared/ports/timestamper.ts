/**
 * The `Timestamper` port: a trusted third party (an RFC 3161 timestamp authority) attests that a digest existed
 * at a time it states, in a token signed with its own key. A token over a seal shows the seal existed then, which
 * neither the case's key holder nor anyone with write access to the locker can backdate. Adapter: an RFC 3161
 * client over HTTP (shared/evidence/rfc3161.ts).
 */
import type { Signer } from './signer.ts';

/** A timestamp authority Amber asks for tokens. */
export interface Timestamper {
  /** Where tokens come from (the TSA's URL), recorded in the ledger. */
  readonly url: string;
  /**
   * Asks for a token over a SHA-256 digest (32 bytes) and checks the answer (granted, the same imprint, the
   * nonce sent, a CMS signature that verifies with the certificate it carries). Returns the token: DER of the
   * CMS ContentInfo (`openssl ts -reply -token_in` reads it). Throws TimestampAuthorityError otherwise.
   */
  timestamp(sha256: Uint8Array): Promise<Uint8Array>;
}

/** A signer whose signed files are also timestamped: the TSA travels with the key through every writer. */
export type TimestampingSigner = Signer & { readonly timestamper: Timestamper };

/** Attaches a timestamper to a signer (the same object, so every adapter of the Signer port keeps working). */
export function withTimestamper<S extends Signer>(signer: S, timestamper: Timestamper): S & TimestampingSigner {
  return Object.assign(signer, { timestamper });
}

/** The timestamper a signer carries, if any. */
export function timestamperOf(signer: Signer | undefined): Timestamper | undefined {
  return (signer as Partial<TimestampingSigner> | undefined)?.timestamper;
}
