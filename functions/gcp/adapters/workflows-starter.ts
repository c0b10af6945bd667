/**
 * The WorkflowStarter port on Cloud Workflows (workflowexecutions/v1). Workflows gives executions no caller-chosen
 * name, so the deterministic name goes into a label (`amber-execution`, a hash of the name: label values hold at
 * most 63 lowercase characters) and a start first lists the executions carrying it: one already there (running or
 * finished) means this request was started before, reported as `started: false`. Waiting for snapshots happens in
 * the workflow (sys.sleep between checks), never in a polling function.
 */
import { InvalidInputError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import type { WorkflowKind, WorkflowStart, WorkflowStarted, WorkflowStarter } from '../../../shared/ports/workflow-starter.ts';
import { GoogleRest, type GoogleRestOptions } from './google-rest.ts';

const EXECUTIONS = 'https://workflowexecutions.googleapis.com/v1';
const WORKFLOW = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/locations\/[a-z0-9-]+\/workflows\/[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export interface WorkflowsStarterOptions extends GoogleRestOptions {
  /** Full workflow name per kind: `projects/<p>/locations/<l>/workflows/<w>`. */
  readonly workflows: Readonly<Record<WorkflowKind, string>>;
  readonly rest?: GoogleRest;
}

interface Execution {
  readonly name?: string;
  readonly state?: string;
}

/** The label value that stands for an execution name. */
export function executionLabel(name: string): string {
  return `x${sha256Hex(name).slice(0, 40)}`;
}

/** Cloud Workflows as the WorkflowStarter. */
export class WorkflowsStarter implements WorkflowStarter {
  private readonly rest: GoogleRest;

  constructor(private readonly options: WorkflowsStarterOptions) {
    this.rest = options.rest ?? new GoogleRest(options);
  }

  async start(request: WorkflowStart): Promise<WorkflowStarted> {
    const workflow = this.options.workflows[request.kind];
    if (!workflow || !WORKFLOW.test(workflow)) {
      throw new InvalidInputError(`no valid workflow name for ${request.kind} preservation: ${JSON.stringify(workflow)}`, {
        hint: 'set INSTANCE_WORKFLOW and LOG_WORKFLOW to projects/<project>/locations/<region>/workflows/<name> (infra/gcp outputs them)',
      });
    }
    const label = executionLabel(request.name);
    const filter = encodeURIComponent(`labels.amber-execution="${label}"`);
    const existing = await this.rest.call<{ executions?: Execution[] }>(`${EXECUTIONS}/${workflow}/executions?filter=${filter}&pageSize=1`, {
      call: 'workflowexecutions.executions.list',
      resource: workflow,
    });
    const first = existing.body.executions?.[0];
    if (first?.name) return { kind: request.kind, name: request.name, id: first.name, started: false };
    const created = await this.rest.call<Execution>(`${EXECUTIONS}/${workflow}/executions`, {
      call: 'workflowexecutions.executions.create',
      resource: workflow,
      method: 'POST',
      body: { argument: JSON.stringify(request.input), labels: { 'amber-execution': label } },
    });
    return { kind: request.kind, name: request.name, id: created.body.name ?? `${workflow}/executions/?`, started: true };
  }
}
