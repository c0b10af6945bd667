/** Azure Function `preserve`: `POST /api/preserve`, what `amber preserve --cloud azure` calls (function key). */
import { app } from '@azure/functions';
import { preserveHttpHandler } from '../handlers/preservation.ts';
import { preservationRuntime } from '../runtime.ts';

const deps = preservationRuntime();

app.http('preserve', { methods: ['POST'], authLevel: 'function', route: 'preserve', handler: preserveHttpHandler(deps) });
