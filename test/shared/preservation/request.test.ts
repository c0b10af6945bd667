import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/errors.ts';
import type { WorkflowStart, WorkflowStarted, WorkflowStarter } from '../../../shared/ports/workflow-starter.ts';
import {
  caseNameFrom,
  executionName,
  requestSlug,
  startPreservation,
  validatePreservationRequest,
  type PreservationRequest,
} from '../../../shared/preservation/request.ts';

const REQUEST: PreservationRequest = {
  case: 'INC-7',
  accountId: '111122223333',
  region: 'eu-west-1',
  instanceIds: ['i-0123456789abcdef0', 'i-0fedcba9876543210'],
  window: { since: '2026-03-01T00:00:00Z', until: '2026-03-02T00:00:00Z' },
  isolate: false,
  requestId: '6f1c2a9e-7e55-4a43-9d0e-2b9d5e6f4c11',
  trigger: 'custom',
};

/** A starter that remembers names, as Step Functions does: a name used before is not started again. */
class NameRememberingStarter implements WorkflowStarter {
  readonly seen = new Map<string, WorkflowStart>();
  async start(request: WorkflowStart): Promise<WorkflowStarted> {
    const started = !this.seen.has(request.name);
    if (started) this.seen.set(request.name, request);
    return { kind: request.kind, name: request.name, id: `exec:${request.name}`, started };
  }
}

describe('Function: validatePreservationRequest', () => {
  it('accepts a complete request', () => {
    // Act / Assess
    expect(validatePreservationRequest(REQUEST)).toBe(REQUEST);
  });

  it('throws one InvalidInputError listing every problem', () => {
    // Prepare
    const bad = { ...REQUEST, case: '../x', instanceIds: ['i-1', 'i-1'], window: { since: '2026-03-02T00:00:00Z', until: '2026-03-01T00:00:00Z' } };

    // Act
    const validating = () => validatePreservationRequest(bad);

    // Assess
    expect(validating).toThrow(InvalidInputError);
    expect(validating).toThrow(/invalid case name.*lists an instance twice.*must be before window.until/);
  });

  it('refuses a request with nothing to preserve', () => {
    // Act / Assess
    expect(() => validatePreservationRequest({ ...REQUEST, instanceIds: [], window: undefined })).toThrow(/nothing to preserve/);
  });

  it('accepts exportVhd true or false, refuses anything else, and passes it to each instance task', async () => {
    // Prepare
    const starter = new NameRememberingStarter();

    // Act
    await startPreservation({ ...REQUEST, exportVhd: true }, starter);

    // Assess
    expect([...starter.seen.values()].filter((s) => s.kind === 'instance').map((s) => (s.input as { exportVhd?: unknown }).exportVhd)).toEqual([true, true]);
    expect(validatePreservationRequest({ ...REQUEST, exportVhd: false }).exportVhd).toBe(false);
    expect(() => validatePreservationRequest({ ...REQUEST, exportVhd: 'yes' as unknown as boolean })).toThrow(/exportVhd must be true or false, got "yes"/);
  });
});

describe('Function: caseNameFrom', () => {
  it('keeps a GuardDuty finding id as it is', () => {
    expect(caseNameFrom('gd', '5ec3b1a2c4e5f60718293a4b5c6d7e8f')).toBe('gd-5ec3b1a2c4e5f60718293a4b5c6d7e8f');
  });

  it('makes a Security Hub ARN id a valid case name that still tells findings apart', () => {
    // Prepare
    const a = 'arn:aws:securityhub:eu-west-1:111122223333:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.19/finding/8b5b2b0c-1111';
    const b = 'arn:aws:securityhub:eu-west-1:111122223333:subscription/cis/v/1.2.0/4.1/finding/8b5b2b0c-1111';

    // Act
    const [ca, cb] = [caseNameFrom('sh', a), caseNameFrom('sh', b)];

    // Assess
    expect(ca).toMatch(/^sh-8b5b2b0c-1111-[0-9a-f]{12}$/);
    expect(ca).not.toBe(cb);
  });
});

describe('Function: executionName', () => {
  it('is deterministic, at most 80 characters, and only of characters Step Functions allows', () => {
    // Act
    const name = executionName('a'.repeat(128), 'i-0123456789abcdef0', REQUEST.requestId);

    // Assess
    expect(name).toBe(executionName('a'.repeat(128), 'i-0123456789abcdef0', REQUEST.requestId));
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('differs by subject and by request', () => {
    expect(executionName('C', 'i-1', 'r1')).not.toBe(executionName('C', 'i-2', 'r1'));
    expect(executionName('C', 'i-1', 'r1')).not.toBe(executionName('C', 'i-1', 'r2'));
  });
});

describe('Function: requestSlug', () => {
  it('keeps a safe request id and hashes one with separators', () => {
    expect(requestSlug(REQUEST.requestId)).toBe(REQUEST.requestId);
    expect(requestSlug('a/b/../c')).toMatch(/^r-[0-9a-f]{32}$/);
  });
});

describe('Function: startPreservation', () => {
  it('starts one instance workflow per instance and one log workflow', async () => {
    // Prepare
    const starter = new NameRememberingStarter();

    // Act
    const started = await startPreservation(REQUEST, starter);

    // Assess
    expect(started.executions.map((e) => [e.kind, e.started])).toEqual([
      ['instance', true],
      ['instance', true],
      ['logs', true],
    ]);
    expect(starter.seen.get(started.executions[2]!.name)!.input).toEqual({
      case: 'INC-7',
      requestId: REQUEST.requestId,
      accounts: ['111122223333'],
      regions: ['eu-west-1'],
      since: '2026-03-01T00:00:00Z',
      until: '2026-03-02T00:00:00Z',
    });
  });

  it('starts nothing new for the same request delivered twice', async () => {
    // Prepare
    const starter = new NameRememberingStarter();
    await startPreservation(REQUEST, starter);

    // Act
    const again = await startPreservation(REQUEST, starter);

    // Assess
    expect(again.executions.every((e) => !e.started)).toBe(true);
    expect(starter.seen.size).toBe(3);
  });

  it('starts no log workflow without a window', async () => {
    // Prepare
    const starter = new NameRememberingStarter();

    // Act
    const started = await startPreservation({ ...REQUEST, window: undefined }, starter);

    // Assess
    expect(started.executions.map((e) => e.kind)).toEqual(['instance', 'instance']);
  });
});
