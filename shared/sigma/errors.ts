/** Errors of the Sigma compiler. */
import { AmberError, ExitCode } from '../errors.ts';

/**
 * A rule uses something the compiler does not translate (a modifier, a field with no column, a logsource with no
 * table). Its message is the exact reason `amber rules` prints; the rule is listed as `unsupported`, never run.
 */
export class SigmaUnsupportedError extends AmberError {
  override readonly code = 'SIGMA_UNSUPPORTED';
}

/** A rule file is not a Sigma rule (malformed YAML, missing detection or condition), or a rules folder is missing. */
export class SigmaRuleError extends AmberError {
  override readonly code = 'SIGMA_RULE_INVALID';
  override readonly exitCode = ExitCode.usage;
}
