/**
 * Lambda handler `start-preservation` (contract: ./contracts.ts). Normalises the triggering event (the
 * `amber` custom event, a GuardDuty finding, a Security Hub custom action) into preservation requests and
 * starts one instance state machine per instance and one log state machine per window. Execution names are
 * derived from the request id, so a duplicated event finds its executions already there (`started: false`).
 */
import { SfnWorkflowStarter } from '../adapters/sfn-workflow-starter.ts';
import { numberVar, positiveIntVar, readEnv } from '../env.ts';
import { createLogger, withInvocation, type LambdaContext } from '../runtime.ts';
import { normaliseTrigger } from '../triggers.ts';
import { startPreservation } from '../../../shared/preservation/request.ts';
import type { StartPreservationOutput } from './contracts.ts';

const env = readEnv('start-preservation');
const config = {
  guardDutyMinSeverity: numberVar('GUARDDUTY_MIN_SEVERITY', env.GUARDDUTY_MIN_SEVERITY, 0, 10),
  defaultWindowHours: positiveIntVar('DEFAULT_LOG_WINDOW_HOURS', env.DEFAULT_LOG_WINDOW_HOURS),
};
const logger = createLogger('start-preservation');
const starter = new SfnWorkflowStarter({ stateMachines: { instance: env.INSTANCE_STATE_MACHINE_ARN, logs: env.LOG_STATE_MACHINE_ARN } });

export const handler = async (event: unknown, context?: LambdaContext): Promise<StartPreservationOutput> =>
  withInvocation(logger, context, {}, async () => {
    const { requests, ignored } = normaliseTrigger(event, config);
    for (const i of ignored) logger.info('finding ignored', { findingId: i.id, reason: i.reason });
    const out: StartPreservationOutput['requests'][number][] = [];
    for (const request of requests) {
      const started = await startPreservation(request, starter);
      const executions = started.executions.map((e) => ({ kind: e.kind, name: e.name, executionArn: e.id, started: e.started }));
      logger.info(executions.some((e) => e.started) ? 'preservation started' : 'preservation already started (duplicate event)', {
        case: request.case,
        requestId: request.requestId,
        trigger: request.trigger,
        executions,
      });
      out.push({ case: started.case, requestId: started.requestId, trigger: started.trigger, executions });
    }
    return { requests: out, ignored };
  });
