/**
 * Reads the output of the volatile triage scripts (linux.sh, windows.ps1 beside this file): sections framed by
 * `=== amber-section NAME begin ===` and `=== amber-section NAME end rc=N ===`, closed by
 * `=== amber-triage complete ===`. Parsing never changes the preserved bytes; it only says what they hold.
 */
import { readFile } from 'node:fs/promises';
import { sha256Hex } from '../../evidence/hashing.ts';
import type { ScriptPlatform } from '../../ports/remote-command.ts';

/** The sections every triage script prints, in order. */
export const TRIAGE_SECTIONS = ['host', 'processes', 'process-executables', 'network', 'users', 'scheduled', 'histories', 'kernel-modules'] as const;

export interface TriageSection {
  readonly name: string;
  /** 1-based line of the `begin` marker. */
  readonly line: number;
  readonly text: string;
  /** The section's exit status, or undefined when its `end` marker is missing (output cut short). */
  readonly rc?: number;
}

export interface TriageOutput {
  readonly sections: readonly TriageSection[];
  /** True when the closing marker was printed: the script ran to its end. */
  readonly complete: boolean;
  /** Problems met while reading, each naming its line (a section never closed, text outside any section). */
  readonly problems: readonly string[];
}

const BEGIN = /^=== amber-section ([a-z-]+) begin ===\r?$/;
const END = /^=== amber-section ([a-z-]+) end rc=(-?\d+) ===\r?$/;
const COMPLETE = /^=== amber-triage complete ===\r?$/;

/** Splits triage output into its sections. */
export function parseTriageOutput(text: string): TriageOutput {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const sections: TriageSection[] = [];
  const problems: string[] = [];
  let open: { name: string; line: number; body: string[] } | undefined;
  let complete = false;
  for (const [i, raw] of lines.entries()) {
    const n = i + 1;
    const begin = BEGIN.exec(raw);
    const end = END.exec(raw);
    if (begin) {
      if (open) {
        problems.push(`line ${n}: section ${open.name} (line ${open.line}) was never closed`);
        sections.push({ name: open.name, line: open.line, text: open.body.join('\n') });
      }
      open = { name: begin[1]!, line: n, body: [] };
    } else if (end && open && end[1] === open.name) {
      sections.push({ name: open.name, line: open.line, text: open.body.join('\n'), rc: Number(end[2]) });
      open = undefined;
    } else if (open) {
      open.body.push(raw);
    } else if (COMPLETE.test(raw)) {
      complete = true;
    } else if (raw.trim() !== '') {
      problems.push(`line ${n}: text outside any section`);
    }
  }
  if (open) {
    problems.push(`end of output: section ${open.name} (line ${open.line}) was never closed (output cut short)`);
    sections.push({ name: open.name, line: open.line, text: open.body.join('\n') });
  }
  if (!complete) problems.push('end of output: the closing marker is missing (the script did not run to its end)');
  return { sections, complete, problems };
}

/** A triage script as shipped: its name, bytes and SHA-256. */
export interface TriageScript {
  readonly name: string;
  readonly platform: ScriptPlatform;
  readonly bytes: Buffer;
  readonly sha256: string;
}

/** Loads the triage script of a platform from beside this file. */
export async function triageScript(platform: ScriptPlatform): Promise<TriageScript> {
  const name = platform === 'linux' ? 'linux.sh' : 'windows.ps1';
  const bytes = await readFile(new URL(`./${name}`, import.meta.url));
  return { name, platform, bytes, sha256: sha256Hex(bytes) };
}
