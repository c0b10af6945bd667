/** The evidence model (ARCHITECTURE.md "Evidence model"): items, ledger entries, manifests. */

/** One preserved object. */
export interface EvidenceItem {
  readonly id: string;
  readonly case: string;
  /** Where it came from: `file:///abs/path`, `s3://bucket/key`, `api:...`. */
  readonly origin: string;
  /** Where it is kept in the locker: `cases/<case>/<relative path>`. */
  readonly key: string;
  readonly size: number;
  /** Lowercase hex SHA-256, computed while the bytes were stored. */
  readonly sha256: string;
  /** ISO-8601 UTC. */
  readonly acquiredAt: string;
  /** Principal that acquired it (`user@host`, an IAM ARN). */
  readonly acquiredBy: string;
  /** ISO-8601 UTC end of retention, or null when none applies. */
  readonly retainUntil: string | null;
  readonly mediaType: string;
  /** S3 version id of the preserved object. */
  readonly versionId?: string;
  /** Id of the item this one was derived from (e.g. a Parquet copy). */
  readonly derivedFrom?: string;
  /** Log source forced at collection (`--source`); absent: recognised by content when queried. */
  readonly source?: string;
}

/**
 * `recovered`: a later run finished an interrupted run's bookkeeping (anchored its entries, removed a torn
 * partial line, named a manifest it left); `accepted`: a person accepted named verification failures, with a reason;
 * `keyed`: the public key (algorithm, SPKI PEM, fingerprint) that signs every later seal and checkpoint of the
 * case. Amber versions before `keyed` existed read that line as invalid (exit 3): they fail closed on a signed
 * case rather than call it intact without checking its signatures. `noted`: a person's note on the case's custody
 * (`amber note`): a legal request (provider, portal, reference, date, data location, jurisdiction, status), a
 * transfer between people (from, to, reason), an access, or a remark; the custody report lists them. It names
 * no items and changes nothing verify checks; versions before it read the line as invalid and fail closed too.
 * `timestamped`: from this entry on every checkpoint and sealed manifest carries an RFC 3161 token from the TSA
 * it names (timestamps.ts); `anchored`: the ledger head (seq and hash) was written to a place outside the locker
 * (anchor.ts).
 */
export const LEDGER_ACTIONS = ['acquired', 'copied', 'verified', 'derived', 'exported', 'accessed', 'sealed', 'recovered', 'accepted', 'keyed', 'noted', 'timestamped', 'anchored'] as const;
export type LedgerAction = (typeof LEDGER_ACTIONS)[number];

/** One line of the custody ledger. `prev` is the SHA-256 of the previous line's exact text. */
export interface LedgerEntry {
  readonly seq: number;
  readonly prev: string;
  readonly at: string;
  readonly action: LedgerAction;
  readonly actor: string;
  readonly tool: string;
  readonly case: string;
  /** Items this entry is about (full records for `acquired`, `copied` and `derived`). */
  readonly items?: readonly EvidenceItem[];
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** A sealed manifest: every item of a case at one moment, as canonical JSON. */
export interface Manifest {
  readonly case: string;
  readonly sealedAt: string;
  readonly tool: string;
  /** Ledger head the manifest was sealed against. */
  readonly ledgerHead: { readonly seq: number; readonly sha256: string };
  readonly items: readonly EvidenceItem[];
  /** Sources that could not be acquired in the run that sealed it. */
  readonly failures: readonly { readonly origin: string; readonly reason: string }[];
}

/** Who and what is acting: recorded in every ledger entry. */
export interface Actor {
  readonly principal: string;
  readonly tool: string;
}
