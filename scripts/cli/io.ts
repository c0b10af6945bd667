/** The CLI's I/O, injected so tests can watch what a command prints. */
import { escapeTerminal, terminalSafeText } from '../../shared/text/escape.ts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (progress bars only then). */
  readonly interactive: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/**
 * Text for standard output, terminal or pipe alike (`amber timeline | less -R` reaches a terminal too):
 * control and bidi characters become `\uXXXX`, which JSON parses back to the same value and a person reads
 * as a visible escape; line feeds and tabs keep their meaning. Files written with --out keep their exact bytes.
 */
export const terminalSafe = terminalSafeText;

/** The one stdout writer: every text goes out terminal-safe (idempotent: safe text passes unchanged). */
export function stdoutWriter(write: (text: string) => unknown): (text: string) => void {
  return (text) => void write(terminalSafe(text));
}

/** The real process I/O. */
export function processIo(): Io {
  return {
    out: stdoutWriter((text) => process.stdout.write(text)),
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
