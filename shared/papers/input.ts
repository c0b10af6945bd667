/**
 * What the court papers are drawn from: the case's ledger, its sealed manifests, the verification Amber ran
 * before issuing them and the failure records beside the chain. Read here once; the renderers only format it.
 */
import { sha256Hex } from '../evidence/hashing.ts';
import { CustodyLedger, itemsOf } from '../evidence/ledger.ts';
import type { EvidenceItem, LedgerEntry } from '../evidence/model.ts';
import { verificationsPrefix } from '../evidence/names.ts';
import type { VerifyReport } from '../evidence/verify.ts';
import type { ObjectStore } from '../ports/object-store.ts';

/** A sealed manifest as the ledger names it. */
export interface ManifestRef {
  readonly key: string;
  readonly sha256: string;
  /** The `sealed` entry that names it. */
  readonly seq: number;
  readonly sealedAt: string;
  readonly items: number | undefined;
}

/** A write-once record of a failed verification (`_amber/verifications/`). */
export interface VerificationRecordRef {
  readonly key: string;
  /** SHA-256 of the record file as read. */
  readonly sha256: string;
  readonly checkedAt: string | undefined;
  readonly actor: string | undefined;
  readonly failures: ReadonlyArray<{ readonly kind: string; readonly reason: string; readonly where: string }>;
  /** Set when the record cannot be parsed (it is still listed). */
  readonly unreadable?: true;
}

/** Everything a certificate or custody report states. */
export interface PapersInput {
  readonly case: string;
  /** ISO-8601 UTC; metadata dates of the PDF are set from it. */
  readonly issuedAt: string;
  /** Who ran Amber to issue the paper (the ledger actor). */
  readonly issuedBy: string;
  /** `amber/<version>` that issued the paper. */
  readonly tool: string;
  /** The locker's URI. */
  readonly locker: string;
  readonly entries: readonly LedgerEntry[];
  readonly ledgerHead: { readonly seq: number; readonly sha256: string };
  /** The verification run just before issuing (read-only, nothing recorded by it). */
  readonly verification: VerifyReport;
  readonly verificationRecords: readonly VerificationRecordRef[];
}

/**
 * Reads what the papers state from a case: its ledger as it stands (or as the open `ledger` holds it: a writer
 * holding the case lock passes its own) and its verification records, with the verification the caller ran.
 */
export async function readPapersInput(
  store: ObjectStore,
  caseName: string,
  options: { readonly verification: VerifyReport; readonly issuedAt: string; readonly issuedBy: string; readonly tool: string; readonly ledger?: CustodyLedger },
): Promise<PapersInput> {
  const ledger = options.ledger ?? (await CustodyLedger.open(store, caseName));
  return {
    case: caseName,
    issuedAt: options.issuedAt,
    issuedBy: options.issuedBy,
    tool: options.tool,
    locker: store.uri,
    entries: ledger.entries,
    ledgerHead: ledger.head,
    verification: options.verification,
    verificationRecords: await readVerificationRecords(store, caseName),
  };
}

/** Sealed manifests, in ledger order. */
export function manifestsOf(entries: readonly LedgerEntry[]): ManifestRef[] {
  const out: ManifestRef[] = [];
  for (const e of entries) {
    const d = e.detail as { manifest?: unknown; sha256?: unknown; items?: unknown } | undefined;
    if (e.action !== 'sealed' || typeof d?.manifest !== 'string' || typeof d.sha256 !== 'string') continue;
    out.push({ key: d.manifest, sha256: d.sha256, seq: e.seq, sealedAt: e.at, items: typeof d.items === 'number' ? d.items : undefined });
  }
  return out;
}

/** The items of the case, by key (a stable order for the papers). */
export function itemsByKey(entries: readonly LedgerEntry[]): EvidenceItem[] {
  return [...itemsOf(entries).values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The ledger entry that first recorded each item (`acquired`, `copied` or `derived`), by item id. */
export function acquiringEntries(entries: readonly LedgerEntry[]): Map<string, LedgerEntry> {
  const out = new Map<string, LedgerEntry>();
  for (const e of entries) {
    if (e.action !== 'acquired' && e.action !== 'copied' && e.action !== 'derived') continue;
    for (const item of e.items ?? []) if (!out.has(item.id)) out.set(item.id, e);
  }
  return out;
}

/** Reads the failure records of a case's verifications, in key (time) order. */
export async function readVerificationRecords(store: ObjectStore, caseName: string): Promise<VerificationRecordRef[]> {
  const keys: string[] = [];
  for await (const obj of store.list(verificationsPrefix(caseName))) keys.push(obj.key);
  keys.sort();
  const out: VerificationRecordRef[] = [];
  for (const key of keys) {
    const text = (await store.readText(key)) ?? '';
    const sha256 = sha256Hex(text);
    try {
      const parsed = JSON.parse(text) as { checkedAt?: unknown; actor?: unknown; failures?: unknown };
      const failures = Array.isArray(parsed.failures) ? (parsed.failures as Array<Record<string, unknown>>) : [];
      out.push({
        key,
        sha256,
        checkedAt: typeof parsed.checkedAt === 'string' ? parsed.checkedAt : undefined,
        actor: typeof parsed.actor === 'string' ? parsed.actor : undefined,
        failures: failures.map((f) => ({
          kind: String(f.kind ?? 'unknown'),
          reason: String(f.reason ?? ''),
          where: typeof f.key === 'string' ? f.key : typeof f.seq === 'number' ? `entry ${f.seq}` : typeof f.line === 'number' ? `ledger line ${f.line}` : 'the case',
        })),
      });
    } catch {
      out.push({ key, sha256, checkedAt: undefined, actor: undefined, failures: [], unreadable: true });
    }
  }
  return out;
}

/** Where an item came from, as far as its origin says: provider, account, region, service, and how it was read. */
export interface OriginFacts {
  readonly provider: string;
  readonly account?: string;
  readonly region?: string;
  readonly service: string;
  /** How the bytes were produced (a file read, an S3 server-side copy, an API call with its parameters ...). */
  readonly manner: string;
}

const SOURCES: Readonly<Record<string, { provider: string; service: string; scope?: string }>> = {
  'aws-cloudtrail': { provider: 'Amazon Web Services', service: 'CloudTrail event history (LookupEvents)' },
  'azure-activity': { provider: 'Microsoft Azure', service: 'Azure Monitor activity log', scope: 'subscription' },
  'entra-signins': { provider: 'Microsoft Entra ID', service: 'Microsoft Graph sign-in logs', scope: 'tenant' },
  'entra-audits': { provider: 'Microsoft Entra ID', service: 'Microsoft Graph directory audit logs', scope: 'tenant' },
  'm365-audit': { provider: 'Microsoft 365', service: 'Office 365 Management Activity API', scope: 'tenant' },
  'gcp-logging': { provider: 'Google Cloud', service: 'Cloud Logging', scope: 'project' },
};

/** What an item's origin (and the key it is kept under) tells about the system that held it. */
export function originFacts(item: EvidenceItem, entry: LedgerEntry | undefined): OriginFacts {
  const origin = item.origin;
  const fromPath = pathFacts(`${origin} ${item.key}`);
  if (origin.startsWith('api:')) {
    const [name = '', query = ''] = origin.slice(4).split('?', 2);
    const params = new URLSearchParams(query);
    const listed = [...params.entries()].map(([k, v]) => `${k}=${v}`).join(', ');
    const known = SOURCES[name];
    const aws = /^[a-z0-9]+:[A-Z]\w+$/.test(name); // e.g. ec2:DescribeInstances
    const region = params.get('region') ?? params.get('Region') ?? fromPath.region;
    const scope = known?.scope ? (params.get(known.scope) ?? params.get(`${known.scope}Id`) ?? undefined) : undefined;
    const account = scope ?? params.get('account') ?? params.get('accountId') ?? fromPath.account;
    return {
      provider: known?.provider ?? (aws ? 'Amazon Web Services' : 'unknown (named by the API source)'),
      ...(account ? { account } : {}),
      ...(region ? { region } : {}),
      service: known?.service ?? (aws ? `${name.split(':')[0]!.toUpperCase()} API` : name),
      manner: `API call ${name}${listed ? ` with parameters ${listed}` : ' (no parameters recorded)'}; the response body was stored byte for byte as received and hashed (SHA-256) while stored`,
    };
  }
  if (origin.startsWith('s3://')) {
    const bucket = origin.slice(5).split('/', 1)[0]!;
    const copied = entry?.action === 'copied';
    return {
      provider: 'Amazon Web Services',
      ...(fromPath.account ? { account: fromPath.account } : {}),
      ...(fromPath.region ? { region: fromPath.region } : {}),
      service: `Amazon S3 (bucket ${bucket})${fromPath.service ? `, ${fromPath.service} log delivery` : ''}`,
      manner: copied
        ? 'S3 server-side copy (CopyObject) into the locker; Amber read the copy back and computed its SHA-256'
        : 'read from S3 (GetObject) and written to the locker; SHA-256 computed in the same pass',
    };
  }
  if (origin.startsWith('amber:derive')) {
    const params = new URLSearchParams(origin.split('?', 2)[1] ?? '');
    return {
      provider: 'Amber (derived copy)',
      service: `parser ${params.get('parser') ?? 'unknown'}`,
      manner: `derived by Amber from ${params.get('from') ?? item.derivedFrom ?? 'another item'}${entry?.detail?.fromSha256 ? ` (SHA-256 ${String(entry.detail.fromSha256)})` : ''}; the derived bytes were hashed as stored`,
    };
  }
  if (origin.startsWith('snapshot:') || origin.startsWith('ebs:') || /snapshot/i.test(origin.split('?', 1)[0]!)) {
    return { provider: fromPath.provider ?? 'Amazon Web Services', service: 'volume snapshot', manner: `snapshot (${origin}); recorded as acquired by ${entry?.action ?? 'an unknown step'}` };
  }
  if (origin.startsWith('file:') || origin.startsWith('/')) {
    return {
      provider: fromPath.provider ?? 'not stated (a file on the collecting machine)',
      ...(fromPath.account ? { account: fromPath.account } : {}),
      ...(fromPath.region ? { region: fromPath.region } : {}),
      service: fromPath.service ? `${fromPath.service} (as its export path names it)` : 'file system of the collecting machine',
      manner: 'collected from a file: read once and written to the locker, SHA-256 computed in the same pass',
    };
  }
  return { provider: fromPath.provider ?? 'not stated', service: fromPath.service ?? 'not stated', manner: `acquired from ${origin} (${entry?.action ?? 'no acquiring entry found'})` };
}

/** Account, region and service that a provider's own export path names (AWSLogs/<acct>/CloudTrail/<region>/...). */
function pathFacts(text: string): { provider?: string; account?: string; region?: string; service?: string } {
  const aws = /AWSLogs\/(?:o-[a-z0-9]+\/)?(\d{12})\/([A-Za-z0-9-]+)\/([a-z]{2}(?:-[a-z]+)+-\d)\//.exec(text);
  if (aws) return { provider: 'Amazon Web Services', account: aws[1]!, service: aws[2]!, region: aws[3]! };
  const api = /cloudtrail-api\/(\d{12})\/([a-z]{2}(?:-[a-z]+)+-\d)\//.exec(text);
  if (api) return { provider: 'Amazon Web Services', account: api[1]!, region: api[2]!, service: 'CloudTrail' };
  const sub = /subscriptions\/([0-9a-f-]{36})/i.exec(text);
  if (sub) return { provider: 'Microsoft Azure', account: `subscription ${sub[1]!}` };
  const project = /projects\/([a-z][a-z0-9-]{4,28}[a-z0-9])\//.exec(text);
  if (project) return { provider: 'Google Cloud', account: `project ${project[1]!}` };
  return {};
}

/** A volume snapshot a ledger entry names (the instance preservation steps record them in their detail). */
export interface SnapshotRef {
  readonly snapshotId: string;
  readonly volumeId: string | undefined;
  readonly accountId: string | undefined;
  readonly region: string | undefined;
  /** The entry that names it first, and its step. */
  readonly seq: number;
  readonly at: string;
  readonly step: string | undefined;
}

/**
 * Snapshots named anywhere in the entries' details (any object with a string `snapshotId`), first mention
 * of each, in ledger order. They live in the provider's account, not in the locker: nothing here hashes them.
 */
export function snapshotsOf(entries: readonly LedgerEntry[]): SnapshotRef[] {
  const seen = new Map<string, SnapshotRef>();
  const walk = (value: unknown, entry: LedgerEntry, depth: number): void => {
    if (depth > 6 || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const v of value) walk(v, entry, depth + 1);
      return;
    }
    const o = value as Record<string, unknown>;
    if (typeof o.snapshotId === 'string' && o.snapshotId !== '' && !seen.has(o.snapshotId)) {
      const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
      seen.set(o.snapshotId, { snapshotId: o.snapshotId, volumeId: str(o.volumeId), accountId: str(o.accountId), region: str(o.region), seq: entry.seq, at: entry.at, step: str(entry.detail?.step) });
    }
    for (const v of Object.values(o)) walk(v, entry, depth + 1);
  };
  for (const e of entries) walk(e.detail, e, 0);
  return [...seen.values()];
}
