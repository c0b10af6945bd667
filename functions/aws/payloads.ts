/**
 * Checks of the Step Functions payloads the handlers receive (contracts.ts): a payload the state machine got
 * wrong fails at once with the field, the bad value and the fix, instead of as an SDK error three calls later.
 */
import { InvalidInputError } from '../../shared/errors.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { ACCOUNT_ID, INSTANCE_ID, REGION } from './triggers.ts';
import { INVENTORY_EVENT, type CopyBatchInput, type CustodyInput, type ImageTaskInput, type InstanceTaskInput, type InventoryRequestInput, type LogTaskInput, type SnapshotSet } from './handlers/contracts.ts';

type Problems = string[];

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`the ${what} payload must be a JSON object, got ${JSON.stringify(value)?.slice(0, 100)}`, { hint: 'pass the state as the Lambda payload (Payload.$: "$")' });
  }
  return value as Record<string, unknown>;
}

function fail(what: string, problems: Problems): void {
  if (problems.length > 0) {
    throw new InvalidInputError(`invalid ${what} payload: ${problems.join('; ')}`, { hint: 'see functions/aws/handlers/contracts.ts for the fields each task takes' });
  }
}

function caseProblem(value: unknown, problems: Problems): void {
  try {
    validateCaseName(String(value ?? ''));
  } catch (error) {
    problems.push((error as Error).message);
  }
}

function pattern(value: unknown, re: RegExp, field: string, problems: Problems): void {
  if (typeof value !== 'string' || !re.test(value)) problems.push(`${field} ${JSON.stringify(value)} is not valid`);
}

function requestIdProblem(value: unknown, problems: Problems): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) problems.push(`requestId must be 1-256 characters, got ${JSON.stringify(value)}`);
}

/** An instance task (and any later payload of the instance state machine, which extends it). */
export function instanceTask<T extends InstanceTaskInput>(event: unknown, what: string): T {
  const e = object(event, what);
  const problems: Problems = [];
  caseProblem(e.case, problems);
  pattern(e.accountId, ACCOUNT_ID, 'accountId', problems);
  pattern(e.region, REGION, 'region', problems);
  pattern(e.instanceId, INSTANCE_ID, 'instanceId', problems);
  requestIdProblem(e.requestId, problems);
  if (typeof e.isolate !== 'boolean') problems.push(`isolate must be true or false, got ${JSON.stringify(e.isolate)}`);
  fail(what, problems);
  return e as unknown as T;
}

/** A snapshot set (create-snapshots / copy-snapshots output). */
export function snapshotSet(event: unknown, what: string): SnapshotSet {
  const e = instanceTask<SnapshotSet>(event, what);
  const problems: Problems = [];
  if (!Array.isArray(e.snapshots)) problems.push('snapshots must be a list');
  else {
    e.snapshots.forEach((s, i) => {
      if (typeof s?.snapshotId !== 'string' || !/^snap-[0-9a-f]+$/.test(s.snapshotId)) problems.push(`snapshots[${i}].snapshotId ${JSON.stringify(s?.snapshotId)} is not a snapshot id`);
      pattern(s?.accountId, ACCOUNT_ID, `snapshots[${i}].accountId`, problems);
      if (s?.region !== undefined) pattern(s.region, REGION, `snapshots[${i}].region`, problems);
    });
  }
  if (e.stage !== 'source' && e.stage !== 'evidence') problems.push(`stage must be "source" or "evidence", got ${JSON.stringify(e.stage)}`);
  fail(what, problems);
  return e;
}

/** A log task. */
export function logTask(event: unknown, what: string): LogTaskInput {
  const e = object(event, what);
  const problems: Problems = [];
  caseProblem(e.case, problems);
  requestIdProblem(e.requestId, problems);
  if (!Array.isArray(e.accounts) || e.accounts.length === 0) problems.push('accounts must list at least one account id');
  else e.accounts.forEach((a, i) => pattern(a, ACCOUNT_ID, `accounts[${i}]`, problems));
  if (!Array.isArray(e.regions) || e.regions.length === 0) problems.push('regions must list at least one region');
  else e.regions.forEach((r, i) => pattern(r, REGION, `regions[${i}]`, problems));
  fail(what, problems);
  return e as unknown as LogTaskInput;
}

const SNAPSHOT_ID = /^snap-[0-9a-f]{8,17}$/;

/** A disk-image task (and image-chunk's input, which extends it). */
export function imageTask<T extends ImageTaskInput>(event: unknown, what: string): T {
  const e = object(event, what);
  const problems: Problems = [];
  caseProblem(e.case, problems);
  requestIdProblem(e.requestId, problems);
  pattern(e.snapshotId, SNAPSHOT_ID, 'snapshotId', problems);
  pattern(e.accountId, ACCOUNT_ID, 'accountId', problems);
  pattern(e.region, REGION, 'region', problems);
  if (e.chunkMib !== undefined && (typeof e.chunkMib !== 'number' || !Number.isInteger(e.chunkMib * 2) || e.chunkMib < 0.5 || e.chunkMib > 4096)) {
    problems.push(`chunkMib must be a multiple of 0.5 from 0.5 to 4096, got ${JSON.stringify(e.chunkMib)}`);
  }
  fail(what, problems);
  return e as unknown as T;
}

/** A Distributed Map batch. */
export function copyBatch(event: unknown, what: string): CopyBatchInput {
  const e = object(event, what);
  const problems: Problems = [];
  const batch = (e.BatchInput ?? {}) as Record<string, unknown>;
  caseProblem(batch.case, problems);
  requestIdProblem(batch.requestId, problems);
  if (!Array.isArray(e.Items)) problems.push('Items must be a list (use an ItemBatcher with BatchInput {case, requestId})');
  else e.Items.forEach((r: { bucket?: unknown; key?: unknown }, i) => {
    if (typeof r?.bucket !== 'string' || typeof r?.key !== 'string') problems.push(`Items[${i}] must be {bucket, key}, got ${JSON.stringify(r)?.slice(0, 100)}`);
  });
  fail(what, problems);
  return e as unknown as CopyBatchInput;
}

/** A custody record request. */
export function custodyInput(event: unknown, what: string): CustodyInput {
  const e = object(event, what);
  const problems: Problems = [];
  caseProblem(e.case, problems);
  requestIdProblem(e.requestId, problems);
  if (typeof e.step !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(e.step)) problems.push(`step must be a short kebab-case name such as "capture-instance", got ${JSON.stringify(e.step)}`);
  const rw = e.resultWriterDetails as { Bucket?: unknown; Key?: unknown } | undefined;
  if (rw !== undefined && (typeof rw?.Bucket !== 'string' || typeof rw.Key !== 'string')) problems.push('resultWriterDetails must be the Map state\'s {Bucket, Key}');
  if (e.items !== undefined && !Array.isArray(e.items)) problems.push('items must be a list of evidence items');
  const io = e.itemsObject as { key?: unknown } | undefined;
  if (io !== undefined && (typeof io !== 'object' || io === null || typeof io.key !== 'string')) problems.push('itemsObject must be {key} as take-inventory returns it');
  if (e.failures !== undefined && !Array.isArray(e.failures)) problems.push('failures must be a list of {origin, reason}');
  if (e.detail !== undefined && (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail))) problems.push('detail must be an object');
  if (e.seal !== undefined && typeof e.seal !== 'boolean') problems.push('seal must be true or false');
  fail(what, problems);
  return e as unknown as CustodyInput;
}

/**
 * A take-inventory request from any of its three shapes (contracts.ts InventoryRequestInput): direct, the
 * instance-preservation state, or the `Inventory Requested` EventBridge event. Returns the normalised request.
 */
export function inventoryRequest(event: unknown, what: string): InventoryRequestInput & { readonly regions: readonly string[] } {
  let e = object(event, what);
  let defaults: { requestId?: string; observedAt?: string } = {};
  // From a state machine: `{ input: <state>, executionStartTime }`, the start time naming the inventory (so a
  // retried task resumes the same one).
  if (typeof e.executionStartTime === 'string' && typeof e.input === 'object' && e.input !== null) {
    defaults = { observedAt: e.executionStartTime };
    e = object(e.input, what);
  }
  if (e.source === INVENTORY_EVENT.source && e['detail-type'] === INVENTORY_EVENT.detailType) {
    defaults = { ...defaults, ...(typeof e.id === 'string' ? { requestId: e.id } : {}), ...(typeof e.time === 'string' ? { observedAt: e.time } : {}) };
    e = object(e.detail, `${what} event detail`);
  }
  const problems: Problems = [];
  caseProblem(e.case, problems);
  pattern(e.accountId, ACCOUNT_ID, 'accountId', problems);
  const requestId = e.requestId ?? defaults.requestId;
  requestIdProblem(requestId, problems);
  const regions = Array.isArray(e.regions) ? (e.regions as unknown[]) : e.region !== undefined ? [e.region] : [];
  if (regions.length === 0) problems.push('regions must name at least one region (or give region)');
  for (const r of regions) pattern(r, REGION, 'region', problems);
  const observedAt = e.observedAt ?? defaults.observedAt;
  if (observedAt !== undefined && (typeof observedAt !== 'string' || Number.isNaN(Date.parse(observedAt)))) problems.push(`observedAt must be an ISO-8601 time, got ${JSON.stringify(observedAt)}`);
  fail(what, problems);
  return {
    case: e.case as string,
    accountId: e.accountId as string,
    regions: [...new Set(regions as string[])],
    requestId: requestId as string,
    ...(observedAt !== undefined ? { observedAt: observedAt as string } : {}),
  };
}
