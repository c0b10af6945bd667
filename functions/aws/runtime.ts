/**
 * What every Lambda handler shares: the Powertools logger (persistent key `cloud`, per-invocation keys
 * `case` and `requestId`), the actor recorded in the ledger (the function's ARN), the tool version, and the
 * account and region the function runs in.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import pkg from '../../package.json' with { type: 'json' };
import type { Actor } from '../../shared/evidence/model.ts';
import type { HandlerName } from './handlers/contracts.ts';

/** `amber/<version>`, recorded in every ledger entry. */
export const TOOL = `amber/${pkg.version}`;

/** The part of the Lambda context Amber uses (typed here: @types/aws-lambda is not a dependency). */
export interface LambdaContext {
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly awsRequestId: string;
  readonly functionVersion?: string;
  readonly memoryLimitInMB?: string;
  getRemainingTimeInMillis?(): number;
}

/** The logger of a handler: JSON lines with `service: amber`, `cloud: aws` and the handler's name. */
export function createLogger(handler: HandlerName): Logger {
  return new Logger({ serviceName: 'amber', persistentKeys: { cloud: 'aws', handler } });
}

/** The principal recorded as acting: the function's ARN (without alias or version). */
export function actorOf(context: LambdaContext | undefined): Actor {
  const arn = context?.invokedFunctionArn?.split(':').slice(0, 7).join(':');
  return { principal: arn || `lambda:${context?.functionName ?? 'unknown'}`, tool: TOOL };
}

/** Account and region the function runs in, from its ARN (`arn:aws:lambda:<region>:<account>:function:<name>`). */
export function placeOf(context: LambdaContext | undefined): { accountId: string | undefined; region: string | undefined } {
  const parts = context?.invokedFunctionArn?.split(':') ?? [];
  return { accountId: parts[4], region: parts[3] };
}

/**
 * Runs one invocation with `case` and `requestId` on every log line, and the Lambda context's keys; the keys
 * are cleared afterwards so the next invocation of a warm container does not inherit them.
 */
export async function withInvocation<T>(logger: Logger, context: LambdaContext | undefined, keys: { case?: string; requestId?: string }, fn: () => Promise<T>): Promise<T> {
  if (context) logger.addContext(context as never);
  logger.appendKeys(Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined)));
  try {
    return await fn();
  } catch (error) {
    logger.error('invocation failed', error as Error);
    throw error;
  } finally {
    logger.resetKeys();
  }
}

/** The retention end for evidence written now, `days` ahead. */
export function retainUntil(days: number, now: Date = new Date()): Date {
  return new Date(now.getTime() + days * 86_400_000);
}
