/**
 * What every Cloud Function handler shares: a structured logger (JSON lines with `severity`, which Cloud Logging
 * reads as the entry's level, and the persistent keys `cloud`, `handler`, `case`, `requestId`), the actor recorded
 * in the ledger (the function's service account), the tool version, and the environment read once.
 */
import pkg from '../../package.json' with { type: 'json' };
import { InvalidInputError, isAmberError } from '../../shared/errors.ts';
import type { Actor } from '../../shared/evidence/model.ts';

/** `amber/<version>`, recorded in every ledger entry. */
export const TOOL = `amber/${pkg.version}`;

/** A line sink (tests capture it). */
export type LogSink = (line: string) => void;

/** Logs one JSON object per line. */
export interface GcpLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The logger of a handler. */
export function createLogger(handler: string, sink: LogSink = (line) => process.stdout.write(`${line}\n`)): GcpLogger {
  const write = (severity: string, message: string, fields: Record<string, unknown> = {}): void => sink(JSON.stringify({ severity, message, service: 'amber', cloud: 'gcp', handler, ...fields }));
  return {
    info: (m, f) => write('INFO', m, f),
    warn: (m, f) => write('WARNING', m, f),
    error: (m, f) => write('ERROR', m, f),
  };
}

/** An error as log fields: code, message, hint. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (isAmberError(error)) return { code: error.code, error: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return { code: 'UNEXPECTED', error: error instanceof Error ? error.message : String(error) };
}

/** The principal recorded as acting: the function's service account, else its service name. */
export function actorOf(env: NodeJS.ProcessEnv = process.env): Actor {
  const principal = env.AMBER_SERVICE_ACCOUNT ? `serviceAccount:${env.AMBER_SERVICE_ACCOUNT}` : `cloudfunction:${env.K_SERVICE ?? 'unknown'}`;
  return { principal, tool: TOOL };
}

/** Reads the named variables; one error names every missing one. */
export function readGcpEnv<const K extends string>(handler: string, names: readonly K[], env: NodeJS.ProcessEnv = process.env): Readonly<Record<K, string>> {
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0) {
    throw new InvalidInputError(`the ${handler} function is missing environment variable${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`, {
      hint: `set ${missing.join(', ')} on the function (infra/gcp sets every variable each function needs)`,
    });
  }
  return Object.fromEntries(names.map((n) => [n, env[n] ?? ''])) as Record<K, string>;
}
