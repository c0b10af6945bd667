/**
 * The preservation state machines, read from the synthesized DefinitionString: the snapshot wait loop lives in
 * the state machine (Wait → check → Choice, no Lambda polling), every task retries throttling/5xx and catches to
 * a custody failure record then Fail, and log copies run as a Distributed Map with ItemReader, ItemBatcher and
 * ResultWriter in the evidence bucket.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_MAP, RETRYABLE_ERRORS, SNAPSHOT_WAIT, THROTTLE_RETRY } from '../../infra/lib/defaults.ts';
import { resolveCfn, type CfnTemplate } from '../helpers/cfn.ts';
import { EVIDENCE_ACCOUNT, REGION, testApp, templates } from '../helpers/infra.ts';

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number; JitterStrategy?: string }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
  Choices?: Array<Record<string, unknown> & { Next: string }>;
  Default?: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
  Seconds?: number;
  ItemProcessor?: { ProcessorConfig: Record<string, string>; StartAt: string; States: Record<string, State> };
  ItemReader?: { Resource: string; ReaderConfig: Record<string, unknown>; Parameters: Record<string, unknown> };
  ItemBatcher?: { MaxItemsPerBatch?: number; BatchInput?: Record<string, unknown> };
  ResultWriter?: { Resource: string; Parameters: Record<string, unknown> };
  ToleratedFailurePercentage?: number;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
}

/** The state machine at `path`, its definition with intrinsics resolved for the test account. */
function definitionAt(t: CfnTemplate, path: string): Definition {
  const [, sm] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && r.Metadata?.['aws:cdk:path'] === path)!;
  return JSON.parse(resolveCfn(sm.Properties!.DefinitionString, t, { account: EVIDENCE_ACCOUNT, region: REGION }) as string) as Definition;
}

/** Every state, including those inside Map item processors, with the graph it belongs to. */
function allStates(def: Definition): Array<[string, State]> {
  return Object.entries(def.States).flatMap(([name, s]) => [[name, s] as [string, State], ...(s.ItemProcessor ? allStates(s.ItemProcessor) : [])]);
}

const functionOf = (t: CfnTemplate, handler: string): string =>
  Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && (r.Properties!.Environment as { Variables: Record<string, string> }).Variables.AMBER_HANDLER === handler)![0];

/** The SSM captures: their failure is recorded and the preservation goes on (not to RecordFailure). */
const OPTIONAL = ['CaptureVolatile', 'CaptureMemory'];

describe('State machines', () => {
  let json: CfnTemplate;
  let instance: Definition;
  let logs: Definition;
  let image: Definition;
  const fnArn = (handler: string): string => `arn:aws:lambda:${REGION}:${EVIDENCE_ACCOUNT}:function:${functionOf(json, handler)}`;

  beforeAll(async () => {
    // GIVEN the evidence stack, WHEN synthesized
    ({ evidenceJson: json } = templates(await testApp()));
    instance = definitionAt(json, 'AmberEvidence/InstancePreservation/Resource/Resource');
    logs = definitionAt(json, 'AmberEvidence/LogPreservation/Resource/Resource');
    image = definitionAt(json, 'AmberEvidence/ImagePreservation/Resource/Resource');
  });

  describe('every task', () => {
    it('retries Lambda service errors, throttling and 5xx with backoff, and catches everything else', () => {
      for (const def of [instance, logs, image]) {
        const tasks = allStates(def).filter(([, s]) => s.Type === 'Task' || s.Type === 'Map');
        expect(tasks.length).toBeGreaterThan(5);
        for (const [name, s] of tasks) {
          expect(s.Retry, name).toBeDefined();
          const retried = s.Retry!.flatMap((r) => r.ErrorEquals);
          for (const e of ['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'ThrottlingException', 'SlowDown', 'ServiceUnavailable', 'InternalError']) expect(retried, name).toContain(e);
          expect(s.Catch?.map((c) => c.ErrorEquals), name).toEqual([['States.ALL']]);
        }
      }
    });

    it('catches to record-custody with step "failed", which ends in Fail (inside a Map child: straight to Fail)', () => {
      for (const def of [instance, logs, image]) {
        const recordFailure = def.States.RecordFailure!;
        expect(recordFailure.Parameters).toMatchObject({ step: 'failed', 'case.$': '$.case', 'requestId.$': '$.requestId', 'detail.$': '$' });
        expect(def.States[recordFailure.Next!]!.Type).toBe('Fail');
        expect(def.States[recordFailure.Catch![0]!.Next]!.Type).toBe('Fail');
        // TakeInventory alone catches to its own record and goes on (the Inventory tests below).
        for (const [name, s] of Object.entries(def.States).filter(([n, s]) => (s.Type === 'Task' || s.Type === 'Map') && n !== 'RecordFailure' && n !== 'TakeInventory' && !OPTIONAL.includes(n))) {
          expect(s.Catch![0], name).toEqual({ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' });
        }
      }
      const child = logs.States.CopyLogObjects!.ItemProcessor!;
      const batch = child.States[child.StartAt]!;
      expect(child.States[batch.Catch![0]!.Next]!.Type).toBe('Fail');
    });

    it('gives Lambda throttling its own long, jittered retry (record-custody is serialised), then the defaults\' list', () => {
      for (const def of [instance, logs, image]) {
        for (const [name, s] of allStates(def).filter(([, s]) => s.Type === 'Task')) {
          expect(s.Retry![0], name).toMatchObject({ ErrorEquals: ['Lambda.TooManyRequestsException'], MaxAttempts: THROTTLE_RETRY.maxAttempts, JitterStrategy: 'FULL' });
          // A chunk whose block did not match its checksum is read again (AcquisitionError), as are service errors.
          expect(s.Retry![1]!.ErrorEquals, name).toEqual(name === 'StoreChunk' ? ['AcquisitionError', ...RETRYABLE_ERRORS] : [...RETRYABLE_ERRORS]);
        }
      }
    });
  });

  describe('Instance preservation', () => {
    it('takes the account\'s inventory first, then captures, snapshots all volumes at once, and records custody after each step', () => {
      const path: string[] = [];
      let name: string | undefined = instance.StartAt;
      while (name && path.length < 9) {
        path.push(name);
        const state: State = instance.States[name]!;
        // The memory choice: follow the request that asks for memory.
        name = state.Type === 'Choice' ? state.Choices![0]!.Next : state.Next;
      }
      expect(path).toEqual(['TakeInventory', 'RecordInventory', 'CaptureInstance', 'RecordCapture', 'CaptureVolatile', 'RecordVolatile', 'MemoryRequested?', 'CaptureMemory', 'RecordMemory']);
      expect(instance.States.TakeInventory!.Resource).toBe(fnArn('take-inventory'));
      expect(instance.States.RecordMemory!.Next).toBe('CreateSnapshots');
      expect(instance.States.CreateSnapshots!.Next).toBe('RecordSnapshotsStarted');
      expect(instance.States.CaptureInstance!.Resource).toBe(fnArn('capture-instance'));
      expect(instance.States.CreateSnapshots!.Resource).toBe(fnArn('create-snapshots'));
      const records = Object.values(instance.States).filter((s) => s.Resource === fnArn('record-custody'));
      expect(records.map((s) => s.Parameters!.step).sort()).toEqual(
        ['capture-instance', 'copies-completed', 'copy-snapshots', 'create-snapshots', 'failed', 'instance-preserved', 'inventory-failed', 'isolate-instance', 'memory-capture', 'snapshots-completed', 'take-inventory', 'volatile-triage'].sort(),
      );
      for (const s of records.filter((r) => r.Parameters!.step !== 'failed')) expect(s.ResultPath).toBeNull();
      // capture-instance's evidence items go to the ledger as `acquired` items
      expect(instance.States.RecordCapture!.Parameters).toMatchObject({ 'items.$': '$.items' });
    });

    it('waits for snapshots in the state machine: Wait → check-snapshots → Choice on completed / pending / error, twice', () => {
      const waits = Object.entries(instance.States).filter(([, s]) => s.Type === 'Wait');
      expect(waits.map(([n]) => n).sort()).toEqual(['WaitForCopies', 'WaitForSnapshots']);
      for (const [waitName, wait] of waits) {
        expect(wait.Seconds).toBe(SNAPSHOT_WAIT.interval.toSeconds());
        const check = instance.States[wait.Next!]!;
        expect(check.Type).toBe('Task');
        expect(check.Resource).toBe(fnArn('check-snapshots'));
        expect(check.ResultPath).toBe('$.check');
        expect((check as State & { ResultSelector: unknown }).ResultSelector).toEqual({ 'status.$': '$.status', 'failed.$': '$.failed', 'states.$': '$.states' });
        const choice = instance.States[check.Next!]!;
        expect(choice.Type).toBe('Choice');
        const on = (value: string): string => choice.Choices!.find((c) => c.Variable === '$.check.status' && c.StringEquals === value)!.Next;
        // pending: count the check, then back to the same Wait (the loop)
        const counter = instance.States[on('pending')]!;
        expect(counter.Type).toBe('Pass');
        expect(counter.Parameters).toEqual({ 'count.$': 'States.MathAdd($.checks.count, 1)' });
        expect(counter.Next).toBe(waitName);
        // completed: record custody (for copies: unless copy-snapshots must run again); error, too many checks,
        // anything else: the failure path
        const completed = instance.States[on('completed')]!;
        expect(completed.Type === 'Choice' ? instance.States[completed.Default!]!.Parameters!.step : completed.Parameters!.step).toMatch(/-completed$/);
        const failing = [on('error'), choice.Choices!.find((c) => c.Variable === '$.checks.count')!.Next, choice.Default!];
        expect(choice.Choices!.find((c) => c.Variable === '$.checks.count')!.NumericGreaterThanEquals).toBe(SNAPSHOT_WAIT.maxChecks);
        for (const f of failing) {
          expect(instance.States[f]!.Type).toBe('Pass');
          expect(instance.States[f]!.ResultPath).toBe('$.error');
          expect(instance.States[f]!.Next).toBe('RecordFailure');
        }
      }
      // No task polls: only the state machine loops, and check-snapshots itself is short.
      const check = json.Resources[functionOf(json, 'check-snapshots')]!.Properties!;
      expect(check.Timeout).toBeLessThanOrEqual(30);
    });

    it('copies only when the instance is in another account, then waits on the copies with the same loop', () => {
      const afterSnapshots = instance.States[instance.States.RecordSnapshotsCompleted!.Next!]!;
      expect(afterSnapshots.Type).toBe('Choice');
      expect(afterSnapshots.Choices).toEqual([{ Variable: '$.accountId', StringEquals: EVIDENCE_ACCOUNT, Next: 'IsolateRequested?' }]);
      expect(afterSnapshots.Default).toBe('CopySnapshots');
      expect(instance.States.CopySnapshots!.Resource).toBe(fnArn('copy-snapshots'));
      expect(instance.States.RecordCopiesStarted!.Next).toBe('StartCopiesWait');
      expect(instance.States.StartCopiesWait!.Next).toBe('WaitForCopies');
      // copy-snapshots answering stage 'source' (re-encrypted copies in the member account first) runs again after the wait
      const again = instance.States['CopiesInEvidenceAccount?']!;
      expect(again.Choices).toEqual([{ Variable: '$.stage', StringEquals: 'source', Next: 'CopySnapshots' }]);
      expect(again.Default).toBe('RecordCopiesCompleted');
    });

    it('isolates only when the request says so, and records it', () => {
      const isolate = instance.States['IsolateRequested?']!;
      expect(isolate.Choices).toEqual([{ Variable: '$.isolate', BooleanEquals: true, Next: 'IsolateInstance' }]);
      expect(isolate.Default).toBe('RecordPreserved');
      expect(instance.States.IsolateInstance!.Resource).toBe(fnArn('isolate-instance'));
      expect(instance.States.IsolateInstance!.Next).toBe('RecordIsolation');
      expect(instance.States.RecordIsolation!.Next).toBe('RecordPreserved');
    });

    it('seals the case at the end of every path, failure included', () => {
      expect(instance.States.RecordPreserved!.Parameters).toMatchObject({ step: 'instance-preserved', seal: true });
      expect(instance.States[instance.States.RecordPreserved!.Next!]!.Type).toBe('Succeed');
      expect(instance.States.RecordFailure!.Parameters).toMatchObject({ step: 'failed', seal: true });
    });
  });

  describe('Inventory', () => {
    it('runs take-inventory named by the execution\'s start time, records its items from the work object, and goes on to capture even when it fails', () => {
      const take = instance.States.TakeInventory!;
      expect(take.Parameters).toEqual({ 'input.$': '$', 'executionStartTime.$': '$$.Execution.StartTime' });
      expect(take.ResultPath).toBe('$.inventory');
      expect(instance.States.RecordInventory!.Parameters).toMatchObject({ step: 'take-inventory', 'itemsObject.$': '$.inventory.itemsObject' });
      expect(instance.States.RecordInventory!.Next).toBe('CaptureInstance');
      // A failed inventory is recorded, and preservation goes on
      expect(take.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'RecordInventoryFailed', ResultPath: '$.inventoryError' }]);
      expect(instance.States.RecordInventoryFailed!.Parameters).toMatchObject({ step: 'inventory-failed' });
      expect(instance.States.RecordInventoryFailed!.Next).toBe('CaptureInstance');
      expect(take.Retry!.map((r) => r.ErrorEquals)).toEqual([[...THROTTLE_RETRY.errors], expect.arrayContaining([...RETRYABLE_ERRORS])]);
    });

    it('runs on demand: an "Inventory Requested" event or a direct input, recorded and sealed', () => {
      const onDemand = definitionAt(json, 'AmberEvidence/Inventory/Resource/Resource');
      expect(onDemand.StartAt).toBe('FromEvent?');
      expect(onDemand.States.RequestFromEvent!.Parameters).toEqual({ 'case.$': '$.detail.case', 'accountId.$': '$.detail.accountId', 'regions.$': '$.detail.regions', 'requestId.$': '$.id' });
      expect(onDemand.States.TakeInventory!.Resource).toBe(fnArn('take-inventory'));
      expect(onDemand.States.TakeInventory!.Next).toBe('RecordInventory');
      expect(onDemand.States.RecordInventory!.Parameters).toMatchObject({ step: 'take-inventory', seal: true, 'itemsObject.$': '$.inventory.itemsObject' });
      const rule = Object.values(json.Resources).find((r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties!.EventPattern).includes('Inventory Requested'))!;
      expect(rule.Properties!.EventPattern).toEqual({ source: ['amber'], 'detail-type': ['Inventory Requested'] });
    });
  });

  describe('Log preservation', () => {
    it('lists, records, then copies with a Distributed Map over the listing in the evidence bucket', () => {
      expect(logs.StartAt).toBe('ListLogObjects');
      expect(logs.States.ListLogObjects!.Resource).toBe(fnArn('list-log-objects'));
      const map = logs.States.CopyLogObjects!;
      expect(map.Type).toBe('Map');
      expect(map.ItemProcessor!.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      const evidenceBucket = `${Object.entries(json.Resources).find(([, r]) => r.Metadata?.['aws:cdk:path'] === 'AmberEvidence/Evidence/Resource/Resource')![0].toLowerCase()}-bucket`;
      expect(map.ItemReader).toEqual({
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: evidenceBucket, 'Key.$': '$.itemsKey' },
      });
      expect(map.ItemBatcher).toEqual({ MaxItemsPerBatch: 100, BatchInput: { 'case.$': '$.case', 'requestId.$': '$.requestId' } });
      expect(map.ResultWriter).toEqual({ Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: evidenceBucket, Prefix: '_work/log-copies' } });
      // Failed batches still reach the ResultWriter, so record-custody can name their objects.
      expect(map.ToleratedFailurePercentage).toBe(100);
      expect(map.Retry!.flatMap((r) => r.ErrorEquals)).toEqual(expect.arrayContaining(['States.ItemReaderFailed', 'States.ResultWriterFailed']));
      const child = map.ItemProcessor!;
      expect(child.States[child.StartAt]!.Resource).toBe(fnArn('copy-log-objects'));
    });

    it('hands the ResultWriter details to record-custody, then fails the execution if any object was not preserved', () => {
      const record = logs.States[logs.States.CopyLogObjects!.Next!]!;
      expect(record.Resource).toBe(fnArn('record-custody'));
      expect(record.Parameters).toMatchObject({ step: 'copy-log-objects', 'resultWriterDetails.$': '$.copy.ResultWriterDetails' });
      expect(record.ResultPath).toBe('$.custody');
      expect(logs.States.CopyLogObjects!.ResultPath).toBe('$.copy');
      const complete = logs.States[record.Next!]!;
      expect(complete.Choices).toEqual([{ Variable: '$.custody.failures', NumericGreaterThan: 0, Next: 'LogsPartiallyPreserved' }]);
      expect(logs.States.LogsPartiallyPreserved!.Type).toBe('Fail');
      expect(logs.States[complete.Default!]!.Type).toBe('Succeed');
    });

    it('records the listing with the objects that cannot be kept under their key as failures', () => {
      expect(logs.States.RecordListing!.Parameters).toMatchObject({ step: 'list-log-objects', 'failures.$': '$.skipped' });
    });

    it('skips the map when nothing was listed', () => {
      const choice = logs.States['AnyLogObjects?']!;
      expect(choice.Choices).toEqual([{ Variable: '$.count', NumericGreaterThan: 0, Next: 'CopyLogObjects' }]);
      expect(logs.States[choice.Default!]!.Type).toBe('Succeed');
    });

    it('reads CloudTrail event history when the request asks or the trail has nothing for the window, looping until complete', () => {
      const wanted = logs.States[logs.States.RecordListing!.Next!]!;
      expect(wanted.Type).toBe('Choice');
      expect(wanted.Choices).toEqual([
        {
          Or: [
            { And: [{ Variable: '$.cloudTrailEventHistory', IsPresent: true }, { Variable: '$.cloudTrailEventHistory', BooleanEquals: true }] },
            { Variable: '$.count', NumericEquals: 0 },
          ],
          Next: 'LookupEvents',
        },
      ]);
      expect(wanted.Default).toBe('AnyLogObjects?');
      const lookup = logs.States.LookupEvents!;
      expect(lookup.Resource).toBe(fnArn('lookup-cloudtrail-events'));
      expect(lookup.ResultPath).toBe('$.lookup');
      expect(lookup.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
      const record = logs.States[lookup.Next!]!;
      expect(record.Resource).toBe(fnArn('record-custody'));
      expect(record.Parameters).toMatchObject({ step: 'cloudtrail-event-history', 'items.$': '$.lookup.items', 'failures.$': '$.lookup.failures', detail: { 'pages.$': '$.lookup.pages', 'complete.$': '$.lookup.complete' } });
      const again = logs.States[record.Next!]!;
      expect(again.Choices).toEqual([{ Variable: '$.lookup.complete', BooleanEquals: false, Next: 'LookupEvents' }]);
      expect(again.Default).toBe('AnyLogObjects?');
    });
  });

  describe('Volatile and memory capture (instance preservation)', () => {
    it('runs the volatile triage, then memory only when the request asks, before any snapshot', () => {
      expect(instance.States.CaptureVolatile!.Resource).toBe(fnArn('capture-volatile'));
      expect(instance.States.CaptureVolatile!.ResultPath).toBe('$.volatile');
      const memory = instance.States['MemoryRequested?']!;
      expect(memory.Choices).toEqual([{ And: [{ Variable: '$.memory', IsPresent: true }, { Variable: '$.memory', BooleanEquals: true }], Next: 'CaptureMemory' }]);
      expect(memory.Default).toBe('CreateSnapshots');
      expect(instance.States.CaptureMemory!.Resource).toBe(fnArn('capture-memory'));
      expect(instance.States.CaptureMemory!.ResultPath).toBe('$.memory');
      // Isolation comes after the snapshots: nothing before CreateSnapshots isolates.
      for (const n of ['CaptureVolatile', 'RecordVolatile', 'CaptureMemory', 'RecordMemory']) expect(instance.States[n]!.Next).not.toBe('IsolateInstance');
    });

    it('records each capture\'s items, failures and outcome, and a capture that fails goes on to the snapshots (Catch, not Fail)', () => {
      for (const [task, record, step, path] of [
        ['CaptureVolatile', 'RecordVolatile', 'volatile-triage', '$.volatile'],
        ['CaptureMemory', 'RecordMemory', 'memory-capture', '$.memory'],
      ] as const) {
        const t = instance.States[task]!;
        expect(t.Retry!.flatMap((r) => r.ErrorEquals)).toEqual(expect.arrayContaining(['Lambda.TooManyRequestsException', 'ThrottlingException']));
        expect(t.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: `${path}Error`, Next: `${task}Failed` }]);
        const failed = instance.States[`${task}Failed`]!;
        expect(failed.Type).toBe('Pass');
        expect(failed.ResultPath).toBe(path);
        expect(failed.Parameters).toEqual({ outcome: 'failed', reason: 'task-failed', 'message.$': `${path}Error.Cause`, items: [], failures: [], 'detail.$': `${path}Error` });
        // Both the answer and the caught error reach the same record, which the preservation continues after.
        expect(t.Next).toBe(record);
        expect(failed.Next).toBe(record);
        expect(instance.States[record]!.Parameters).toMatchObject({ step, 'items.$': `${path}.items`, 'failures.$': `${path}.failures`, detail: { 'outcome.$': `${path}.outcome`, 'detail.$': `${path}.detail` } });
      }
      expect(instance.States.RecordVolatile!.Next).toBe('MemoryRequested?');
      expect(instance.States.RecordMemory!.Next).toBe('CreateSnapshots');
    });

    it('gives the capture functions 15 minutes and the pinned tools (none in cdk.json: memory is recorded as no-tool)', () => {
      const volatile = json.Resources[functionOf(json, 'capture-volatile')]!.Properties!;
      const memory = json.Resources[functionOf(json, 'capture-memory')]!.Properties!;
      expect(volatile.Timeout).toBe(900);
      expect(memory.Timeout).toBe(900);
      expect((memory.Environment as { Variables: Record<string, string> }).Variables).toMatchObject({ AVML_URI: '', AVML_SHA256: '', WINPMEM_URI: '', WINPMEM_SHA256: '' });
    });
  });

  describe('Disk images', () => {
    it('defaults the chunk size, plans, then stores chunks with a Distributed Map and assembles image.json', () => {
      expect(image.StartAt).toBe('ChunkSizeDefault');
      expect(image.States.ChunkSizeDefault!.Parameters).toEqual({ 'input.$': '$', defaults: { chunkMib: 256 } });
      expect(image.States.ApplyDefaults!.Parameters).toEqual({ 'merged.$': 'States.JsonMerge($.defaults, $.input, false)' });
      expect(image.States.ApplyDefaults!.Next).toBe('PlanImage');
      expect(image.States.PlanImage!.Resource).toBe(fnArn('plan-image'));
      expect(image.States.PlanImage!.ResultPath).toBe('$.plan');
      const any = image.States[image.States.PlanImage!.Next!]!;
      expect(any.Choices).toEqual([{ Variable: '$.plan.count', NumericGreaterThan: 0, Next: 'ImageChunks' }]);
      // Nothing left to store (a resumed run whose chunks are all recorded): straight to assembling.
      expect(any.Default).toBe('AssembleImage');
    });

    it('reads the plan\'s items from the evidence bucket, one chunk per child, at most IMAGE_MAP.maxConcurrency at once', () => {
      const map = image.States.ImageChunks! as State & { ItemSelector: Record<string, string>; MaxConcurrency: number };
      expect(map.Type).toBe('Map');
      expect(map.ItemProcessor!.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      const evidenceBucket = `${Object.entries(json.Resources).find(([, r]) => r.Metadata?.['aws:cdk:path'] === 'AmberEvidence/Evidence/Resource/Resource')![0].toLowerCase()}-bucket`;
      expect(map.ItemReader).toEqual({ Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { Bucket: evidenceBucket, 'Key.$': '$.plan.itemsKey' } });
      expect(map.ItemBatcher).toBeUndefined();
      expect(map.ItemSelector).toEqual({
        'case.$': '$.case',
        'requestId.$': '$.requestId',
        'snapshotId.$': '$.snapshotId',
        'accountId.$': '$.accountId',
        'region.$': '$.region',
        'volumeBytes.$': '$.plan.volumeBytes',
        'blockBytes.$': '$.plan.blockBytes',
        'chunk.$': '$$.Map.Item.Value',
      });
      expect(map.MaxConcurrency).toBe(IMAGE_MAP.maxConcurrency);
      expect(map.MaxConcurrency).toBe(16);
      expect(map.ResultWriter).toEqual({ Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: evidenceBucket, Prefix: '_work/image-chunks' } });
      expect(map.ToleratedFailurePercentage).toBe(100);
      expect(map.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
      const child = map.ItemProcessor!;
      const store = child.States[child.StartAt]!;
      expect(store.Resource).toBe(fnArn('image-chunk'));
      expect(store.Retry!.flatMap((r) => r.ErrorEquals)).toContain('AcquisitionError');
      expect(child.States[store.Catch![0]!.Next]!.Type).toBe('Fail');
    });

    it('records the chunks from the ResultWriter, then assembles; a complete image is recorded and sealed, an incomplete one recorded then failed', () => {
      const chunks = image.States[image.States.ImageChunks!.Next!]!;
      expect(chunks.Resource).toBe(fnArn('record-custody'));
      expect(chunks.Parameters).toMatchObject({ step: 'image-chunks', 'resultWriterDetails.$': '$.chunks.ResultWriterDetails', seal: false });
      expect(chunks.Next).toBe('AssembleImage');
      expect(image.States.AssembleImage!.Resource).toBe(fnArn('assemble-image'));
      expect(image.States.AssembleImage!.ResultPath).toBe('$.image');
      const done = image.States[image.States.AssembleImage!.Next!]!;
      expect(done.Choices).toEqual([{ Variable: '$.image.complete', BooleanEquals: true, Next: 'RecordImage' }]);
      expect(image.States.RecordImage!.Parameters).toMatchObject({ step: 'image-assembled', 'items.$': '$.image.items', seal: true, detail: { 'sha256.$': '$.image.sha256' } });
      expect(image.States[image.States.RecordImage!.Next!]!.Type).toBe('Succeed');
      expect(done.Default).toBe('RecordImageIncomplete');
      expect(image.States.RecordImageIncomplete!.Parameters).toMatchObject({ step: 'image-incomplete', 'failures.$': '$.image.failures', seal: true });
      expect(image.States[image.States.RecordImageIncomplete!.Next!]!.Type).toBe('Fail');
    });
  });

  it('logs every execution event and traces all four state machines', () => {
    const machines = Object.values(json.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(4);
    for (const m of machines) {
      expect(m.Properties!.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
      expect(m.Properties!.TracingConfiguration).toEqual({ Enabled: true });
    }
  });
});
