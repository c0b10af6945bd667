/** Azure Function `defender-alert`: `POST /api/defender-alert`, called by a Defender for Cloud workflow automation's Logic App (function key). */
import { app } from '@azure/functions';
import { defenderAlertHttpHandler } from '../handlers/preservation.ts';
import { preservationRuntime } from '../runtime.ts';

const deps = preservationRuntime();

app.http('defender-alert', { methods: ['POST'], authLevel: 'function', route: 'defender-alert', handler: defenderAlertHttpHandler(deps) });
