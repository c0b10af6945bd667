/** Azure Function `preservation-event`: the Event Grid trigger of preservation (handlers/preservation.ts). */
import { app } from '@azure/functions';
import { eventGridHandler } from '../handlers/preservation.ts';
import { preservationRuntime } from '../runtime.ts';

const deps = preservationRuntime();

app.eventGrid('preservation-event', { handler: eventGridHandler(deps) });
