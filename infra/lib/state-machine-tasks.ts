/**
 * Building blocks shared by the preservation state machines: a Lambda task with Amber's retry and a catch to the
 * failure path, a record-custody task that appends a ledger entry without changing the state, and the failure
 * path itself (record the failure in the custody ledger, then fail the execution).
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { TASK_RETRY, THROTTLE_RETRY } from './defaults.ts';

/** Where a caught error lands in the state, for the failure record. */
export const ERROR_PATH = '$.error';

/** Amber's two retriers: Lambda throttling with a long budget, then service errors, throttling and 5xx. */
export function addRetries(state: { addRetry(props: sfn.RetryProps): unknown }, extraErrors: readonly string[] = []): void {
  state.addRetry({ ...THROTTLE_RETRY, errors: [...THROTTLE_RETRY.errors] });
  state.addRetry({ ...TASK_RETRY, errors: [...extraErrors, ...TASK_RETRY.errors] });
}

/** Tasks and states of one state machine under construction. */
export class TaskFactory {
  /** The failure path's entry: record-custody with step `failed`, then Fail. */
  readonly failure: sfn.IChainable;

  constructor(
    private readonly scope: Construct,
    private readonly recordCustody: lambda.IFunction,
    failState: sfn.Fail,
  ) {
    const recordFailure = new tasks.LambdaInvoke(scope, 'RecordFailure', {
      comment: 'Append the failure, with the error and the state it happened in, to the case\'s custody ledger',
      lambdaFunction: recordCustody,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: sfn.TaskInput.fromObject({
        case: sfn.JsonPath.stringAt('$.case'),
        requestId: sfn.JsonPath.stringAt('$.requestId'),
        step: 'failed',
        detail: sfn.JsonPath.objectAt('$'),
        // What was preserved before the failure is sealed too: the manifest says where the run stopped.
        seal: true,
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    addRetries(recordFailure);
    // If even the failure cannot be recorded, the execution still fails (and its history keeps the error).
    recordFailure.addCatch(failState, { resultPath: '$.recordFailureError' });
    this.failure = recordFailure.next(failState);
  }

  /** A task running `fn` on the state (or on `payload`), retried on throttling and 5xx, caught to the failure path. */
  task(id: string, fn: lambda.IFunction, options: { comment: string; resultPath?: string; resultSelector?: Record<string, unknown>; payload?: sfn.TaskInput }): tasks.LambdaInvoke {
    const t = new tasks.LambdaInvoke(this.scope, id, {
      comment: options.comment,
      lambdaFunction: fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      ...(options.payload ? { payload: options.payload } : {}),
      ...(options.resultPath !== undefined ? { resultPath: options.resultPath } : {}),
      ...(options.resultSelector ? { resultSelector: options.resultSelector } : {}),
    });
    addRetries(t);
    t.addCatch(this.failure, { resultPath: ERROR_PATH });
    return t;
  }

  /**
   * record-custody for `step`, with the current state as detail. The state passes through unchanged, or with
   * record-custody's CustodyOutput at `resultPath`.
   */
  record(id: string, step: string, extra: Record<string, unknown> = {}, resultPath: string = sfn.JsonPath.DISCARD): tasks.LambdaInvoke {
    return this.task(id, this.recordCustody, {
      comment: `Append "${step}" to the case's custody ledger`,
      payload: sfn.TaskInput.fromObject({
        case: sfn.JsonPath.stringAt('$.case'),
        requestId: sfn.JsonPath.stringAt('$.requestId'),
        step,
        detail: sfn.JsonPath.objectAt('$'),
        ...extra,
      }),
      resultPath,
    });
  }

  /** A Pass that puts a named error into the state and goes to the failure path (for failures a Choice finds). */
  fail(id: string, error: string, cause: string, extra: Record<string, unknown> = {}): sfn.IChainable {
    return new sfn.Pass(this.scope, id, {
      parameters: { Error: error, Cause: cause, ...extra },
      resultPath: ERROR_PATH,
    }).next(this.failure);
  }

  /**
   * A task whose failure does not stop the preservation: retried like every task, and when it still fails the
   * error is put at `resultPath` as `{outcome: 'failed', reason: 'task-failed', error}` (empty items and failures)
   * and the execution goes on to `next`, where a record state writes it to the ledger either way.
   */
  optional(id: string, fn: lambda.IFunction, options: { comment: string; resultPath: string; payload?: sfn.TaskInput }, next: sfn.IChainable): tasks.LambdaInvoke {
    const t = new tasks.LambdaInvoke(this.scope, id, {
      comment: options.comment,
      lambdaFunction: fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath: options.resultPath,
      ...(options.payload ? { payload: options.payload } : {}),
    });
    addRetries(t);
    const errorPath = `${options.resultPath}Error`;
    const recordError = new sfn.Pass(this.scope, `${id}Failed`, {
      comment: `${id} failed after its retries: record why and go on`,
      parameters: { outcome: 'failed', reason: 'task-failed', 'message.$': `${errorPath}.Cause`, items: [], failures: [], 'detail.$': errorPath },
      resultPath: options.resultPath,
    });
    t.addCatch(recordError, { resultPath: errorPath });
    recordError.next(next);
    t.next(next);
    return t;
  }
}
