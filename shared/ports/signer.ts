/**
 * The `Signer` port: signs Amber's own bookkeeping (sealed manifests, ledger checkpoints) so that a ledger
 * rewritten consistently by someone without the key no longer verifies. Adapters: an Ed25519 key file kept
 * outside the locker (shared/evidence/key-file-signer.ts), an AWS KMS Ed25519 key
 * (functions/aws/adapters/kms-signer.ts) and an Azure Key Vault EC P-256 key signing ES256
 * (functions/azure/adapters/key-vault-signer.ts).
 */
import type { SignatureAlgorithm } from '../evidence/signature-algorithms.ts';

export type { SignatureAlgorithm } from '../evidence/signature-algorithms.ts';

/** A private key that can sign; it never leaves the adapter. */
export interface Signer {
  readonly algorithm: SignatureAlgorithm;
  /** The public key as SPKI PEM: what the ledger records and what anyone verifies with. */
  readonly publicKeyPem: string;
  /** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo (`openssl pkey -pubin -outform DER | sha256sum`). */
  readonly fingerprint: string;
  /**
   * The longest message it signs, in bytes (AWS KMS: 4096); undefined: any length. A signer with a limit
   * always signs a short seal statement naming the file and its SHA-256 instead of the file itself, whatever
   * the file's size, so all of its signatures take one form (shared/evidence/signatures.ts).
   */
  readonly maxMessageBytes?: number;
  /** Where the private key is kept, recorded beside the public key (a KMS key ARN); never a secret or a local path. */
  readonly keyLocation?: string;
  /**
   * Signs the exact bytes given, returning the signature as Amber stores it (shared/evidence/signature-algorithms.ts):
   * Ed25519 (no pre-hash) as its raw 64 bytes; ES256 (ECDSA P-256 over the bytes' SHA-256) DER-encoded.
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
}
