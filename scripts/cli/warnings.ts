/**
 * The AWS SDK for JavaScript prints, once per process, a banner about the Node.js versions its future
 * releases will require ("NodeVersionSupportWarning: The AWS SDK for JavaScript (v3) ... will require
 * node >=22", earlier "NodeDeprecationWarning"). It is addressed to the SDK's developers' users, not to an
 * investigator running `amber collect`, and it is not about anything Amber does. That one warning is dropped;
 * every other warning is printed as Node prints it.
 */

const INSTALLED = Symbol.for('amber.sdkNodeVersionWarningHidden');

/** True for the AWS SDK's Node.js version support banner, and only for it. */
export function isSdkNodeVersionWarning(warning: string | Error, typeOrOptions?: unknown): boolean {
  const text = typeof warning === 'string' ? warning : warning.message;
  const type = typeof typeOrOptions === 'string' ? typeOrOptions : (typeOrOptions as { type?: unknown } | undefined)?.type;
  const name = typeof warning === 'string' ? type : warning.name;
  const kind = /^Node(?:VersionSupport|Deprecation)Warning\b/.test(text) || name === 'NodeDeprecationWarning' || name === 'NodeVersionSupportWarning';
  return kind && text.includes('AWS SDK for JavaScript');
}

/** Makes `proc.emitWarning` drop the SDK's Node.js version banner; call before the SDK loads. Idempotent. */
export function hideSdkNodeVersionWarning(proc: NodeJS.Process = process): void {
  const marked = proc as NodeJS.Process & { [INSTALLED]?: true };
  if (marked[INSTALLED]) return;
  marked[INSTALLED] = true;
  const emit = proc.emitWarning;
  proc.emitWarning = function emitWarning(this: unknown, warning: string | Error, ...rest: unknown[]): void {
    if (isSdkNodeVersionWarning(warning, rest[0])) return;
    (emit as (...args: unknown[]) => void).call(proc, warning, ...rest);
  } as NodeJS.Process['emitWarning'];
}
