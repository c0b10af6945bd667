/** Azure Function `inventory`: `POST /api/inventory`, the estate inventory on demand into a case (function key). */
import { app } from '@azure/functions';
import { inventoryHttpHandler } from '../handlers/inventory.ts';
import { inventoryRuntime } from '../runtime.ts';

app.http('inventory', { methods: ['POST'], authLevel: 'function', route: 'inventory', handler: inventoryHttpHandler(inventoryRuntime()) });
