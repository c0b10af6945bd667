/** `amber preserve --cloud azure`: the request POSTed to the function's preserve trigger (a fake on 127.0.0.1). */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const SUB = '11111111-2222-3333-4444-555555555555';
const VM_ID = `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-1`;

let server: Server;
let url: string;
let received: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[];
let answer: { status: number; body: unknown };

beforeEach(async () => {
  received = [];
  answer = { status: 200, body: {} };
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      received.push({ headers: req.headers, body });
      const reply = answer.status === 200 ? { requests: [{ case: body.case, requestId: body.requestId, trigger: 'custom', vms: (body.instanceIds as string[]).map((i) => ({ instanceId: i, status: 'preserved', snapshots: [{}, {}] })) }], ignored: [] } : answer.body;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/preserve`;
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('amber preserve --cloud azure', () => {
  it('refuses with a clear error when the function URL is not configured', async () => {
    const run = await runCli(['preserve', '--cloud', 'azure', '--instance', VM_ID, '--case', 'INC-1', '--region', 'westeurope'], { cwd: await tempDir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not configured');
    expect(run.stderr).toContain('AMBER_AZURE_FUNCTION_URL');
    expect(received).toEqual([]);
  });

  it('POSTs the request with the function key, VMs as <group>:<vm> and the subscription from their ids', async () => {
    const run = await runCli(['preserve', '--cloud', 'azure', '--instance', VM_ID, '--case', 'INC-1', '--region', 'westeurope', '--isolate', '--since', '2026-12-01T00:00:00Z', '--until', '2026-12-01T06:00:00Z'], {
      cwd: await tempDir(),
      env: { AMBER_AZURE_FUNCTION_URL: url, AMBER_AZURE_FUNCTION_KEY: 'k-123' },
    });
    expect(run.code).toBe(0);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['x-functions-key']).toBe('k-123');
    expect(received[0]!.body).toMatchObject({ case: 'INC-1', instanceIds: ['rg-web:vm-web-1'], accountId: SUB, region: 'westeurope', isolate: true, window: { since: '2026-12-01T00:00:00Z', until: '2026-12-01T06:00:00Z' } });
    expect(received[0]!.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.stdout).toContain('rg-web:vm-web-1: preserved, 2 snapshot(s)');
  });

  it('reports the function\'s reason when it refuses the request', async () => {
    answer = { status: 400, body: { error: { code: 'INVALID_INPUT', message: 'invalid preservation request in event "x": region must be an Azure location', hint: 'fix it' } } };
    const run = await runCli(['preserve', '--cloud', 'azure', '--instance', 'rg-web:vm-web-1', '--account', SUB, '--case', 'INC-1', '--region', 'westeurope', '--function-url', url], { cwd: await tempDir(), env: { AMBER_AZURE_FUNCTION_KEY: 'k' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('region must be an Azure location');
  });

  it('refuses a VM given without its group, before sending anything', async () => {
    const run = await runCli(['preserve', '--cloud', 'azure', '--instance', 'vm-web-1', '--account', SUB, '--case', 'INC-1', '--region', 'westeurope', '--function-url', url], { cwd: await tempDir(), env: { AMBER_AZURE_FUNCTION_KEY: 'k' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not an Azure VM reference: "vm-web-1"');
    expect(received).toEqual([]);
  });
});
