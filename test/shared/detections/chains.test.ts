import { describe, expect, it } from 'vitest';
import { attackChains, describeChains, stageOf, TECHNIQUE_TACTICS } from '../../../shared/detections/chains.ts';
import { loadCatalogue } from '../../../shared/detections/catalogue.ts';
import { UNENRICHED, type Finding } from '../../../shared/detections/run.ts';
import { ANALYTICS } from '../../../shared/analytics/index.ts';

const finding = (over: Partial<Finding>): Finding => ({
  detection: 'd', title: 'T', severity: 'high', mitre: ['T1078.004'], event_time: '2026-01-01T00:00:00Z', actor: 'arn:aws:iam::1:user/alice', source_ip: '203.0.113.9', action: 'A', target: null, detail: null,
  first_time: null, last_time: null, records: 1, repeats: 1, ...UNENRICHED, evidence_key: 'k', evidence_record: 0, evidence_sha256: 'aa', ...over,
});

describe('Function: attackChains', () => {
  const story = [
    finding({ detection: 'exfil', mitre: ['T1537'], event_time: '2026-01-01T00:50:00Z', evidence_record: 5 }),
    finding({ detection: 'login', mitre: ['T1078.004'], event_time: '2026-01-01T00:10:00Z', evidence_record: 1 }),
    finding({ detection: 'trail-off', mitre: ['T1562.008'], event_time: '2026-01-01T00:20:00Z', evidence_record: 2 }),
    finding({ detection: 'keys', mitre: ['T1098.001'], event_time: '2026-01-01T00:15:00Z', evidence_record: 3, actor: 'arn:aws:sts::1:assumed-role/r/alice@corp.example', source_ip: '198.51.100.1' }),
    finding({ detection: 'recon', mitre: ['T1580'], event_time: '2026-01-01T00:12:00Z', evidence_record: 4 }),
  ];

  it('places each finding in its earliest ATT&CK tactic and orders stages by the kill chain', () => {
    const chain = attackChains(story).find((c) => c.by === 'identity' && c.subject === 'arn:aws:iam::1:user/alice')!;
    expect(chain.stages.map((s) => s.tactic)).toEqual(['initial-access', 'defense-evasion', 'discovery', 'exfiltration']);
    expect(chain.stages[0]!.steps[0]!.evidence).toEqual({ key: 'k', record: 1, sha256: 'aa' });
    expect(chain).toMatchObject({ first_time: '2026-01-01T00:10:00Z', last_time: '2026-01-01T00:50:00Z', findings: 4 });
  });

  it('groups by correlated identity and by source address', () => {
    const chains = attackChains(story);
    expect(chains.map((c) => `${c.by}:${c.subject}`).sort()).toEqual(['identity:alice@corp.example', 'identity:arn:aws:iam::1:user/alice', 'source_ip:198.51.100.1', 'source_ip:203.0.113.9']);
  });

  it('gives the same bytes whatever order the findings arrive in', () => {
    const once = JSON.stringify(attackChains(story));
    for (let i = 0; i < 5; i++) {
      const shuffled = [...story].sort(() => Math.random() - 0.5);
      expect(JSON.stringify(attackChains(shuffled))).toBe(once);
    }
  });

  it('escapes log-derived text on a terminal', () => {
    const text = describeChains(attackChains([finding({ actor: 'evil\u001b[31m', target: 'x\u202e' })]));
    expect(text.includes('\u001b') || text.includes('\u202e')).toBe(false);
    expect(text).toContain('\\x1b[31m');
  });

  it('maps every technique the catalogue and the analytics cite to a tactic (nothing falls to unmapped)', async () => {
    const ids = new Set([...(await loadCatalogue()).flatMap((d) => d.mitre), ...ANALYTICS.flatMap((a) => a.mitre)]);
    const unmapped = [...ids].filter((id) => stageOf([id]) === 'unmapped');
    expect(unmapped).toEqual([]);
    expect(Object.keys(TECHNIQUE_TACTICS).length).toBeGreaterThan(50);
  });
});
