/**
 * `POST /api/inventory`: the estate inventory on demand, into a case. The body names the case and the
 * subscriptions: `{"case": "INC-1", "subscriptions": ["<guid>", ...], "requestId"?: "..."}`. Answers 200 with
 * what was preserved (answers per API, problems per query), 207 when some queries were refused or not answered
 * (kept and recorded), 400 naming what is wrong with the body, 500 when the locker failed.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { isAmberError } from '../../../shared/errors.ts';
import { validateCaseName } from '../../../shared/evidence/names.ts';
import { preserveInventory, type PreserveInventoryDeps } from '../preserve-inventory.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_SUBSCRIPTIONS = 50;

/** The dependencies of the inventory function. */
export type InventoryDeps = Omit<PreserveInventoryDeps, 'clock'> & { readonly clock?: () => Date };

function bad(message: string, hint: string): HttpResponseInit {
  return { status: 400, jsonBody: { error: { code: 'INVALID_INPUT', message, hint } } };
}

/** The HTTP trigger's handler. */
export function inventoryHttpHandler(deps: () => Promise<InventoryDeps>): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request, context) => {
    let body: Record<string, unknown>;
    try {
      const value = JSON.parse(await request.text()) as unknown;
      body = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    } catch (error) {
      return bad(`the request body is not JSON: ${(error as Error).message}`, 'POST a JSON object with Content-Type: application/json');
    }
    const example = '{"case": "INC-1", "subscriptions": ["00000000-0000-0000-0000-000000000000"]}';
    let caseName: string;
    try {
      caseName = validateCaseName(String(body.case ?? ''));
    } catch (error) {
      return bad(`"case": ${(error as Error).message}`, `name the case, e.g. ${example}`);
    }
    const subscriptions = body.subscriptions;
    if (!Array.isArray(subscriptions) || subscriptions.length === 0 || subscriptions.length > MAX_SUBSCRIPTIONS || !subscriptions.every((s) => typeof s === 'string' && GUID.test(s))) {
      return bad(`"subscriptions" must list 1 to ${MAX_SUBSCRIPTIONS} subscription ids (GUIDs)`, `e.g. ${example}`);
    }
    const requestId = typeof body.requestId === 'string' && body.requestId !== '' && body.requestId.length <= 256 ? body.requestId : `inventory-${context.invocationId}`;
    try {
      const outcome = await preserveInventory(await deps(), { case: caseName, requestId, subscriptions: subscriptions as string[] });
      const line = JSON.stringify({ message: `inventory ${outcome.status}`, case: caseName, requestId, ...outcome });
      if (outcome.status === 'failed') context.error(line);
      else context.log(line);
      const status = outcome.status === 'failed' ? 500 : outcome.status === 'partial' ? 207 : 200;
      return { status, jsonBody: { case: caseName, requestId, ...outcome } };
    } catch (error) {
      const amber = isAmberError(error) ? error : undefined;
      context.error(JSON.stringify({ message: 'inventory failed', error: (error as Error).message }));
      return { status: 500, jsonBody: { error: { code: amber?.code ?? 'UNEXPECTED', message: (error as Error).message, ...(amber?.hint ? { hint: amber.hint } : {}) } } };
    }
  };
}
