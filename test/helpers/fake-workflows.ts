/**
 * Cloud Workflows executions answered at the HTTP layer (nock) with the documented workflowexecutions/v1 shapes:
 * executions.create answers an Execution (state ACTIVE) and keeps its labels; executions.list honours a
 * `labels.<key>="<value>"` filter, newest first.
 */
import nock from './nock.ts';

export interface FakeExecution {
  readonly name: string;
  readonly workflow: string;
  readonly argument: unknown;
  readonly labels: Record<string, string>;
}

/** Installs the fake; returns the executions it holds. */
export function fakeWorkflows(): FakeExecution[] {
  const executions: FakeExecution[] = [];
  const scope = nock('https://workflowexecutions.googleapis.com').persist();
  scope.get(/\/v1\/projects\/.+\/executions/).reply(((req: Request) => {
    const url = new URL(req.url);
    const workflow = url.pathname.replace(/^\/v1\//, '').replace(/\/executions$/, '');
    const filter = /^labels\.([a-z0-9_-]+)="([^"]*)"$/.exec(url.searchParams.get('filter') ?? '');
    const found = executions.filter((e) => e.workflow === workflow && (!filter || e.labels[filter[1]!] === filter[2])).reverse();
    return [200, found.length > 0 ? { executions: found.map((e) => ({ name: e.name, state: 'ACTIVE', startTime: '2026-03-14T10:00:00Z', workflowRevisionId: '000001-abc', labels: e.labels })) } : {}];
  }) as never);
  scope.post(/\/v1\/projects\/.+\/executions$/).reply((async (req: Request) => {
    const url = new URL(req.url);
    const workflow = url.pathname.replace(/^\/v1\//, '').replace(/\/executions$/, '');
    const body = JSON.parse(await req.text()) as { argument?: string; labels?: Record<string, string> };
    const name = `${workflow}/executions/${String(executions.length + 1).padStart(8, '0')}-0000-4000-8000-000000000000`;
    executions.push({ name, workflow, argument: JSON.parse(body.argument ?? 'null'), labels: body.labels ?? {} });
    return [200, { name, state: 'ACTIVE', argument: body.argument, startTime: '2026-03-14T10:00:00Z', callLogLevel: 'CALL_LOG_LEVEL_UNSPECIFIED', labels: body.labels }];
  }) as never);
  return executions;
}
