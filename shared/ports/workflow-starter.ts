/**
 * The WorkflowStarter port: where long preservation work runs (Step Functions in AWS). Starting is
 * idempotent by name: a name already used means the work was already started, which is success.
 */

/** The two workflows preservation starts. */
export type WorkflowKind = 'instance' | 'logs';

/** One start request. */
export interface WorkflowStart {
  readonly kind: WorkflowKind;
  /** Deterministic name: the same request always yields the same name. */
  readonly name: string;
  /** JSON-serialisable input. */
  readonly input: unknown;
}

/** What a start did. */
export interface WorkflowStarted {
  readonly kind: WorkflowKind;
  readonly name: string;
  /** The execution's id (an ARN in AWS). */
  readonly id: string;
  /** False when an execution with this name already existed (a duplicated event): nothing new was started. */
  readonly started: boolean;
}

/** Starts workflows by name, treating "already exists" as success. */
export interface WorkflowStarter {
  start(request: WorkflowStart): Promise<WorkflowStarted>;
}
