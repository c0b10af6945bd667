/**
 * The deployment's configuration: CDK context (`cdk.json`, or `-c key=value`) read once into a typed object.
 * Every problem is collected and reported in one message, each naming the key, the bad value and the fix.
 */

/** What the app needs from CDK context: `app.node.tryGetContext` or a plain object in tests. */
export type ContextReader = (key: string) => unknown;

/** The typed configuration both stacks are built from. */
export interface AmberConfig {
  /** Object Lock default retention (COMPLIANCE) of the evidence bucket, in days. */
  readonly retentionDays: number;
  /** Both stacks in one account (the member stack's collector role is trusted by the same account). */
  readonly singleAccount: boolean;
  /** Account of the evidence stack; undefined in single-account mode when the CLI's account is used. */
  readonly evidenceAccountId: string | undefined;
  /** Region of the evidence stack; undefined to use the CLI's region. */
  readonly evidenceRegion: string | undefined;
  /** Accounts the collector may act in (besides the evidence account in single-account mode). */
  readonly memberAccountIds: readonly string[];
  /** Bucket holding the CloudTrail logs (the organisation or account trail). */
  readonly trailBucket: string;
  /** Key prefix of the trail inside its bucket, without slashes at either end; empty for none. */
  readonly trailPrefix: string;
  /** Organisation id for an organisation trail (`AWSLogs/<org-id>/<account>/...`); undefined for an account trail. */
  readonly organizationId: string | undefined;
  /** KMS key of the trail bucket's objects, when they are SSE-KMS encrypted. */
  readonly trailKmsKeyArn: string | undefined;
  /** Regions the CloudTrail tables project; empty means every commercial region. */
  readonly regions: readonly string[];
  /** First day (`yyyy/MM/dd`) the CloudTrail tables project. */
  readonly projectionStartDate: string;
  /** GuardDuty findings at or above this severity start preservation. */
  readonly guardDutyMinSeverity: number;
  /** Publish scheduled-detection findings to Security Hub in ASFF. */
  readonly securityHubFindings: boolean;
  /** Create the Security Hub custom action "Preserve evidence" (needs Security Hub enabled in the account). */
  readonly securityHubCustomAction: boolean;
  /** Days after which evidence moves to S3 Glacier Instant Retrieval. */
  readonly coldStorageAfterDays: number;
  /** Athena's per-query bytes-scanned cutoff. */
  readonly athenaBytesScannedCutoff: number;
  /** External id the evidence account presents when assuming the collector role. */
  readonly collectorExternalId: string;
  /** Name of the collector role in every member account. */
  readonly collectorRoleName: string;
  /** Hours of logs preserved when a trigger does not give a window. */
  readonly defaultLogWindowHours: number;
  /** Retention of the functions' and state machines' log groups, in days (a CloudWatch Logs retention value). */
  readonly logRetentionDays: number;
  /** Detection threshold overrides, `detection-id.name` -> value (checked against the catalogue when the stack is built). */
  readonly detectionParameters: Readonly<Record<string, string>>;
  /**
   * Memory tools the instances fetch (s3:// URI) and run only with this SHA-256: AVML for Linux, WinPmem for
   * Windows. Unset: memory requests for that platform are recorded as `no-tool`.
   */
  readonly memoryTools: { readonly avml?: { readonly uri: string; readonly sha256: string }; readonly winpmem?: { readonly uri: string; readonly sha256: string } };
}

/** The defaults, as written in cdk.json. */
export const CONFIG_DEFAULTS = {
  'amber:retentionDays': 365,
  'amber:singleAccount': true,
  'amber:evidenceAccountId': '',
  'amber:evidenceRegion': '',
  'amber:memberAccountIds': [] as string[],
  'amber:trailBucket': 'aws-cloudtrail-logs-amber-example',
  'amber:trailPrefix': '',
  'amber:organizationId': '',
  'amber:trailKmsKeyArn': '',
  'amber:regions': [] as string[],
  'amber:projectionStartDate': '2024/01/01',
  'amber:guardDutyMinSeverity': 7,
  'amber:securityHubFindings': false,
  'amber:securityHubCustomAction': true,
  'amber:coldStorageAfterDays': 90,
  'amber:athenaBytesScannedCutoff': 10 * 1024 ** 3,
  'amber:collectorExternalId': 'amber-evidence-collector',
  'amber:collectorRoleName': 'amber-collector',
  'amber:defaultLogWindowHours': 24,
  'amber:logRetentionDays': 365,
  'amber:detectionParameters': {} as Record<string, string | number>,
  'amber:avmlUri': '',
  'amber:avmlSha256': '',
  'amber:winpmemUri': '',
  'amber:winpmemSha256': '',
} as const;

export type ConfigKey = keyof typeof CONFIG_DEFAULTS;

/** Raised when context values cannot be used; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`amber: the CDK context has ${problems.length} problem(s):\n  ${problems.join('\n  ')}\nSet the values in cdk.json or with -c key=value.`);
    this.name = 'ConfigError';
  }
}

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ORG = /^o-[a-z0-9]{10,32}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-f0-9-]+$/;
const DAY = /^\d{4}\/\d{2}\/\d{2}$/;

/**
 * Reads and validates the `amber:*` context keys. `-c key=value` gives strings, so numbers, booleans and lists
 * also parse from their text (`-c amber:memberAccountIds=111111111111,222222222222`).
 */
export function readConfig(context: ContextReader): AmberConfig {
  const problems: string[] = [];
  const raw = (key: ConfigKey): unknown => context(key) ?? CONFIG_DEFAULTS[key];
  const show = (v: unknown): string => JSON.stringify(v);

  const int = (key: ConfigKey, min: number, max: number, unit: string): number => {
    const v = raw(key);
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be a whole number of ${unit} from ${min} to ${max}, got ${show(v)}`);
      return min;
    }
    return n;
  };
  const num = (key: ConfigKey, min: number, max: number): number => {
    const v = raw(key);
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
      problems.push(`${key} must be a number from ${min} to ${max}, got ${show(v)}`);
      return min;
    }
    return n;
  };
  const bool = (key: ConfigKey): boolean => {
    const v = raw(key);
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    problems.push(`${key} must be true or false, got ${show(v)}`);
    return false;
  };
  const str = (key: ConfigKey, pattern: RegExp | undefined, want: string): string | undefined => {
    const v = raw(key);
    if (typeof v !== 'string') {
      problems.push(`${key} must be a string (${want}), got ${show(v)}`);
      return undefined;
    }
    const t = v.trim();
    if (t === '') return undefined;
    if (pattern && !pattern.test(t)) {
      problems.push(`${key} must be ${want}, got ${show(v)}`);
      return undefined;
    }
    return t;
  };
  const list = (key: ConfigKey, pattern: RegExp, want: string): string[] => {
    const v = raw(key);
    const items = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v;
    if (!Array.isArray(items) || !items.every((i) => typeof i === 'string')) {
      problems.push(`${key} must be a list of ${want}, got ${show(v)}`);
      return [];
    }
    const bad = items.filter((i) => !pattern.test(i));
    if (bad.length > 0) problems.push(`${key} must list ${want}; not valid: ${bad.map(show).join(', ')}`);
    return [...new Set(items.filter((i) => pattern.test(i)))];
  };

  const retentionDays = int('amber:retentionDays', 1, 36500, 'days');
  const singleAccount = bool('amber:singleAccount');
  const evidenceAccountId = str('amber:evidenceAccountId', ACCOUNT, 'a 12-digit account id');
  const evidenceRegion = str('amber:evidenceRegion', REGION, 'a region name such as eu-west-1');
  const memberAccountIds = list('amber:memberAccountIds', ACCOUNT, '12-digit account ids');
  const trailBucket = str('amber:trailBucket', BUCKET, 'an S3 bucket name');
  const trailPrefixRaw = str('amber:trailPrefix', /^[^/].*[^/]$|^[^/]$/, 'a key prefix without a leading or trailing "/"');
  const organizationId = str('amber:organizationId', ORG, 'an organisation id such as o-a1b2c3d4e5');
  const trailKmsKeyArn = str('amber:trailKmsKeyArn', KMS_KEY_ARN, 'a KMS key ARN');
  const regions = list('amber:regions', REGION, 'region names');
  const projectionStartDate = str('amber:projectionStartDate', DAY, 'a day as yyyy/MM/dd');
  const guardDutyMinSeverity = num('amber:guardDutyMinSeverity', 1, 8.9);
  const securityHubFindings = bool('amber:securityHubFindings');
  const securityHubCustomAction = bool('amber:securityHubCustomAction');
  const coldStorageAfterDays = int('amber:coldStorageAfterDays', 0, 36500, 'days');
  const athenaBytesScannedCutoff = int('amber:athenaBytesScannedCutoff', 10 * 1024 ** 2, Number.MAX_SAFE_INTEGER, 'bytes');
  const collectorExternalId = str('amber:collectorExternalId', EXTERNAL_ID, '2 to 1224 characters of letters, digits and +=,.@:/-');
  const collectorRoleName = str('amber:collectorRoleName', ROLE_NAME, 'an IAM role name');
  const defaultLogWindowHours = int('amber:defaultLogWindowHours', 1, 24 * 90, 'hours');
  const logRetentionDays = int('amber:logRetentionDays', 1, 3653, 'days');
  const detectionParameters = ((): Record<string, string> => {
    const v = raw('amber:detectionParameters');
    let o: unknown = v;
    if (typeof v === 'string') {
      try {
        o = v.trim() === '' ? {} : JSON.parse(v);
      } catch {
        o = undefined;
      }
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o) || !Object.values(o).every((x) => typeof x === 'string' || typeof x === 'number')) {
      problems.push(`amber:detectionParameters must map "detection-id.name" to a value, e.g. {"s3-large-download.min_bytes": 2147483648}, got ${show(v)}`);
      return {};
    }
    return Object.fromEntries(Object.entries(o as Record<string, string | number>).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, String(x)]));
  })();

  const S3_TOOL = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9!_.*()/-]+$/;
  const tool = (name: 'avml' | 'winpmem', label: string): { uri: string; sha256: string } | undefined => {
    const uri = str(`amber:${name}Uri`, S3_TOOL, 'an s3://bucket/key URI of the tool binary');
    const sha256 = str(`amber:${name}Sha256`, /^[0-9a-f]{64}$/, 'the tool\'s SHA-256 as 64 lowercase hex digits');
    if ((uri === undefined) !== (sha256 === undefined)) {
      problems.push(`amber:${name}Uri and amber:${name}Sha256 go together: ${label} runs only when pinned to the SHA-256 of the binary you vetted`);
      return undefined;
    }
    return uri && sha256 ? { uri, sha256 } : undefined;
  };
  const avml = tool('avml', 'AVML');
  const winpmem = tool('winpmem', 'WinPmem');

  // Conflicts between keys, reported with the single-key problems.
  if (!trailBucket) problems.push('amber:trailBucket is required: the bucket your CloudTrail trail writes to');
  if (!collectorExternalId) problems.push('amber:collectorExternalId is required: the external id the evidence account presents to the collector role');
  if (!collectorRoleName) problems.push('amber:collectorRoleName is required');
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    problems.push(`amber:logRetentionDays must be one of CloudWatch Logs' periods (${LOG_RETENTION_DAYS.join(', ')}), got ${show(raw('amber:logRetentionDays'))}`);
  }
  if (!singleAccount && !evidenceAccountId) {
    problems.push('amber:evidenceAccountId is required when amber:singleAccount is false: the member stacks trust it and forward events to it');
  }
  if (!singleAccount && memberAccountIds.length === 0 && !organizationId) {
    problems.push('amber:memberAccountIds (or amber:organizationId) is required when amber:singleAccount is false: the accounts the collector acts in');
  }
  if (singleAccount && memberAccountIds.length > 0) {
    problems.push(`amber:memberAccountIds lists ${memberAccountIds.join(', ')} but amber:singleAccount is true: set amber:singleAccount to false for a multi-account deployment, or empty the list`);
  }
  if (evidenceAccountId && memberAccountIds.includes(evidenceAccountId)) {
    problems.push(`amber:memberAccountIds must not list the evidence account ${evidenceAccountId}: it is always included`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    retentionDays,
    singleAccount,
    evidenceAccountId,
    evidenceRegion,
    memberAccountIds,
    trailBucket: trailBucket as string,
    trailPrefix: trailPrefixRaw ?? '',
    organizationId,
    trailKmsKeyArn,
    regions,
    projectionStartDate: projectionStartDate ?? CONFIG_DEFAULTS['amber:projectionStartDate'],
    guardDutyMinSeverity,
    securityHubFindings,
    securityHubCustomAction,
    coldStorageAfterDays,
    athenaBytesScannedCutoff,
    collectorExternalId: collectorExternalId as string,
    collectorRoleName: collectorRoleName as string,
    defaultLogWindowHours,
    logRetentionDays,
    detectionParameters,
    memoryTools: { ...(avml ? { avml } : {}), ...(winpmem ? { winpmem } : {}) },
  };
}
