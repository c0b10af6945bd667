/**
 * The RemoteCommand port: runs a script on a managed instance (AWS Systems Manager Run Command today) and
 * reports its invocation. Output goes straight to the evidence bucket (a command's inline output is cut
 * short by the service), and the caller preserves each output object itself, hashing it as it stores it.
 */

/** Every state an invocation reports (SSM's CommandInvocationStatus, plus the detail states it documents). */
export const INVOCATION_STATES = ['Pending', 'InProgress', 'Delayed', 'Success', 'Failed', 'TimedOut', 'Cancelled', 'Cancelling', 'Undeliverable', 'Terminated'] as const;
export type InvocationState = (typeof INVOCATION_STATES)[number];

/** States after which an invocation changes no more. */
export const FINAL_STATES: ReadonlySet<InvocationState> = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated']);

/** Which shell runs the script. */
export type ScriptPlatform = 'linux' | 'windows';

export interface RemoteCommandRequest {
  readonly instanceId: string;
  readonly platform: ScriptPlatform;
  /** The script text, run as one unit (`set -e` semantics are the script's own business). */
  readonly script: string;
  /** Bucket the output objects are written to. */
  readonly outputBucket: string;
  /** Key prefix of the output objects (the service appends the command id and instance id). */
  readonly outputPrefix: string;
  /** Seconds the script may run before the service stops it. */
  readonly executionTimeoutSeconds: number;
  /** Shown in the console beside the command (case and request). */
  readonly comment: string;
}

/** Where an output object lands. */
export interface OutputLocation {
  readonly stream: 'stdout' | 'stderr';
  readonly bucket: string;
  readonly key: string;
}

/** A command the service accepted. */
export interface SentCommand {
  readonly commandId: string;
  readonly instanceId: string;
  /** Where stdout and stderr will be once the invocation ends. */
  readonly outputs: readonly OutputLocation[];
}

/** One look at an invocation. */
export interface InvocationStatus {
  readonly state: InvocationState;
  /** The service's finer status (e.g. `DeliveryTimedOut`, `ExecutionTimedOut`). */
  readonly detail: string;
  /** Exit code of the script; -1 while it has not run. */
  readonly responseCode: number;
}

/** Why a command could not be sent or watched, in words a responder records. */
export type RefusalReason = 'no-agent' | 'access-denied' | 'unknown-instance' | 'invalid-request';

export interface RemoteCommandRunner {
  /** Sends the script; throws RemoteCommandRefusedError (shared/preservation/errors.ts) when the service refuses it. */
  send(request: RemoteCommandRequest): Promise<SentCommand>;
  /** One look at the invocation of a sent command on its instance. */
  invocation(command: SentCommand): Promise<InvocationStatus>;
}
