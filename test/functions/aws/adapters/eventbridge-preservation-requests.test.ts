import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgePreservationRequests } from '../../../../functions/aws/adapters/eventbridge-preservation-requests.ts';
import { CloudCallError } from '../../../../shared/preservation/errors.ts';

const ebMock = mockClient(EventBridgeClient);
afterEach(() => ebMock.reset());

const DETAIL = { case: 'INC-7', instanceIds: ['i-0123456789abcdef0'], accountId: '111122223333', region: 'eu-west-1', isolate: false, requestId: 'r1' };
const requests = () => new EventBridgePreservationRequests({ client: new EventBridgeClient({ region: 'eu-west-1' }), eventBusName: 'amber-bus' });

describe('Class: EventBridgePreservationRequests', () => {
  describe('Method: submit', () => {
    it('puts the amber / Preservation Requested event with the request as detail', async () => {
      // Prepare
      ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] });

      // Act
      const out = await requests().submit(DETAIL);

      // Assess
      expect(out).toEqual({ eventId: 'ev-1' });
      expect(ebMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries).toEqual([
        { Source: 'amber', DetailType: 'Preservation Requested', Detail: JSON.stringify(DETAIL), EventBusName: 'amber-bus' },
      ]);
    });

    it('throws naming EventBridge\'s reason when the entry is refused', async () => {
      // Prepare
      ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });

      // Act
      const submitting = requests().submit(DETAIL);

      // Assess
      await expect(submitting).rejects.toThrow(CloudCallError);
      await expect(submitting).rejects.toThrow(/refused the preservation request on bus amber-bus: AccessDeniedException: not authorized/);
    });
  });
});
