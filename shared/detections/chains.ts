/**
 * Attack chains: the findings told as a story. Findings are grouped per identity (the person or workload behind
 * the actor, as the timeline correlates it) and per source address, and each group's findings are placed in
 * ATT&CK tactic stages in kill-chain order (reconnaissance, initial access, execution, ... impact); inside a
 * stage, steps run in time order. Every step keeps its evidence (object key, record index, SHA-256).
 *
 * A finding's stage is the earliest, in that order, of the tactics ATT&CK lists for its techniques: Valid
 * Accounts (T1078) is initial access as well as persistence, and the story starts where the technique can.
 * Techniques not in TECHNIQUE_TACTICS go to an `unmapped` stage at the end, never dropped.
 */
import { escapeTerminal as t } from '../text/escape.ts';
import { counted } from '../text/plural.ts';
import { identityOf } from '../timeline/timeline.ts';
import type { Finding } from './run.ts';

/** ATT&CK tactics in kill-chain order (Enterprise, with the ICS-only tactics before impact), then `unmapped`. */
export const TACTICS = [
  'reconnaissance', 'resource-development', 'initial-access', 'execution', 'persistence', 'privilege-escalation', 'defense-evasion',
  'credential-access', 'discovery', 'lateral-movement', 'collection', 'command-and-control', 'exfiltration',
  'inhibit-response-function', 'impair-process-control', 'impact', 'unmapped',
] as const;
export type Tactic = (typeof TACTICS)[number];

const IA = 'initial-access', EX = 'execution', PE = 'persistence', PR = 'privilege-escalation', DE = 'defense-evasion', CA = 'credential-access';
const DI = 'discovery', LM = 'lateral-movement', CO = 'collection', C2 = 'command-and-control', XF = 'exfiltration', IM = 'impact';

/** The tactics ATT&CK lists for each technique the catalogue (and common cloud Sigma rules) cite. */
export const TECHNIQUE_TACTICS: Readonly<Record<string, readonly Tactic[]>> = {
  T1021: [LM], 'T1021.001': [LM], 'T1021.004': [LM], T1029: [XF], T1040: [CA, DI], T1041: [XF], T1046: [DI], T1048: [XF], T1070: [DE],
  T1071: [C2], T1078: [IA, PE, PR, DE], 'T1078.004': [IA, PE, PR, DE], 'T1087.004': [DI], T1098: [PE, PR], 'T1098.001': [PE, PR],
  'T1098.003': [PE, PR], 'T1098.004': [PE, PR], T1110: [CA], 'T1110.001': [CA], 'T1110.003': [CA], 'T1110.004': [CA], 'T1114.002': [CO],
  'T1114.003': [CO], T1119: [CO], T1133: [IA, PE], T1136: [PE], 'T1136.003': [PE], T1190: [IA], T1213: [CO], 'T1213.002': [CO], T1485: [IM],
  T1490: [IM], T1496: [IM], T1499: [IM], 'T1499.003': [IM], T1525: [PE], T1526: [DI], T1528: [CA], T1530: [CO], T1535: [DE], T1537: [XF],
  T1546: [PR, PE], 'T1550.001': [DE, LM], T1552: [CA], 'T1552.005': [CA], 'T1555.006': [CA], T1562: [DE], 'T1562.001': [DE], 'T1562.007': [DE],
  'T1562.008': [DE], 'T1564.008': [DE], T1567: [XF], T1573: [C2], T1578: [DE], T1580: [DI], 'T1595.001': ['reconnaissance'], T1619: [DI],
  T1648: [EX], T1651: [EX], T1666: [DE, PR],
  'T1059.009': [EX], 'T1087.003': [DI], T1486: [IM], T1556: [CA, DE, PE], T1564: [DE],
  // ATT&CK for ICS (the IoT and MQTT detections).
  T0801: [CO], T0803: ['inhibit-response-function'], T0814: ['inhibit-response-function'], T0815: [IM], T0816: ['inhibit-response-function'],
  T0827: [IM], T0830: [CO], T0831: [IM], T0832: [IM], T0842: [DI], T0848: [IA], T0849: [DE], T0855: ['impair-process-control'], T0859: [PE, LM],
  T0861: [CO], T0883: [IA], T0886: [IA, LM],
};

/** One finding as a step of a chain, with the evidence it rests on. */
export interface ChainStep {
  readonly time: string | null;
  readonly detection: string;
  readonly title: string;
  readonly severity: Finding['severity'];
  readonly mitre: readonly string[];
  readonly actor: string | null;
  readonly source_ip: string | null;
  readonly action: string | null;
  readonly target: string | null;
  readonly outcome: Finding['outcome'];
  readonly evidence: { readonly key: string; readonly record: number | null; readonly sha256: string | null };
}

export interface ChainStage {
  readonly tactic: Tactic;
  /** Earliest step time in the stage. */
  readonly first_time: string | null;
  readonly steps: readonly ChainStep[];
}

export interface AttackChain {
  /** What the findings share: the identity (e-mail or actor) or the source address. */
  readonly by: 'identity' | 'source_ip';
  readonly subject: string;
  readonly first_time: string | null;
  readonly last_time: string | null;
  readonly findings: number;
  readonly stages: readonly ChainStage[];
}

const RANK = new Map<string, number>(TACTICS.map((tactic, i) => [tactic, i]));

/** The stage of a finding: the earliest tactic of its techniques (a sub-technique falls back to its parent). */
export function stageOf(mitre: readonly string[]): Tactic {
  let best: Tactic = 'unmapped';
  for (const id of mitre) {
    for (const tactic of TECHNIQUE_TACTICS[id] ?? TECHNIQUE_TACTICS[id.split('.')[0]!] ?? []) {
      if (RANK.get(tactic)! < RANK.get(best)!) best = tactic;
    }
  }
  return best;
}

const cmp = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);

/** Total order of steps: time, then detection, evidence key, record, then the remaining fields. */
function compareSteps(a: ChainStep, b: ChainStep): number {
  return (
    cmp(a.time, b.time) ||
    cmp(a.detection, b.detection) ||
    cmp(a.evidence.key, b.evidence.key) ||
    (a.evidence.record ?? -1) - (b.evidence.record ?? -1) ||
    cmp(JSON.stringify([a.actor, a.source_ip, a.action, a.target, a.outcome]), JSON.stringify([b.actor, b.source_ip, b.action, b.target, b.outcome]))
  );
}

function stepOf(f: Finding): ChainStep {
  return {
    time: f.first_time ?? f.event_time,
    detection: f.detection,
    title: f.title,
    severity: f.severity,
    mitre: f.mitre,
    actor: f.actor,
    source_ip: f.source_ip,
    action: f.action,
    target: f.target,
    outcome: f.outcome,
    evidence: { key: f.evidence_key, record: f.evidence_record, sha256: f.evidence_sha256 },
  };
}

function chainOf(by: AttackChain['by'], subject: string, findings: readonly Finding[]): AttackChain {
  const stages = new Map<Tactic, ChainStep[]>();
  for (const f of findings) {
    const tactic = stageOf(f.mitre);
    const list = stages.get(tactic);
    if (list) list.push(stepOf(f));
    else stages.set(tactic, [stepOf(f)]);
  }
  const ordered = [...stages.entries()]
    .sort(([a], [b]) => RANK.get(a)! - RANK.get(b)!)
    .map(([tactic, steps]) => {
      steps.sort(compareSteps);
      return { tactic, first_time: steps.find((s) => s.time !== null)?.time ?? null, steps };
    });
  const times = findings.flatMap((f) => [f.first_time ?? f.event_time, f.last_time ?? f.event_time]).filter((x): x is string => x !== null).sort();
  return { by, subject, first_time: times[0] ?? null, last_time: times.at(-1) ?? null, findings: findings.length, stages: ordered };
}

/**
 * The chains of a run's findings: one per identity and one per source address that has findings. Chains that
 * cross more stages come first, then more findings, then earlier, then by subject: the same findings give the
 * same chains, byte for byte, whatever order they arrive in.
 */
export function attackChains(findings: readonly Finding[]): AttackChain[] {
  const groups = new Map<string, { by: AttackChain['by']; subject: string; findings: Finding[] }>();
  const add = (by: AttackChain['by'], subject: string | null, f: Finding): void => {
    if (subject === null || subject === '') return;
    const key = `${by}\u0000${subject}`;
    const g = groups.get(key);
    if (g) g.findings.push(f);
    else groups.set(key, { by, subject, findings: [f] });
  };
  for (const f of findings) {
    add('identity', identityOf(f.actor), f);
    add('source_ip', f.source_ip, f);
  }
  return [...groups.values()]
    .map((g) => chainOf(g.by, g.subject, g.findings))
    .sort((a, b) => b.stages.length - a.stages.length || b.findings - a.findings || cmp(a.first_time, b.first_time) || cmp(a.by, b.by) || cmp(a.subject, b.subject));
}

/** The tactic as people read it: "initial access". */
export function tacticLabel(tactic: Tactic): string {
  return tactic.replaceAll('-', ' ');
}

/** The chains for a terminal: the first `max` chains, every log-derived string escaped. */
export function describeChains(chains: readonly AttackChain[], max = 10): string {
  if (chains.length === 0) return '';
  const lines = [`Attack chains (${counted(chains.length, 'chain')}; findings per identity and per source address in ATT&CK tactic order):`];
  for (const c of chains.slice(0, max)) {
    lines.push(`  ${c.by === 'identity' ? 'identity' : 'address'} ${t(c.subject)}: ${counted(c.findings, 'finding')}, ${c.first_time ?? '?'} .. ${c.last_time ?? '?'}`);
    for (const s of c.stages) {
      lines.push(`    ${tacticLabel(s.tactic)}`);
      for (const step of s.steps) {
        lines.push(`      ${t(step.time ?? '?')}  ${t(step.title)}  ${t(step.action ?? '')}${step.target ? ` -> ${t(step.target)}` : ''}  [${t(step.evidence.key)} record ${step.evidence.record ?? '?'}]`);
      }
    }
  }
  if (chains.length > max) lines.push(`  ... ${chains.length - max} more chains in --json`);
  return `${lines.join('\n')}\n`;
}
