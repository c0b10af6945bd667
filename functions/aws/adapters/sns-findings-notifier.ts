/**
 * A FindingsNotifier on SNS: one Publish per run with the plain-text summary (subject: counts only; body:
 * log-derived values with control characters made visible and cut, never markup).
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { FindingsNotifier, FindingsReport, NotifyResult } from '../../../shared/ports/findings-notifier.ts';
import { sdkClientConfig, type AwsClientConfig } from './aws-client.ts';
import { toCloudCallError } from './aws-errors.ts';

/** SNS accepts 256 KiB per message; stay well below, in bytes. */
const MAX_MESSAGE_BYTES = 200_000;

export interface SnsFindingsNotifierOptions {
  readonly topicArn: string;
  /**
   * The SNS client.
   * @default new SNSClient(sdkClientConfig(clientConfig)), built only when none is given
   */
  readonly client?: SNSClient;
  readonly clientConfig?: AwsClientConfig;
}

/** Publishes a run's summary to an SNS topic. */
export class SnsFindingsNotifier implements FindingsNotifier {
  readonly name = 'sns';
  private readonly client: SNSClient;

  constructor(private readonly options: SnsFindingsNotifierOptions) {
    this.client = options.client ?? new SNSClient(sdkClientConfig(options.clientConfig));
  }

  async notify(report: FindingsReport): Promise<NotifyResult> {
    let message = report.summary.text;
    while (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) message = `${message.slice(0, Math.floor(message.length * 0.9))}\n... (message cut; see the findings JSON)\n`;
    // Subjects are ASCII without line breaks, under 100 characters.
    const subject = report.summary.subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 99);
    try {
      await this.client.send(new PublishCommand({ TopicArn: this.options.topicArn, Subject: subject, Message: message }));
    } catch (err) {
      throw toCloudCallError(err, 'sns:Publish', this.options.topicArn);
    }
    return { notifier: this.name, sent: report.findings.length, failed: [] };
  }
}
