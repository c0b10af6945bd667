/**
 * A FindingsNotifier on Security Hub: BatchImportFindings in ASFF, 100 per call. Each finding's ASFF id is
 * derived from the finding itself (detection, evidence key and record, time, actor), and its times from the
 * run's window, so importing the same run again updates the same findings instead of adding copies.
 */
import { BatchImportFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import type { Finding } from '../../../shared/detections/run.ts';
import type { FindingsNotifier, FindingsReport, NotifyResult } from '../../../shared/ports/findings-notifier.ts';
import { partitionOf, sdkClientConfig, type AwsClientConfig } from './aws-client.ts';
import { toCloudCallError } from './aws-errors.ts';

const BATCH = 100;

export interface SecurityHubFindingsNotifierOptions {
  /** Account and region whose Security Hub receives the findings (the function's own). */
  readonly accountId: string;
  readonly region: string;
  /** The evidence bucket: findings' resources are `s3://<bucket>/<evidence key>`. */
  readonly evidenceBucket: string;
  /**
   * The Security Hub client.
   * @default new SecurityHubClient(sdkClientConfig({ ...clientConfig, region })), built only when none is given
   */
  readonly client?: SecurityHubClient;
  readonly clientConfig?: AwsClientConfig;
}

/** Imports findings into Security Hub as ASFF. */
export class SecurityHubFindingsNotifier implements FindingsNotifier {
  readonly name = 'securityhub';
  private readonly client: SecurityHubClient;

  constructor(private readonly options: SecurityHubFindingsNotifierOptions) {
    this.client = options.client ?? new SecurityHubClient(sdkClientConfig({ ...options.clientConfig, region: options.region }));
  }

  async notify(report: FindingsReport): Promise<NotifyResult> {
    const asff = report.findings.map((f) => toAsff(f, report, this.options));
    let sent = 0;
    const failed: { id: string; reason: string }[] = [];
    for (let i = 0; i < asff.length; i += BATCH) {
      let out;
      try {
        out = await this.client.send(new BatchImportFindingsCommand({ Findings: asff.slice(i, i + BATCH) }));
      } catch (err) {
        throw toCloudCallError(err, 'securityhub:BatchImportFindings', `account ${this.options.accountId}, region ${this.options.region}`);
      }
      sent += out.SuccessCount ?? 0;
      for (const f of out.FailedFindings ?? []) failed.push({ id: f.Id ?? '?', reason: `${f.ErrorCode ?? 'error'}: ${f.ErrorMessage ?? ''}` });
    }
    return { notifier: this.name, sent, failed };
  }
}

const LABEL = { critical: 'CRITICAL', high: 'HIGH', medium: 'MEDIUM', low: 'LOW', informational: 'INFORMATIONAL' } as const;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** One Amber finding in the AWS Security Finding Format. */
export function toAsff(f: Finding, report: FindingsReport, options: { accountId: string; region: string; evidenceBucket: string }): AwsSecurityFinding {
  const { accountId, region } = options;
  const identity = sha256Hex(`${f.detection}\n${f.evidence_key}\n${f.evidence_record}\n${f.event_time ?? ''}\n${f.actor ?? ''}\n${f.target ?? ''}`).slice(0, 32);
  const cut = (s: string | null, n: number): string => (s ?? '').slice(0, n);
  const observed = f.event_time && !Number.isNaN(Date.parse(f.event_time)) ? new Date(f.event_time).toISOString() : undefined;
  return {
    SchemaVersion: '2018-10-08',
    Id: `amber/${f.detection}/${identity}`,
    ProductArn: `arn:${partitionOf(region)}:securityhub:${region}:${accountId}:product/${accountId}/default`,
    GeneratorId: `amber/${f.detection}`,
    AwsAccountId: accountId,
    Types: ['TTPs'],
    CreatedAt: report.window.until,
    UpdatedAt: report.window.until,
    ...(observed ? { FirstObservedAt: observed, LastObservedAt: observed } : {}),
    Severity: { Label: LABEL[f.severity] },
    Title: cut(f.title, 256),
    Description: cut(`${f.action ?? '-'} by ${f.actor ?? '-'} on ${f.target ?? '-'}: ${f.detail ?? ''}`, 1024),
    ...(f.source_ip && IPV4.test(f.source_ip) ? { Network: { Direction: 'IN', SourceIpV4: f.source_ip } } : {}),
    Resources: [
      {
        Type: 'Other',
        Id: cut(`s3://${options.evidenceBucket}/${f.evidence_key}`, 512),
        Partition: partitionOf(region) as 'aws',
        Region: region,
        Details: { Other: { evidenceKey: cut(f.evidence_key, 1024), evidenceRecord: String(f.evidence_record), evidenceSha256: f.evidence_sha256 ?? 'unknown' } },
      },
    ],
    ProductFields: {
      'amber/Detection': f.detection,
      'amber/Mitre': f.mitre.join(','),
      'amber/RunId': report.runId,
      'amber/FindingsKey': report.findingsKey,
    },
    RecordState: 'ACTIVE',
    Workflow: { Status: 'NEW' },
  };
}
