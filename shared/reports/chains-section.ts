/**
 * The report's first section: the attack chains (shared/detections/chains.ts), the story before the list of
 * findings. Every string from the logs goes through escapeHtml; the section is bounded like every listing.
 */
import { attackChains, tacticLabel, type AttackChain, type ChainStep } from '../detections/chains.ts';
import type { Finding } from '../detections/run.ts';
import { escapeHtml as h } from '../text/escape.ts';
import { counted } from '../text/plural.ts';

/** Chains shown, steps shown per stage, characters shown of one field; the rest is in `amber detect --json`. */
export const CHAIN_LIMITS = { chains: 20, stepsPerStage: 20, fieldChars: 200 } as const;

function clip(value: string | null): string {
  const v = value ?? '';
  return v.length > CHAIN_LIMITS.fieldChars ? `${h(v.slice(0, CHAIN_LIMITS.fieldChars))}…` : h(v);
}

function stepItem(s: ChainStep): string {
  return `<li><span class="when">${clip(s.time ?? '?')}</span> <strong>${h(s.title)}</strong> <span class="sev-${h(s.severity)}">${h(s.severity)}</span>${s.outcome === 'failure' ? ' <span class="failed">failed attempt</span>' : ''}<br><code>${clip(s.actor)}</code> ${clip(s.action)}${s.target ? ` &rarr; <code>${clip(s.target)}</code>` : ''}${s.source_ip ? ` from ${clip(s.source_ip)}` : ''} <span class="evidence">[${s.mitre.map(h).join(' ')}] evidence <code>${h(s.evidence.key)}</code> record ${s.evidence.record ?? '?'} <code class="hash">sha256 ${h(s.evidence.sha256 ?? 'unknown')}</code></span></li>`;
}

function chainBlock(c: AttackChain): string {
  const stages = c.stages
    .map((s) => {
      const shown = s.steps.slice(0, CHAIN_LIMITS.stepsPerStage);
      const more = s.steps.length - shown.length;
      return `<li class="stage"><h4>${h(tacticLabel(s.tactic))}</h4><ol class="steps">${shown.map(stepItem).join('')}</ol>${more > 0 ? `<p class="more">and ${counted(more, 'more step')}</p>` : ''}</li>`;
    })
    .join('');
  return `<div class="chain"><h3>${c.by === 'identity' ? 'Identity' : 'Source address'} <code>${clip(c.subject)}</code></h3><p class="meta-dark">${counted(c.findings, 'finding')} in ${counted(c.stages.length, 'stage')}, ${clip(c.first_time ?? '?')} to ${clip(c.last_time ?? '?')}</p><ol class="stages">${stages}</ol></div>`;
}

/** The section, or a sentence saying there is no chain when no finding names an identity or address. */
export function chainsSection(caseName: string, findings: readonly Finding[]): string {
  const chains = attackChains(findings);
  const shown = chains.slice(0, CHAIN_LIMITS.chains);
  return `<section id="chains">
  <h2>Attack chains</h2>
  <p class="meta-dark">The findings per identity and per source address, in ATT&amp;CK tactic order (reconnaissance, initial access, execution, persistence, privilege escalation, defense evasion, credential access, discovery, lateral movement, collection, command and control, exfiltration, impact); steps in time order within each stage, each with the evidence it rests on.</p>
  ${chains.length === 0 ? '<p>No finding names an identity or a source address.</p>' : shown.map(chainBlock).join('\n')}
  ${chains.length > shown.length ? `<p class="more">and ${counted(chains.length - shown.length, 'more chain')}: <code>amber detect --case ${h(caseName)} --json</code> lists every one.</p>` : ''}
</section>`;
}
