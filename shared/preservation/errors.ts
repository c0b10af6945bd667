/**
 * Errors of instance and log preservation, named after what failed. Each keeps the cloud's error as `cause`
 * and says how to fix it.
 */
import { AmberError, ExitCode, type AmberErrorOptions } from '../errors.ts';

/** A cloud API call failed (after the SDK's retries); names the call, the account and the region. */
export class CloudCallError extends AmberError {
  override readonly code: string = 'CLOUD_CALL_FAILED';
  constructor(
    message: string,
    /** The call, e.g. `ec2:CreateSnapshots`. */
    readonly call: string,
    /** True when running the step again may succeed (throttling, 5xx, a limit on concurrent copies). */
    readonly retryable: boolean,
    options: AmberErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** The instance to preserve does not exist (or the collector role cannot see it). */
export class InstanceNotFoundError extends AmberError {
  override readonly code = 'INSTANCE_NOT_FOUND';
  override readonly exitCode = ExitCode.usage;
  constructor(
    readonly instanceId: string,
    readonly accountId: string,
    readonly region: string,
    options: AmberErrorOptions = {},
  ) {
    super(`instance ${instanceId} was not found in account ${accountId}, region ${region}`, {
      hint: 'check the instance id, account and region; a terminated instance is gone after about an hour',
      ...options,
    });
  }
}

/** A snapshot step could not be done (a volume that cannot be snapshotted, a copy refused). */
export class SnapshotError extends AmberError {
  override readonly code = 'SNAPSHOT_FAILED';
}

/** Isolation could not be applied; says which part (group, termination protection, Auto Scaling) failed. */
export class IsolationError extends AmberError {
  override readonly code = 'ISOLATION_FAILED';
}

/** The remote-command service refused a command (no SSM agent, access denied, unknown instance). */
export class RemoteCommandRefusedError extends AmberError {
  override readonly code = 'REMOTE_COMMAND_REFUSED';
  constructor(
    message: string,
    readonly instanceId: string,
    /** `no-agent`, `access-denied`, `unknown-instance` or `invalid-request`. */
    readonly reason: string,
    options: AmberErrorOptions = {},
  ) {
    super(message, options);
  }
}
