/**
 * Amber's error family. Every error carries a stable `code`, the exit status the CLI maps it to, and a
 * `hint` telling the user how to fix it. Subclasses are named after what failed.
 */

/** Exit statuses of the `amber` CLI (the contract users and tests rely on). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  integrity: 3,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

const BRAND = Symbol.for('amber.error');

export interface AmberErrorOptions {
  /** How to fix it, shown after the message. */
  hint?: string;
  cause?: unknown;
}

/** Base class of every error Amber raises on purpose. */
export class AmberError extends Error {
  readonly [BRAND] = true;
  readonly code: string = 'AMBER_ERROR';
  readonly exitCode: ExitCodeValue = ExitCode.failure;
  readonly hint: string | undefined;

  constructor(message: string, options: AmberErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Brand check that survives bundles holding two copies of the class. */
export function isAmberError(x: unknown): x is AmberError {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
}

/** Bad command line: unknown flag, missing argument. */
export class UsageError extends AmberError {
  override readonly code = 'USAGE';
  override readonly exitCode = ExitCode.usage;
}

/** Input the user gave that cannot be used: invalid case name, missing path, unknown case or locker. */
export class InvalidInputError extends AmberError {
  override readonly code = 'INVALID_INPUT';
  override readonly exitCode = ExitCode.usage;
}

/** A source object could not be read or stored. */
export class AcquisitionError extends AmberError {
  override readonly code = 'ACQUISITION_FAILED';
  constructor(
    message: string,
    readonly origin: string,
    options: AmberErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** A write would replace preserved bytes: the key already holds different content. */
export class WriteOnceViolationError extends AmberError {
  override readonly code = 'WRITE_ONCE_VIOLATION';
  override readonly exitCode = ExitCode.usage;
  constructor(
    readonly key: string,
    readonly existingSha256: string,
    readonly newSha256: string,
    options: AmberErrorOptions = {},
  ) {
    super(
      `refusing to overwrite preserved evidence ${key}: it holds sha256 ${existingSha256}, the new content is ${newSha256}`,
      { hint: 'preserved evidence is write-once; collect the new content into another case or under another path', ...options },
    );
  }
}

/** Preserved evidence or the custody ledger does not match what was recorded. */
export class IntegrityError extends AmberError {
  override readonly code = 'INTEGRITY';
  override readonly exitCode = ExitCode.integrity;
}

/** An object that should be in the store is not there. */
export class ObjectNotFoundError extends AmberError {
  override readonly code = 'OBJECT_NOT_FOUND';
  constructor(
    readonly key: string,
    options: AmberErrorOptions = {},
  ) {
    super(`object not found: ${key}`, options);
  }
}

/** A store or service failed (network, permissions, throttling that outlived retries). */
export class StoreError extends AmberError {
  override readonly code = 'STORE_FAILED';
}

/** Input in a format Amber cannot parse (it is still preserved and hashed). */
export class UnsupportedFormatError extends AmberError {
  override readonly code = 'UNSUPPORTED_FORMAT';
  override readonly exitCode = ExitCode.usage;
}

/** A record inside an evidence object could not be parsed; names the object and the record. */
export class ParseError extends AmberError {
  override readonly code = 'PARSE_FAILED';
  constructor(
    message: string,
    readonly file: string,
    readonly record: number | undefined,
    options: AmberErrorOptions = {},
  ) {
    super(`${file}${record === undefined ? '' : ` record ${record}`}: ${message}`, options);
  }
}

/** A capability that exists in the design but is not built yet; says so instead of pretending. */
export class NotImplementedError extends AmberError {
  override readonly code = 'NOT_IMPLEMENTED';
}

/**
 * A conditional write lost to another writer: the object (the custody ledger) changed between reading it and
 * writing it back. Nothing was written; re-read and try again.
 */
export class ConcurrentWriteError extends AmberError {
  override readonly code = 'CONCURRENT_WRITE';
  constructor(
    readonly key: string,
    options: AmberErrorOptions = {},
  ) {
    super(`another writer changed ${key} while Amber was appending to it; nothing was written`, {
      hint: 'run the step again: it re-reads the ledger and appends after the other writer\'s entries',
      ...options,
    });
  }
}

/** An object has no custody record (yet): nothing can be checked against it, so nothing is derived from it. */
export class NotRecordedError extends AmberError {
  override readonly code = 'NOT_RECORDED';
}
