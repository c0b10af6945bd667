/** The CLI's I/O, injected so tests can watch what a command prints. */
import { escapeTerminal, escapeTerminalLines } from '../../shared/text/escape.ts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (progress bars only then). */
  readonly interactive: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/**
 * A stdout writer: on a terminal, log-derived text (JSON, CSV, timelines) is made terminal-safe at this one
 * place, line breaks kept; to a file or a pipe the bytes go out exactly, as exported and hashed.
 */
export function stdoutWriter(isTerminal: boolean, write: (text: string) => unknown): (text: string) => void {
  return isTerminal ? (text) => void write(escapeTerminalLines(text)) : (text) => void write(text);
}

/** The real process I/O. */
export function processIo(): Io {
  return {
    out: stdoutWriter(Boolean(process.stdout.isTTY), (text) => process.stdout.write(text)),
    err: (t) => process.stderr.write(t),
    interactive: Boolean(process.stderr.isTTY) && process.env.CI !== 'true',
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Terminal-safe text (see escapeTerminal). */
export const t = escapeTerminal;

/** Human-readable byte count. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** A one-line progress bar on stderr, redrawn at most ten times a second. */
export class ProgressBar {
  private last = 0;
  private drawn = false;

  constructor(
    private readonly io: Io,
    private readonly label: string,
  ) {}

  update(done: number, total: number | undefined, suffix: string): void {
    if (!this.io.interactive) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const width = 24;
    const bar = total ? '#'.repeat(Math.round((Math.min(done, total) / total) * width)).padEnd(width, '.') : '';
    const line = `${this.label} ${total ? `[${bar}] ` : ''}${suffix}`;
    this.io.err(`\r\x1b[2K${t(line).slice(0, 150)}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.io.err('\r\x1b[2K');
  }
}
