/** Azure Function `preservation-event`: the Event Grid trigger of preservation (handlers/preservation.ts). */
import { app } from '@azure/functions';
import { eventGridHandler } from '../handlers/preservation.ts';
import { azureRuntime } from '../runtime.ts';

const runtime = azureRuntime();

app.eventGrid('preservation-event', { handler: eventGridHandler(runtime.preservation) });
