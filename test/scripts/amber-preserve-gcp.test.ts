/**
 * `amber preserve --cloud gcp`: the request POSTed to the preserveHttp function (a small fake on 127.0.0.1 that
 * answers as the function does), and the errors when it is not configured or the ids are not Google's.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const received: { auth: string | undefined; body: Record<string, unknown> }[] = [];
let server: Server;
let url: string;

const readBody = async (req: IncomingMessage): Promise<string> => {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
};

describe('CLI: amber preserve --cloud gcp', () => {
  beforeAll(async () => {
    server = createServer((req, res) => {
      void readBody(req).then((text) => {
        const body = JSON.parse(text) as { detail: { case: string; requestId: string } };
        received.push({ auth: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ requests: [{ case: body.detail.case, requestId: body.detail.requestId, executions: [{ kind: 'instance', name: 'n', id: 'projects/amber-evidence/locations/europe-west1/workflows/amber-instance/executions/e1', started: true }] }], ignored: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts the Preservation Requested JSON with the ID token and prints the started workflow', async () => {
    // Act
    const run = await runCli(['preserve', '--cloud', 'gcp', '--account', 'amber-demo-prod', '--region', 'europe-west1-b', '--instance', 'web-1', '--case', 'INC-G1', '--since', '2026-03-01T00:00:00Z', '--until', '2026-03-01T06:00:00Z', '--json'], { cwd: process.cwd(), env: { AMBER_GCP_PRESERVE_URL: url, AMBER_GCP_ID_TOKEN: 'id-token-1' } });

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(received.at(-1)?.auth).toBe('Bearer id-token-1');
    expect(received.at(-1)?.body).toMatchObject({ source: 'amber', 'detail-type': 'Preservation Requested', detail: { case: 'INC-G1', accountId: 'amber-demo-prod', region: 'europe-west1-b', instanceIds: ['web-1'], window: { since: '2026-03-01T00:00:00Z', until: '2026-03-01T06:00:00Z' }, isolate: false } });
    expect(JSON.parse(run.stdout).executions[0].id).toMatch(/workflows\/amber-instance\/executions\/e1$/);
  });

  it('sends the log sink it is given with the window, and refuses one without a window or outside Cloud Storage', async () => {
    // Act
    const run = await runCli(['preserve', '--cloud', 'gcp', '--account', 'amber-demo-prod', '--region', 'europe-west1-b', '--instance', 'web-1', '--case', 'INC-G4', '--since', '2026-03-01T00:00:00Z', '--until', '2026-03-01T06:00:00Z', '--log-sink', 'gs://audit-sink/cloudaudit.googleapis.com', '--json'], { cwd: process.cwd(), env: { AMBER_GCP_PRESERVE_URL: url, AMBER_GCP_ID_TOKEN: 'id-token-1' } });
    const sent = received.length;
    const noWindow = await runCli(['preserve', '--cloud', 'gcp', '--account', 'amber-demo-prod', '--region', 'europe-west1-b', '--instance', 'web-1', '--case', 'INC-G5', '--log-sink', 'gs://audit-sink'], { cwd: process.cwd(), env: { AMBER_GCP_PRESERVE_URL: url, AMBER_GCP_ID_TOKEN: 'id-token-1' } });
    const s3 = await runCli(['preserve', '--cloud', 'gcp', '--account', 'amber-demo-prod', '--region', 'europe-west1-b', '--instance', 'web-1', '--case', 'INC-G6', '--since', '2026-03-01T00:00:00Z', '--until', '2026-03-01T06:00:00Z', '--log-sink', 's3://audit-sink'], { cwd: process.cwd(), env: { AMBER_GCP_PRESERVE_URL: url, AMBER_GCP_ID_TOKEN: 'id-token-1' } });
    const aws = await runCli(['preserve', '--instance', 'i-0123456789abcdef0', '--case', 'INC-G7', '--log-sink', 'gs://audit-sink'], { cwd: process.cwd(), env: {} });

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(received.at(-1)?.body).toMatchObject({ detail: { case: 'INC-G4', window: { since: '2026-03-01T00:00:00Z', until: '2026-03-01T06:00:00Z' }, logSink: 'gs://audit-sink/cloudaudit.googleapis.com' } });
    expect(received).toHaveLength(sent);
    expect([noWindow.code, s3.code, aws.code]).toEqual([2, 2, 2]);
    expect(noWindow.stderr).toContain('--log-sink needs --since and --until');
    expect(s3.stderr).toContain('--log-sink is not a Cloud Storage location');
    expect(aws.stderr).toContain('--log-sink is for --cloud gcp');
  });

  it('fails with exit 2 and the fix when AMBER_GCP_PRESERVE_URL is not set', async () => {
    // Act
    const run = await runCli(['preserve', '--cloud', 'gcp', '--account', 'amber-demo-prod', '--region', 'europe-west1-b', '--instance', 'web-1', '--case', 'INC-G2'], { cwd: process.cwd(), env: {} });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('amber preserve --cloud gcp is not configured: AMBER_GCP_PRESERVE_URL is not set');
    expect(run.stderr).toContain('preserve_url');
  });

  it('names a zone and an instance name that are not Google\'s, sending nothing', async () => {
    // Prepare
    const before = received.length;

    // Act
    const run = await runCli(['preserve', '--cloud', 'gcp', '--account', 'amber-demo-prod', '--region', 'eu-west-1', '--instance', 'Web_1', '--case', 'INC-G3'], { cwd: process.cwd(), env: { AMBER_GCP_PRESERVE_URL: url, AMBER_GCP_ID_TOKEN: 't' } });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--region is not a Compute Engine zone: "eu-west-1"');
    expect(run.stderr).toContain('not a Compute Engine instance name: "Web_1"');
    expect(received.length).toBe(before);
  });
});
