/**
 * The PreservationRequests port on EventBridge: PutEvents of the custom event the preservation rule matches
 * (`source: amber`, `detail-type: Preservation Requested`). A refused entry is an error naming EventBridge's
 * reason, never a silent success.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { PreservationRequestDetail, PreservationRequests } from '../../../shared/ports/preservation-requests.ts';
import { CloudCallError } from '../../../shared/preservation/errors.ts';
import { sdkClientConfig, type AwsClientConfig } from './aws-client.ts';
import { toCloudCallError } from './aws-errors.ts';
import { PRESERVATION_EVENT } from '../handlers/contracts.ts';


export interface EventBridgePreservationRequestsOptions {
  /** @default 'default' */
  readonly eventBusName?: string;
  /**
   * The EventBridge client.
   * @default new EventBridgeClient(sdkClientConfig(clientConfig)), built only when none is given
   */
  readonly client?: EventBridgeClient;
  readonly clientConfig?: AwsClientConfig;
}

/** EventBridge as the channel for preservation requests. */
export class EventBridgePreservationRequests implements PreservationRequests {
  private readonly client: EventBridgeClient;
  private readonly bus: string;

  constructor(options: EventBridgePreservationRequestsOptions = {}) {
    this.client = options.client ?? new EventBridgeClient(sdkClientConfig(options.clientConfig));
    this.bus = options.eventBusName ?? 'default';
  }

  async submit(detail: PreservationRequestDetail): Promise<{ eventId: string }> {
    let out;
    try {
      out = await this.client.send(
        new PutEventsCommand({ Entries: [{ Source: PRESERVATION_EVENT.source, DetailType: PRESERVATION_EVENT.detailType, Detail: JSON.stringify(detail), EventBusName: this.bus }] }),
      );
    } catch (err) {
      throw toCloudCallError(err, 'events:PutEvents', `event bus ${this.bus}`);
    }
    const entry = out.Entries?.[0];
    if ((out.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
      const code = entry?.ErrorCode ?? 'unknown';
      throw new CloudCallError(`EventBridge refused the preservation request on bus ${this.bus}: ${code}: ${entry?.ErrorMessage ?? 'no reason given'}`, 'events:PutEvents', code === 'ThrottlingException' || code === 'InternalFailure', {
        hint: code === 'AccessDeniedException' ? `the credentials in use may not events:PutEvents on ${this.bus}` : 'run the command again (the request id makes a second delivery harmless)',
      });
    }
    return { eventId: entry.EventId };
  }
}
