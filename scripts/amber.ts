/**
 * `amber`: the command line. Commands are declared once in the table below; each one parses its flags and
 * calls a use case of the core (shared/), the same code the cloud functions run.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ExitCode, isAmberError, UsageError } from '../shared/errors.ts';
import { processIo, t, type Io } from './cli/io.ts';
import { TOOL } from './cli/context.ts';
import { checkOutFolder, closest, explainParseError } from './cli/args.ts';
import { PRESERVE_USAGE } from './cli/preserve.ts';
import { ACCEPT_USAGE, RECOVER_USAGE } from './cli/accept-usage.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  /** Extra help lines (flag descriptions, examples). */
  readonly help: string;
  readonly positionals?: boolean;
  /** Help computed when asked for (loaded lazily, like `run`): e.g. the tables `amber query` can read. */
  readonly moreHelp?: () => Promise<string>;
  run(values: Values, positionals: string[], io: Io): Promise<number>;
}

type Run = Command['run'];

/**
 * A command's code, loaded when the command runs: `amber --help` and `amber cases` never load DuckDB (about
 * 0.4 s) or the AWS SDK, and in the bundle each command is its own chunk.
 */
function lazy<M>(load: () => Promise<M>, pick: (module: M) => Run): Run {
  return async (values, positionals, io) => pick(await load())(values, positionals, io);
}

const lockerOption = { locker: { type: 'string' } } as const;
const jsonOption = { json: { type: 'boolean' } } as const;
const signingOption = { 'signing-key': { type: 'string' }, 'tsa-url': { type: 'string' } } as const;
const TSA_HELP = `  --tsa-url URL     RFC 3161 timestamp authority that stamps every signed seal and checkpoint (default:
                    $AMBER_TSA_URL; needs --signing-key); required on a timestamped case`;
const SIGNING_HELP = `  --signing-key K   what signs seals and checkpoints: an Ed25519 key file (amber keys init), an AWS KMS
                    Ed25519 key as kms:<key id|ARN|alias/name>, or an Azure Key Vault EC P-256 key (ES256) as
                    akv:https://<vault>.vault.azure.net/keys/<name>[/<version>] (DefaultAzureCredential)
                    (default: $AMBER_SIGNING_KEY); required on a signed case
${TSA_HELP}`;

// A new command: `run: lazy(() => import('./cli/x.ts'), (m) => m.runX)`, so `amber --help` does not load it.
const COMMANDS: Record<string, Command> = {
  collect: {
    summary: 'preserve files, folders, S3 / Azure Blob / Cloud Storage prefixes, or logs from the AWS, Azure, Entra ID, Microsoft 365 and Google Cloud APIs into a case (hashed, write-once, recorded in the ledger)',
    usage: 'amber collect --case C --from PATH|s3://bucket/prefix|azblob://account/container/prefix|gs://bucket/prefix|api:SOURCE [--from ...] [PATH ...] [--since T --until T [--region R ...|--all-regions] [--insights]] [--tenant ID] [--subscription ID ...] [--user U ...] [--hub NAME] [--project P [--log L ...] [--filter EXPR]] [--all-versions] [--locker DIR|s3://bucket|azblob://account/container|gs://bucket] [--retain-days N] [--json]',
    options: {
      case: { type: 'string' },
      from: { type: 'string', multiple: true },
      'retain-days': { type: 'string' },
      source: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      region: { type: 'string', multiple: true },
      'all-regions': { type: 'boolean' },
      insights: { type: 'boolean' },
      'all-versions': { type: 'boolean' },
      tenant: { type: 'string' },
      subscription: { type: 'string', multiple: true },
      user: { type: 'string', multiple: true },
      hub: { type: 'string' },
      project: { type: 'string' },
      log: { type: 'string', multiple: true },
      filter: { type: 'string' },
      ...signingOption,
      ...lockerOption,
      ...jsonOption,
    },
    positionals: true,
    help: `  --case C          case name: letters, digits, ".", "_", "-" (e.g. INC-2026-001)
  --from SOURCE     a file, a folder (collected recursively), s3://bucket/prefix, azblob://account/container/prefix,
                    gs://bucket/prefix, or api:aws-cloudtrail
                    (CloudTrail event history via LookupEvents, every page kept as received); repeat or list several
  --since T --until T  api: sources only, required: the window, ISO-8601 with a zone; --until at least 15
                    minutes ago (an open window's pages change between runs), within the 90 days event history keeps
  --region R        api: sources: a region to read (repeat; default: AWS_REGION or the profile's region)
  --all-regions     api: sources: every region enabled for the account (ec2:DescribeRegions)
  --insights        api:aws-cloudtrail: Insights events instead of management events
  --locker L        evidence locker: a folder, s3://bucket, azblob://account/container[/prefix] or gs://bucket[/prefix]
                    (default: $AMBER_LOCKER, else ./evidence); azblob:// signs in with AZURE_STORAGE_CONNECTION_STRING,
                    else Entra ID; gs:// with $AMBER_GCP_TOKEN, else Application Default Credentials
  --all-versions    s3://, azblob:// and gs:// sources: every version. s3://: every object version and delete
                    marker (under aws/s3/<bucket>/versions/<id>/ and delete-markers/<id>/), the ListObjectVersions
                    pages and the bucket's configuration; azblob://: earlier blob versions under _versions/<id>/;
                    gs://: noncurrent generations under noncurrent/<generation>/
  --from api:azure-activity|entra-signins|entra-audits|entra-risk|m365-audit   Azure Activity Log, Entra ID
                    sign-ins / directory audits / risk, Microsoft 365 audit (24 h slices, last 7 days only);
                    api:azure-state (grants, apps, service principals, conditional access, MFA registration,
                    inbox rules, forwarding: a snapshot, no window); api:azure-iot-twins (device twins, no window).
                    Token: $AMBER_AZURE_TOKEN, else DefaultAzureCredential
  --tenant ID       Entra ID / Microsoft 365 sources: the tenant id (default: $AZURE_TENANT_ID)
  --subscription ID api:azure-activity: a subscription to read (repeat)
  --user U          api:azure-state: a mailbox (id or user principal name) to read (repeat; default: every user)
  --hub NAME        api:azure-iot-twins: the IoT hub (NAME.azure-devices.net)
  --from api:gcp-logging  Cloud Audit Logs via Cloud Logging entries.list (needs --project and the window)
  --project P       api:gcp-logging: the project to read
  --log L           api:gcp-logging: activity, data_access, system_event or policy (repeat; default all four)
  --filter EXPR     api:gcp-logging: a Logging query language expression ANDed to the window and log names
  --retain-days N   retention recorded for (and, in S3 with Object Lock, enforced on) each object (default 365)
  --source ID       the log format of every object collected in this run, when recognition by content
                    is not wanted: cloudtrail or a registered source id (an unknown id lists them)
  --signing-key K   sign the manifest and checkpoints with this Ed25519 key file (amber keys init), or with the
                    AWS KMS key kms:<key id|ARN|alias/name> (ECC_NIST_EDWARDS25519), or the Azure Key Vault EC
                    P-256 key akv:https://<vault>.vault.azure.net/keys/<name>[/<version>] (ES256, signed in with
                    DefaultAzureCredential; default: $AMBER_SIGNING_KEY).
                    The first signed run records the public key in the ledger; every later run on that case must
                    sign with the same key. Verifying needs only that public key: no key file, no KMS or Key Vault call
${TSA_HELP}
  --json            print a machine-readable summary only

Example:
  amber collect --case INC-1 --from ./exported-logs --from s3://trail-bucket/AWSLogs/111122223333/
  amber collect --case INC-1 --from api:aws-cloudtrail --since 2026-03-01T00:00:00Z --until 2026-03-02T00:00:00Z --all-regions
  amber collect --case INC-1 --from api:entra-signins --from api:m365-audit --tenant 00000000-0000-0000-0000-000000000000 --since 2026-03-01T00:00:00Z --until 2026-03-03T00:00:00Z`,
    run: lazy(() => import('./cli/collect.ts'), (m) => m.runCollect),
  },
  verify: {
    summary: 'recompute every hash and check the custody ledger; exit 0 intact, 3 on any integrity failure',
    usage: 'amber verify --case C [--public-key FILE] [--tsa-ca FILE] [--anchor FILE|s3://bucket/prefix] [--signing-key FILE|kms:KEY] [--locker DIR|s3://bucket] [--json]',
    options: { case: { type: 'string' }, 'public-key': { type: 'string' }, 'tsa-ca': { type: 'string' }, anchor: { type: 'string', multiple: true }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          the case to verify
  --public-key F    the public key the case must be signed with (amber keys init --public-out), kept outside
                    the locker: an unsigned case, or one keyed with another key, fails (exit 3)
  --signing-key K   the case's key file or kms:<key>, to record an intact result of a signed case (default:
                    $AMBER_SIGNING_KEY; without it a signed case is still checked, offline, and the result is not recorded)
  --tsa-ca F        the timestamp authority's root CA (PEM): every RFC 3161 token's TSA certificate must chain to it
                    (without it tokens are checked, and the report says their TSA was not checked against a root)
  --anchor A        an anchor file or s3://bucket/prefix that amber anchor wrote (repeatable): the case fails (exit 3)
                    when it is behind an anchor (rolled back) or beside it (rewritten), or an anchor does not verify
${TSA_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            print the full report as JSON (every item with its recorded and recomputed SHA-256)

Verify only reads to decide. An intact result is recorded in the ledger; a broken case's ledger is left as it
is and the failure goes to a write-once record under _amber/verifications/. A case found broken keeps failing
(exit 3) until a person runs amber accept. On a read-only or full locker the report and exit status stand and
stderr says the result was not recorded.

Example:
  amber verify --case INC-1 --locker s3://evidence-bucket`,
    run: lazy(() => import('./cli/verify.ts'), (m) => m.runVerify),
  },
  accept: {
    summary: 'record in the ledger that a person accepts the failures verify reports now, with a reason',
    usage: ACCEPT_USAGE,
    options: { case: { type: 'string' }, reason: { type: 'string' }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          the case whose current verification failures are accepted
  --reason TEXT     why they are acceptable (who established it, how); recorded in the accepted entry
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            print what was accepted as JSON

A case once found broken stays reported as broken (exit 3) until this is run. The accepted entry names each
failure exactly (kind, object or entry, and the verification record holding it); verify then lists them as
accepted, and any failure found later still fails.`,
    run: lazy(() => import('./cli/accept.ts'), (m) => m.runAccept),
  },
  recover: {
    summary: 'finish the bookkeeping of an interrupted amber run (what the next collect also does on its own)',
    usage: RECOVER_USAGE,
    options: { case: { type: 'string' }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          the case a killed or crashed run left unfinished
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            print the outcome as JSON

Anchors exactly the entries the interrupted run appended, removes a torn partial last line (its bytes and hash
go into the recovered entry) and names any manifest it left. Entries that no interrupted run accounts for are
refused with exit 3: see amber verify and amber accept.`,
    run: lazy(() => import('./cli/accept.ts'), (m) => m.runRecover),
  },
  cases: {
    summary: 'list the cases in a locker',
    usage: 'amber cases [--locker DIR|s3://bucket] [--json]',
    options: { ...lockerOption, ...jsonOption },
    help: `  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            machine-readable list

Example:
  amber cases --locker ./evidence`,
    run: lazy(() => import('./cli/cases.ts'), (m) => m.runCases),
  },
  detect: {
    summary: 'run the detection catalogue over a case; every finding cites the evidence object, record and SHA-256',
    usage: 'amber detect --case C [--locker DIR|s3://B] [--since T] [--until T] [--param ID.NAME=VALUE ...] [--suppress FILE] [--sigma DIR] [--out FILE.jsonl] [--json]',
    options: {
      case: { type: 'string' }, suppress: { type: 'string' }, sigma: { type: 'string' }, out: { type: 'string' },
      since: { type: 'string' }, until: { type: 'string' }, param: { type: 'string', multiple: true },
      ...signingOption, ...lockerOption, ...jsonOption,
    },
    help: `  --case C          the case to analyse (embedded engine; an s3:// locker is read through the local cache)
  --since T --until T  analyse only the events in [T, T) (ISO-8601 with a zone; either end may be left open):
                    the detections and analytics never see events outside, so no finding can come from them
  --param ID.NAME=V override a detection's parameter (a threshold), e.g. --param s3-large-download.min_bytes=2147483648;
                    repeatable; amber rules lists every parameter with its type and default
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --suppress FILE   YAML/JSON rules for known automation (user agent, principal, detection, each with a
                    reason): matching findings are listed apart as suppressed; the file's SHA-256 is recorded
  --sigma DIR       also compile and run the Sigma rules under DIR (e.g. a SigmaHQ checkout's rules/cloud);
                    their findings' detection is sigma:<rule id>
  --out FILE        also write every finding to FILE as JSON Lines (one finding per line, in the run's order);
                    its SHA-256 goes into the custody ledger (\`exported\`). The HTML report shows the top 50
                    per detection; this file and --json keep them all
${SIGNING_HELP}
  --json            {"case", "events", "chains": [...], "findings": [...]} plus detection errors and unparsed records
                    (streamed); chains: the findings per identity and per source address in ATT&CK tactic order

Example:
  amber detect --case INC-1 --suppress known-automation.yml --json > findings.json
  amber detect --case INC-1 --out INC-1-findings.jsonl`,
    run: lazy(() => import('./cli/detect.ts'), (m) => m.runDetect),
  },
  timeline: {
    summary: 'one normalised row per event (UTC), as CSV, JSON Lines or Timesketch JSONL',
    usage: 'amber timeline --case C --format csv|jsonl|timesketch [--identity ID] [--ip ADDR] [--actor TEXT] [--action NAME] [--since T] [--until T] [--out FILE] [--locker DIR|s3://B]',
    options: {
      case: { type: 'string' }, format: { type: 'string' }, identity: { type: 'string' }, out: { type: 'string' },
      ip: { type: 'string', multiple: true }, actor: { type: 'string', multiple: true }, action: { type: 'string', multiple: true }, since: { type: 'string' }, until: { type: 'string' },
      ...signingOption, ...lockerOption,
    },
    help: `  --case C          the case (embedded engine; an s3:// locker is read through the local cache)
  --format F        csv (default; safe against spreadsheet formula injection), jsonl, or timesketch
  --identity ID     only one identity's events, across every cloud: an e-mail address / UPN (matched in
                    AWS SSO and federated sessions, Entra, M365, GCP) or an actor as shown (an IAM ARN)
  --ip ADDR         only events from this source address (repeat: any of them)
  --actor TEXT      only events whose actor or identity contains TEXT, any case (repeat: any of them)
  --action NAME     only events of this action, e.g. GetObject (repeat: any of them)
  --since T         only events at or after T (ISO-8601 with a zone, e.g. 2026-03-01T14:00:00Z)
  --until T         only events before T; different flags combine (all must hold)
  --out FILE        write to FILE instead of standard output (its SHA-256 goes into the custody ledger)
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)

Example:
  amber timeline --case INC-1 --format timesketch --identity alice@corp.example --out alice.jsonl`,
    run: lazy(() => import('./cli/timeline.ts'), (m) => m.runTimeline),
  },
  report: {
    summary: 'verify, detect and write a self-contained HTML case report that opens offline',
    usage: 'amber report --case C [--out FILE] [--suppress FILE] [--locker DIR|s3://B]',
    options: { case: { type: 'string' }, out: { type: 'string' }, suppress: { type: 'string' }, ...signingOption, ...lockerOption },
    help: `  --case C          the case to report on (embedded engine; an s3:// locker is read through the local cache)
  --out FILE        the HTML file to write (default: ./amber-report-<case>.html)
  --suppress FILE   suppression rules as for detect: suppressed findings get their own section, with the reason
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)

Example:
  amber report --case INC-1 --out reports/INC-1.html`,
    run: lazy(() => import('./cli/report.ts'), (m) => m.runReport),
  },
  'validate-logs': {
    summary: 'CloudTrail log file integrity validation on the preserved copies (digest signatures, hashes, chain)',
    usage: 'amber validate-logs --case C --public-key FILE [--public-key FILE ...] [--locker DIR] [--json]',
    options: { case: { type: 'string' }, 'public-key': { type: 'string', multiple: true }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          the case holding the CloudTrail log and digest files
  --public-key F    the trail's public keys: the JSON of \`aws cloudtrail list-public-keys\`, or a PEM/DER key file
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            the full result as JSON
  exit 0 when every digest and log file is valid, 3 when anything was modified, deleted or added

Example:
  aws cloudtrail list-public-keys > keys.json && amber validate-logs --case INC-1 --public-key keys.json`,
    run: lazy(() => import('./cli/validate-logs.ts'), (m) => m.runValidateLogs),
  },
  export: {
    summary: 'hand a verified case over as a folder or zip a third party checks without Amber (sha256sum, openssl, sh)',
    usage: 'amber export --case C --out DIR|FILE.zip [--signing-key FILE] [--locker DIR|s3://bucket] [--json]',
    options: { case: { type: 'string' }, out: { type: 'string' }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          the case to export; it is verified first and a broken case is refused (exit 3)
  --out DIR|F.zip   a new or empty folder, or a new file ending in .zip (never inside the locker, never a
                    symbolic link, never replaced): the preserved objects under evidence/, the ledger, manifests,
                    checkpoints, signatures (also decoded to .sig), public-key.pem, SHA256SUMS, check-ledger.sh
                    and README.txt with the commands that check it all with standard tools
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            {"case", "out", "format", "sha256", "sha256Of", "files", "bytes", "objects", "renamed", "ledgerHead", "exportedIn"}

The bundle is cut at the ledger head the verification saw; the export is then recorded in the ledger
(exported: the zip's SHA-256, or a folder's SHA256SUMS's, with file count and bytes). Two exports of the same
head are byte-identical (zip timestamps are the head entry's time).

Example:
  amber export --case INC-1 --out INC-1-handover.zip --signing-key ~/.amber/INC-1.key`,
    run: lazy(() => import('./cli/handover.ts'), (m) => m.runExport),
  },
  certificate: {
    summary: 'the Section 63 certificate (Bharatiya Sakshya Adhiniyam, 2023) of a case, Parts A and B, as PDF or HTML; refused for a case verify finds broken',
    usage: 'amber certificate --case C [--out FILE.pdf|FILE.html] [--signing-key FILE] [--locker DIR|s3://bucket] [--json]',
    options: { case: { type: 'string' }, out: { type: 'string' }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          the case to certify
  --out FILE        FILE.pdf or FILE.html: the extension chooses the format (default: ./amber-certificate-<case>.pdf)
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            print what was issued (path, SHA-256, verification, ledger entry) as JSON

Verifies the case first (read-only) and refuses with exit 3 when it finds a failure no person accepted. The
certificate lists every record (key, size, SHA-256, media type, origin, acquired at/by, manner of production),
the systems that held them, what verify checked and what it could not, every sealed manifest's SHA-256, and
blank Part A (the party) and Part B (the expert) signature fields. Issuing it is recorded in the ledger
(exported, with its SHA-256). The same ledger gives the same bytes apart from the issued-at time.

Example:
  amber certificate --case INC-1 --out INC-1-certificate.pdf`,
    run: lazy(() => import('./cli/certificate.ts'), (m) => m.runCertificate),
  },
  custody: {
    summary: 'the chain-of-custody report of a case: every ledger entry, verification, export, access, transfer and legal request, as PDF or HTML',
    usage: 'amber custody --case C [--out FILE.pdf|FILE.html] [--signing-key FILE] [--locker DIR|s3://bucket] [--json]',
    options: { case: { type: 'string' }, out: { type: 'string' }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          the case to report on
  --out FILE        FILE.pdf or FILE.html: the extension chooses the format (default: ./amber-custody-<case>.pdf)
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            print what was issued (path, SHA-256, verification, ledger entry) as JSON

Every page carries "page N of M", the ledger head and the latest sealed manifest's SHA-256. The case is
verified first (read-only); a broken case still gets its report, with the failures, and exit 3. Issuing it
is recorded in the ledger (exported, with its SHA-256).

Example:
  amber custody --case INC-1 --out INC-1-custody.pdf`,
    run: lazy(() => import('./cli/custody.ts'), (m) => m.runCustody),
  },
  note: {
    summary: 'record a legal request, a transfer between people, an access or a remark in a case\'s custody ledger',
    usage: 'amber note --case C --kind legal-request|transfer|access|remark [fields] [--text T] [--signing-key FILE] [--locker DIR|s3://bucket] [--json]',
    options: {
      case: { type: 'string' },
      kind: { type: 'string' },
      provider: { type: 'string' },
      portal: { type: 'string' },
      reference: { type: 'string' },
      date: { type: 'string' },
      'data-location': { type: 'string' },
      jurisdiction: { type: 'string' },
      status: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      reason: { type: 'string' },
      text: { type: 'string' },
      ...signingOption,
      ...lockerOption,
      ...jsonOption,
    },
    help: `  --case C          the case the note is about
  --kind K          legal-request: a request to a provider (--provider, --reference and --date required;
                    --portal, --data-location, --jurisdiction, --status optional)
                    transfer: the evidence passed between people (--from, --to and --reason required;
                    --date when it happened, if not now)
                    access: who looked at the evidence and why (--text required; --date optional)
                    remark: anything else for the record (--text required)
  --date D          ISO-8601: 2026-03-01, or 2026-03-01T14:30:00+05:30
  --text T          free text (any kind; up to 4000 characters; other fields up to 300)
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            print the recorded entry as JSON

Control and direction-changing (bidi) characters are refused. The note becomes a chained ledger entry
(noted); amber custody lists it.

Example:
  amber note --case INC-1 --kind legal-request --provider "Example Cloud" --portal https://lers.example --reference LR-2026-17 --date 2026-03-02 --data-location ap-south-1 --jurisdiction IN --status submitted
  amber note --case INC-1 --kind transfer --from "A. Analyst" --to "B. Examiner" --reason "forensic examination"`,
    run: lazy(() => import('./cli/note.ts'), (m) => m.runNote),
  },
  preserve: {
    summary: 'ask a deployment (AWS, Azure or Google Cloud) to snapshot instances and copy a log window: the AWS event bus, or the Azure or GCP preserve function',
    usage: PRESERVE_USAGE,
    options: {
      instance: { type: 'string', multiple: true },
      case: { type: 'string' },
      isolate: { type: 'boolean' },
      account: { type: 'string' },
      region: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'event-bus': { type: 'string' },
      cloud: { type: 'string' },
      'function-url': { type: 'string' },
      'log-sink': { type: 'string' },
      ...jsonOption,
    },
    help: `  --cloud aws|azure|gcp  aws (default): the event bus; azure: POST the request to the Azure deployment's preserve
                    function; gcp: the preserveHttp function at $AMBER_GCP_PRESERVE_URL (--account is the project id,
                    --region the zone, --instance the instance name)
  --function-url U  azure: the function's URL (default: $AMBER_AZURE_FUNCTION_URL); key in $AMBER_AZURE_FUNCTION_KEY
  --instance ID     EC2 instance to preserve (i-0123456789abcdef0); with --cloud azure a VM resource id or <group>:<vm>;
                    with --cloud gcp the instance name; repeat for several
  --case C          case the evidence goes into
  --isolate         also quarantine the instance (security groups, termination protection, out of its Auto Scaling group)
  --account A       account of the instance (default: the account of the default credentials)
  --region R        region of the instance (default: AWS_REGION or the profile's region)
  --since T --until T  also copy the CloudTrail logs of this window (ISO-8601)
  --log-sink gs://B[/P]  gcp: also preserve this log sink's objects with the window (needs --since/--until)
  --event-bus NAME  bus the preservation rule listens on (default: default)
  --json            print the event id and request as JSON

Example:
  amber preserve --instance i-0123456789abcdef0 --case INC-7 --since 2026-03-01T00:00:00Z --until 2026-03-02T00:00:00Z`,
    run: lazy(() => import('./cli/preserve.ts'), (m) => m.runPreserve),
  },
  image: {
    summary: 'a raw disk image of an EBS snapshot through the EBS direct APIs (no forensic instance): every block checked, hashed, resumable',
    usage: 'amber image --case C --snapshot snap-... [--region R] [--chunk-mib N] [--locker DIR|s3://bucket] [--retain-days N] [--json]',
    options: { case: { type: 'string' }, snapshot: { type: 'string' }, region: { type: 'string' }, 'chunk-mib': { type: 'string' }, 'retain-days': { type: 'string' }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          case the image goes into
  --snapshot ID     the EBS snapshot (snap-...); needs ebs:ListSnapshotBlocks and ebs:GetSnapshotBlock on it
  --region R        region of the snapshot (default: AWS_REGION or the profile's region)
  --chunk-mib N     size of each stored chunk of the image in MiB (default 64); a resumed run must use the same
  --locker L        evidence locker: a folder or s3://bucket (default: $AMBER_LOCKER, else ./evidence)
  --retain-days N   retention recorded for (and, in S3 with Object Lock, enforced on) each chunk (default 365)
${SIGNING_HELP}
  --json            print the summary and the image record as JSON

The image is kept as chunks under aws/ebs/<snapshot>/chunks/ (000000.raw, ... each with a .sha256), and
aws/ebs/<snapshot>/image.json holds every chunk's SHA-256 and the whole image's. Run the same command again after
an interruption: stored chunks are re-hashed and kept, only the missing ones are read.

Example:
  amber image --case INC-1 --snapshot snap-0123456789abcdef0 --region eu-west-1 --locker s3://evidence-bucket`,
    run: lazy(() => import('./cli/image.ts'), (m) => m.runImage),
  },
  capture: {
    summary: 'volatile data (and with --memory a memory image) of a running instance through SSM Run Command, into an s3:// locker',
    usage: 'amber capture --case C --instance i-... [--platform linux|windows] [--memory (--avml s3://tools/avml --avml-sha256 HEX | --winpmem s3://tools/winpmem.exe --winpmem-sha256 HEX)] [--region R] --locker s3://bucket [--json]',
    options: { case: { type: 'string' }, instance: { type: 'string' }, platform: { type: 'string' }, memory: { type: 'boolean' }, avml: { type: 'string' }, 'avml-sha256': { type: 'string' }, winpmem: { type: 'string' }, 'winpmem-sha256': { type: 'string' }, region: { type: 'string' }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          case the output goes into
  --instance ID     a managed instance (SSM agent running, instance profile allowing Systems Manager)
  --platform P      linux (triage with sh) or windows (PowerShell); default linux
  --memory          also a memory image: AVML on Linux (streamed to S3), WinPmem on Windows (written to the
                    system drive, which needs room for all of memory, then uploaded with Write-S3Object)
  --avml URI        s3:// location of the AVML binary a Linux instance fetches
  --avml-sha256 H   the SHA-256 AVML must have; the instance refuses to run anything else
  --winpmem URI     s3:// location of the WinPmem executable a Windows instance fetches (AWS Tools for
                    PowerShell on the instance: AWS.Tools.S3 or AWSPowerShell)
  --winpmem-sha256 H  the SHA-256 WinPmem must have (Get-FileHash -Algorithm SHA256); checked on the instance
  --region R        region of the instance (default: AWS_REGION or the profile's region)
  --locker L        s3://bucket: SSM writes output there (amber-staging/ssm/), Amber stores it into the case
${SIGNING_HELP}
  --json            print every outcome and preserved item as JSON

Exit 0 when everything was captured, 1 when a step failed (the reason is in the ledger), 3 when a memory image
Amber stored does not have the SHA-256 the instance computed.

Example:
  amber capture --case INC-1 --instance i-0123456789abcdef0 --region eu-west-1 --locker s3://evidence-bucket`,
    run: lazy(() => import('./cli/capture.ts'), (m) => m.runCapture),
  },
  demo: {
    summary: 'a synthetic intrusion preserved, verified, detected and reported end to end (what `npm start` runs)',
    usage: 'amber demo [--locker DIR] [--out FILE] [--json]',
    options: { ...lockerOption, out: { type: 'string' }, ...jsonOption },
    help: `  --locker L        evidence locker for the demo case (default: ./evidence)
  --out FILE        the HTML report (default: ./amber-demo-report.html)
  --json            a machine-readable summary

Example:
  amber demo --locker /tmp/amber-demo --out /tmp/amber-demo-report.html`,
    run: lazy(() => import('./cli/demo.ts'), (m) => m.runDemo),
  },
  keys: {
    summary: 'create the Ed25519 key file that signs a case\'s seals and checkpoints (kept outside the locker)',
    usage: 'amber keys init --out FILE [--public-out FILE] [--json]',
    options: { out: { type: 'string' }, 'public-out': { type: 'string' }, ...jsonOption },
    positionals: true,
    help: `  init              create a new key pair
  --out FILE        the private key (PKCS#8 PEM, mode 0600); never inside a locker, never over an existing file
  --public-out FILE also write the public key (SPKI PEM), for whoever verifies (amber verify --public-key)
  --json            {"privateKey", "publicKey", "algorithm", "fingerprint"}

Example:
  amber keys init --out ~/.amber/INC-1.key --public-out INC-1.pub && amber collect --case INC-1 --signing-key ~/.amber/INC-1.key --from ./logs`,
    run: lazy(() => import('./cli/keys.ts'), (m) => m.runKeys),
  },
  anchor: {
    summary: 'write the case\'s signed ledger head outside the locker (a file you keep, or S3 with Object Lock), so a rollback or rewrite fails verify',
    usage: 'amber anchor --case C --to FILE|s3://bucket/prefix [--signing-key FILE] [--tsa-url URL] [--locker DIR|s3://bucket] [--json]',
    options: { case: { type: 'string' }, to: { type: 'string' }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          the case to anchor (verified first: a broken case is not anchored, exit 3)
  --to DEST         a local file outside the locker (one JSON line appended per anchor; never rewritten), or
                    s3://bucket/prefix (one write-once object per anchor, with Object Lock retention when the
                    bucket has it)
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            the anchor written, and where, as JSON

The anchor names the ledger head (entry, SHA-256 of its line, time) and is signed with the case's key (a case
without a key gets an unsigned anchor, and verify says so); with a TSA it carries an RFC 3161 token. The ledger
records it (anchored). Later: amber verify --case C --anchor DEST fails when the case was rolled back or rewritten.

Example:
  amber anchor --case INC-1 --to ~/INC-1.anchors.jsonl --signing-key ~/.amber/INC-1.key`,
    run: lazy(() => import('./cli/anchor.ts'), (m) => m.runAnchor),
  },
  inventory: {
    summary: 'document a cloud account\'s estate as evidence (every API answer preserved and hashed); export its normalised rows',
    usage: 'amber inventory --case C --cloud aws [--region R ...|--all-regions] [--resume] | --cloud azure --subscription S ... [--tenant T] | --cloud gcp --project P [--project P ...]|--organization O [--format json|csv [--out FILE]] [--locker DIR] [--json]',
    options: { case: { type: 'string' }, cloud: { type: 'string' }, region: { type: 'string', multiple: true }, 'all-regions': { type: 'boolean' }, resume: { type: 'boolean' }, subscription: { type: 'string', multiple: true }, tenant: { type: 'string' }, project: { type: 'string', multiple: true }, organization: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, 'retain-days': { type: 'string' }, ...signingOption, ...lockerOption, ...jsonOption },
    help: `  --case C          the case the inventory is preserved in
  --cloud aws|azure|gcp  the cloud to read
  aws: credentials and region from the SDK chain
  --region R        a region to read (repeat; default: AWS_REGION or the profile's region); IAM and S3 are read once
  --all-regions     every region enabled for the account (ec2:DescribeRegions)
  --resume          continue the account's latest inventory in the case that did not finish (killed, cut off):
                    same stamp and keys; answers already kept are read from the locker, not asked again
  azure: AMBER_AZURE_TOKEN, else DefaultAzureCredential (Resource Graph, ARM, Microsoft Graph)
  --subscription S  a subscription to read with Resource Graph and ARM (repeat), every location
  --tenant T        the Entra ID tenant read through Graph (default: $AZURE_TENANT_ID, else the
                    subscriptions' tenant as Resource Graph names it)
  gcp: Cloud Asset Inventory (assets.list, resources and IAM policies); credentials: AMBER_GCP_TOKEN, else
       Application Default Credentials; roles/cloudasset.viewer suffices; AMBER_GCP_ASSET_URL overrides the endpoint
  --project P       a project id to read (repeat for several)
  --organization O  an organization number: every project, folder and resource under it, in one inventory
  --format F        json or csv: write the case's normalised inventory rows (after taking it, when --cloud is given)
  --out FILE        with --format: write to FILE instead of standard output (its SHA-256 goes into the ledger)
  --retain-days N   retention recorded for each preserved answer (default 365)
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)
  --json            print a machine-readable summary (answers per service or query, problems per region,
                    subscription/tenant or query)

Exposure findings come from amber detect and amber report (the inventory-* detections).

Example:
  amber inventory --case INC-1 --cloud aws --all-regions
  amber inventory --case INC-1 --cloud azure --subscription 00000000-0000-0000-0000-000000000000
  amber inventory --case INC-1 --cloud gcp --project acme-prod-1 --project acme-data-2
  amber inventory --case INC-1 --format csv --out inventory.csv`,
    run: lazy(() => import('./cli/inventory.ts'), (m) => m.runInventory),
  },
  query: {
    summary: 'ask a case one read-only question in Athena SQL (SELECT or WITH only) over its verified tables; recorded in the ledger',
    usage: 'amber query --case C "SELECT ..." [--format table|csv|json] [--locker DIR|s3://B]',
    options: { case: { type: 'string' }, format: { type: 'string' }, ...signingOption, ...lockerOption },
    positionals: true,
    help: `  --case C          the case to query (embedded engine; an s3:// locker is read through the local cache); objects verified first
                    (exit 3 on any mismatch, before the query runs)
  --format F        table (default; cells cut at 60 characters), csv (safe against formula injection) or json
${SIGNING_HELP}
  --locker L        evidence locker (default: $AMBER_LOCKER, else ./evidence)

One statement, SELECT or WITH, in Athena (Trino) SQL through the compatibility layer. Anything else (COPY,
ATTACH, INSTALL, SET, PRAGMA, CREATE...) is refused, and the engine is locked before the query is prepared: no
file outside the case's verified tables (read_text, read_csv...), no extensions, no settings. The query's
SHA-256, its text, the row count and the output's SHA-256 are recorded in the ledger (accessed). Rows come in
the engine's order unless the query says ORDER BY: give one for output that is the same on every run.

Example:
  amber query --case INC-1 "SELECT eventname, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY n DESC, 1" --format csv
`,
    moreHelp: async () => (await import('./cli/query.ts')).queryTablesHelp(),
    run: lazy(() => import('./cli/query.ts'), (m) => m.runQuery),
  },
  rules: {
    summary: 'list every detection (the catalogue, and Sigma rules with --sigma) with its ATT&CK ids, and why a rule cannot run',
    usage: 'amber rules [--sigma DIR] [--json]',
    options: { sigma: { type: 'string' }, ...jsonOption },
    help: `  --sigma DIR       also list the Sigma rules under DIR: compiled (ok) or unsupported, with the exact reason
  --json            [{"id", "title", "origin": "catalogue"|"sigma", "logsource", "status": "ok"|"unsupported", "reason", "mitre"}]

Example:
  amber rules --sigma ./sigma/rules/cloud --json`,
    run: lazy(() => import('./cli/rules.ts'), (m) => m.runRules),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `${TOOL}: forensic evidence collector

Usage: amber <command> [options]

Commands:
${lines.join('\n')}

Run \`amber help <command>\` (or \`amber <command> --help\`) for a command's options and an example.
Exit status: 0 ok, 1 failure, 2 bad usage or input, 3 integrity failure.
`;
}

/** One command's help: usage, what it does, its options, an example. */
function commandHelp(command: Command): string {
  return `Usage: ${command.usage}\n\n${command.summary}\n\n${command.help}\n`;
}

/** The command `name` stands for, or a UsageError suggesting the nearest one (or listing them all). */
function findCommand(name: string): Command {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command) return command;
  const guess = closest(name, Object.keys(COMMANDS));
  throw new UsageError(`unknown command ${JSON.stringify(name)}`, {
    hint: guess ? `did you mean \`amber ${guess}\`? (amber help ${guess})` : `commands: ${Object.keys(COMMANDS).join(', ')} (amber --help)`,
  });
}

/** Runs the CLI and returns its exit status. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
      io.out(usage());
      return name === undefined ? ExitCode.usage : ExitCode.ok;
    }
    if (name === 'help') {
      const asked = findCommand(rest[0]!);
      io.out(`${commandHelp(asked)}${asked.moreHelp ? `\n${await asked.moreHelp()}\n` : ''}`);
      return ExitCode.ok;
    }
    if (name === '--version' || name === '-V') {
      io.out(`${TOOL}\n`);
      return ExitCode.ok;
    }
    if (name.startsWith('-')) {
      throw new UsageError(`${name} is not a command`, { hint: 'the command comes first: amber <command> [options] (amber --help lists the commands)' });
    }
    const command = findCommand(name);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(`${commandHelp(command)}${command.moreHelp ? `\n${await command.moreHelp()}\n` : ''}`);
      return ExitCode.ok;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: [...rest], options: command.options, allowPositionals: command.positionals ?? false, strict: true });
    } catch (error) {
      throw explainParseError(error, name, command.options as Record<string, { type: 'string' | 'boolean' }>, command.usage);
    }
    const out = parsed.values.out;
    if (typeof out === 'string') checkOutFolder(out, io.cwd);
    return await command.run(parsed.values as Values, parsed.positionals, withTsaFlag(parsed.values as Values, io));
  } catch (error) {
    return reportError(error, io);
  }
}

/**
 * --tsa-url stands in for AMBER_TSA_URL for the run (signerFrom reads the variable); it timestamps signed seals
 * only, so without a signing key it is a usage error rather than a flag that silently does nothing.
 */
function withTsaFlag(values: Values, io: Io): Io {
  const url = values['tsa-url'];
  if (typeof url !== 'string') return io;
  if (typeof values['signing-key'] !== 'string' && !io.env.AMBER_SIGNING_KEY) {
    throw new UsageError('--tsa-url timestamps signed seals and checkpoints, and no signing key was given', {
      hint: 'pass --signing-key FILE (or set AMBER_SIGNING_KEY) with --tsa-url; create a key with `amber keys init --out FILE`',
    });
  }
  return { ...io, env: { ...io.env, AMBER_TSA_URL: url } };
}

/** Prints an error with its fix and returns the exit status for it. */
export function reportError(error: unknown, io: Io): number {
  if (isAmberError(error)) {
    io.err(`amber: error: ${t(error.message)}\n`);
    if (error.hint) io.err(`  fix: ${t(error.hint)}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.err(`amber: unexpected error: ${t(message)}\n`);
  return ExitCode.failure;
}
