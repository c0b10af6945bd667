/**
 * A fake of the SSM Run Command endpoints, as a real HTTP server on 127.0.0.1 (point the SDK at it with
 * AWS_ENDPOINT_URL_SSM or `endpoint`, so its serializer, retries and deserializer all run). Written behaviour:
 * - JSON 1.1 (`X-Amz-Target: AmazonSSM.SendCommand` / `AmazonSSM.GetCommandInvocation`), answers in the
 *   documented shapes: SendCommand `{"Command":{"CommandId", "DocumentName", "InstanceIds", "Status":"Pending",
 *   "OutputS3BucketName", "OutputS3KeyPrefix", ...}}`; GetCommandInvocation `{"CommandId", "InstanceId",
 *   "DocumentName", "PluginName", "ResponseCode", "Status", "StatusDetails", "StandardOutputContent",
 *   "StandardOutputUrl", "StandardErrorContent", "StandardErrorUrl", ...}`;
 * - each instance added with `addInstance` walks through its `states`, one per GetCommandInvocation (the last
 *   state repeats); the very first look answers InvocationDoesNotExist when `lagging` (the documented
 *   eventual consistency right after SendCommand);
 * - when an invocation reaches a final state the fake "uploads" its output through `onOutput(bucket, key, bytes)`
 *   at `<prefix>/<command id>/<instance id>/awsrunShellScript/0.awsrunShellScript/stdout|stderr` (PowerShell:
 *   awsrunPowerShellScript), only for streams that printed something, as the agent does; `run(script)` gives the
 *   output from the script it was sent;
 * - an instance not added answers InvalidInstanceId (HTTP 400): not a managed instance;
 * - `deny()` answers AccessDeniedException to SendCommand; `throttle(n)` answers ThrottlingException n times.
 * `sent` records every SendCommand input.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeInstance {
  readonly states: readonly string[];
  readonly run?: (script: string) => { stdout: string | Buffer; stderr?: string; responseCode?: number };
  readonly lagging?: boolean;
}

interface Invocation {
  readonly instanceId: string;
  readonly commandId: string;
  readonly document: string;
  readonly script: string;
  readonly bucket: string;
  readonly prefix: string;
  looks: number;
  uploaded: boolean;
}

const FINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated']);

export class FakeSsm {
  readonly sent: Record<string, unknown>[] = [];
  readonly requests = { send: 0, get: 0, throttled: 0 };
  onOutput: (bucket: string, key: string, bytes: Buffer) => void | Promise<void> = () => undefined;
  private readonly instances = new Map<string, FakeInstance>();
  private readonly invocations = new Map<string, Invocation>();
  private throttles = 0;
  private denied = false;
  private serial = 0;
  private server: Server | undefined;

  addInstance(id: string, instance: FakeInstance): this {
    this.instances.set(id, instance);
    return this;
  }

  deny(): this {
    this.denied = true;
    return this;
  }

  throttle(n: number): this {
    this.throttles = n;
    return this;
  }

  /** Starts listening on 127.0.0.1; returns the endpoint URL. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, body, type }) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(type ? { 'x-amzn-errortype': type } : {}) });
          res.end(JSON.stringify(body));
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'InternalServerError', message: String(err) }));
        },
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown; type?: string }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    const target = String(req.headers['x-amz-target'] ?? '');
    const error = (status: number, type: string, message: string) => ({ status, type, body: { __type: type, message } });
    if (this.throttles > 0) {
      this.throttles -= 1;
      this.requests.throttled += 1;
      return error(400, 'ThrottlingException', 'Rate exceeded');
    }
    if (target === 'AmazonSSM.SendCommand') {
      this.requests.send += 1;
      this.sent.push(input);
      if (this.denied) return error(400, 'AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/amber is not authorized to perform: ssm:SendCommand');
      const ids = input.InstanceIds as string[];
      const unknown = ids.filter((id) => !this.instances.has(id));
      if (unknown.length > 0) return error(400, 'InvalidInstanceId', 'Instances [[' + unknown.join(', ') + ']] not in a valid state for account 123456789012');
      this.serial += 1;
      const commandId = `${String(this.serial).padStart(8, '0')}-1111-2222-3333-444455556666`;
      const script = ((input.Parameters as Record<string, string[]>).commands ?? []).join('\n');
      for (const id of ids) {
        this.invocations.set(`${commandId}/${id}`, {
          instanceId: id,
          commandId,
          document: String(input.DocumentName),
          script,
          bucket: String(input.OutputS3BucketName ?? ''),
          prefix: String(input.OutputS3KeyPrefix ?? ''),
          looks: 0,
          uploaded: false,
        });
      }
      return {
        status: 200,
        body: {
          Command: {
            CommandId: commandId,
            DocumentName: input.DocumentName,
            DocumentVersion: '$DEFAULT',
            Comment: input.Comment ?? '',
            ExpiresAfter: 1_900_000_000,
            Parameters: input.Parameters,
            InstanceIds: ids,
            Targets: [],
            RequestedDateTime: 1_800_000_000,
            Status: 'Pending',
            StatusDetails: 'Pending',
            OutputS3Region: 'eu-west-1',
            OutputS3BucketName: input.OutputS3BucketName ?? '',
            OutputS3KeyPrefix: input.OutputS3KeyPrefix ?? '',
            MaxConcurrency: '50',
            MaxErrors: '0',
            TargetCount: ids.length,
            CompletedCount: 0,
            ErrorCount: 0,
            DeliveryTimedOutCount: 0,
            TimeoutSeconds: input.TimeoutSeconds ?? 3600,
          },
        },
      };
    }
    if (target === 'AmazonSSM.GetCommandInvocation') {
      this.requests.get += 1;
      const inv = this.invocations.get(`${String(input.CommandId)}/${String(input.InstanceId)}`);
      if (!inv) return error(400, 'InvocationDoesNotExist', '');
      const instance = this.instances.get(inv.instanceId)!;
      inv.looks += 1;
      if (instance.lagging && inv.looks === 1) return error(400, 'InvocationDoesNotExist', '');
      const index = Math.min(inv.looks - (instance.lagging ? 2 : 1), instance.states.length - 1);
      const status = instance.states[index]!;
      const windows = inv.document === 'AWS-RunPowerShellScript';
      const plugin = windows ? 'awsrunPowerShellScript' : 'awsrunShellScript';
      const folder = `${inv.prefix}/${inv.commandId}/${inv.instanceId}/${plugin}/0.${plugin}`;
      const output = FINAL.has(status) && status !== 'Undeliverable' && instance.run ? instance.run(inv.script) : undefined;
      if (output && !inv.uploaded) {
        inv.uploaded = true;
        const stdout = Buffer.from(output.stdout);
        if (stdout.length > 0) await this.onOutput(inv.bucket, `${folder}/stdout`, stdout);
        if (output.stderr) await this.onOutput(inv.bucket, `${folder}/stderr`, Buffer.from(output.stderr));
      }
      const url = (stream: string) => (output && inv.bucket ? `https://s3.eu-west-1.amazonaws.com/${inv.bucket}/${folder}/${stream}` : '');
      return {
        status: 200,
        body: {
          CommandId: inv.commandId,
          InstanceId: inv.instanceId,
          Comment: '',
          DocumentName: inv.document,
          DocumentVersion: '$DEFAULT',
          PluginName: windows ? 'aws:runPowerShellScript' : 'aws:runShellScript',
          ResponseCode: output ? (output.responseCode ?? (status === 'Success' ? 0 : 1)) : -1,
          ExecutionStartDateTime: '',
          ExecutionElapsedTime: '',
          ExecutionEndDateTime: '',
          Status: status,
          StatusDetails: status === 'TimedOut' ? 'ExecutionTimedOut' : status,
          StandardOutputContent: output ? Buffer.from(output.stdout).toString('utf8').slice(0, 24_000) : '',
          StandardOutputUrl: url('stdout'),
          StandardErrorContent: output?.stderr?.slice(0, 8_000) ?? '',
          StandardErrorUrl: url('stderr'),
          CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
        },
      };
    }
    return error(400, 'UnknownOperationException', target);
  }
}
