/** Runs the CLI in-process with captured output. */
import { main } from '../../scripts/amber.ts';
import type { Io } from '../../scripts/cli/io.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `amber <args>` with the given working directory and environment. */
export async function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    interactive: false,
    env: { AMBER_ACTOR: 'analyst@test', ...options.env },
    cwd: options.cwd,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
