/**
 * How a third party checks one signature of a bundle with standard tools, per signature algorithm. This is the
 * one place that knows: a new algorithm is one more case in
 * `signatureCheck`, and the README and the tests pick it up.
 */

/** One signature of a bundle and the command that checks it (undefined when no standard tool can). */
export interface SignatureCheckCommand {
  readonly algorithm: string;
  /** The signed file and the raw signature, as bundle paths. */
  readonly signed: string;
  readonly signature: string;
  /** A shell command run in the bundle folder; exit 0 when the signature is valid. */
  readonly command?: string;
  /** The signed statement (statement form: what a KMS key signs instead of the file), as a bundle path. */
  readonly statement?: string;
  /** What the command needs, or why there is none. */
  readonly note: string;
}

/**
 * The check of a signature made with `algorithm` (raw bytes in `signature`) over the exact bytes of `signed`,
 * or, in the statement form (shared/evidence/signatures.ts), over `statement`: a short text naming the signed
 * file and its SHA-256, which the command then compares with the file's own.
 */
export function signatureCheck(algorithm: string, signed: string, signature: string, statement?: string): SignatureCheckCommand {
  const base = { algorithm, signed, signature, ...(statement ? { statement } : {}) };
  switch (algorithm) {
    case 'ed25519':
      if (statement) {
        return {
          ...base,
          command:
            `openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in ${shellWord(statement)} -sigfile ${shellWord(signature)}` +
            ` && grep -qF '"sha256":"'"$(sha256sum < ${shellWord(signed)} | cut -c1-64)"'"' ${shellWord(statement)}`,
          note: 'Ed25519 over a seal statement (a KMS key signs at most 4096 bytes) that names the file\'s SHA-256; the grep checks the file still has it; needs OpenSSL 3.0 or newer (-rawin)',
        };
      }
      // Pure Ed25519 signs the message itself, not a digest: OpenSSL 3 needs -rawin for that (OpenSSL 1.1 cannot).
      return {
        ...base,
        command: `openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in ${shellWord(signed)} -sigfile ${shellWord(signature)}`,
        note: 'Ed25519 over the file\'s exact bytes; needs OpenSSL 3.0 or newer (-rawin); prints "Signature Verified Successfully"',
      };
    case 'es256':
      // ECDSA P-256 over SHA-256 with a DER signature: what `openssl dgst -verify` reads (Key Vault's raw r||s is converted before it is stored).
      if (statement) {
        return {
          ...base,
          command:
            `openssl dgst -sha256 -verify public-key.pem -signature ${shellWord(signature)} ${shellWord(statement)}` +
            ` && grep -qF '"sha256":"'"$(sha256sum < ${shellWord(signed)} | cut -c1-64)"'"' ${shellWord(statement)}`,
          note: 'ECDSA P-256 with SHA-256 (ES256, DER signature) over a seal statement that names the file\'s SHA-256; the grep checks the file still has it; prints "Verified OK"',
        };
      }
      return {
        ...base,
        command: `openssl dgst -sha256 -verify public-key.pem -signature ${shellWord(signature)} ${shellWord(signed)}`,
        note: 'ECDSA P-256 with SHA-256 (ES256, DER signature; an Azure Key Vault EC key) over the file\'s exact bytes; prints "Verified OK"',
      };
    default:
      return { ...base, note: `signature algorithm ${JSON.stringify(algorithm)} has no standard-tool check in this version of Amber: check it with \`amber verify\`` };
  }
}

/** A path as one shell word: as it is when plain, else single-quoted (bundle paths hold no control characters). */
export function shellWord(path: string): string {
  return /^[A-Za-z0-9._/-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
