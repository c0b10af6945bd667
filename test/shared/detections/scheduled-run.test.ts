import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../shared/detections/run.ts';
import { citedCase, selectDetections, summarise } from '../../../shared/detections/scheduled-run.ts';
import type { Detection } from '../../../shared/detections/catalogue.ts';
import { aFinding } from '../../helpers/findings.ts';

const finding = (detail: string): Finding => aFinding({ severity: 'critical', actor: 'root', target: 'account', detail, evidence_sha256: null });

describe('Function: summarise', () => {
  it('puts only counts in the subject, and log values in the body with control characters visible and long values cut', () => {
    // Act
    const { subject, text } = summarise('run-1', 'findings/x.json', { since: 'a', until: 'b' }, [finding(`\u001b]0;pwned\u0007${'x'.repeat(400)}`)], []);

    // Assess
    expect(subject).toBe('Amber: 1 finding (1 critical)');
    expect(text).toContain('\\x1b]0;pwned\\x07');
    expect(text).toContain('... (cut)');
    expect([...text].some((c) => c.charCodeAt(0) < 0x20 && c !== "\n")).toBe(false);
  });

  it('lists at most 50 findings and points to the findings JSON for the rest', () => {
    // Act
    const { text } = summarise('run-1', 'findings/x.json', { since: 'a', until: 'b' }, Array.from({ length: 60 }, (_, i) => finding(`n${i}`)), []);

    // Assess
    expect(text.match(/\[CRITICAL\]/g)).toHaveLength(50);
    expect(text).toContain('... and 10 more findings: see the findings JSON.');
  });
});

describe('Function: summarise, aggregates', () => {
  it('shows the span and record count of a finding that stands for several records', () => {
    const { text } = summarise('run-1', 'findings/x.json', { since: 'a', until: 'b' }, [{ ...finding('burst'), first_time: '2026-03-01T11:00:05Z', last_time: '2026-03-01T11:09:40Z', records: 14 }], []);
    expect(text).toContain('time 2026-03-01T11:00:05Z .. 2026-03-01T11:09:40Z (14 records)');
  });
});

describe('Function: citedCase', () => {
  it('reads the case of a preserved key, and nothing for keys outside a case', () => {
    expect(citedCase('cases/INC-7/AWSLogs/x.json.gz')).toBe('INC-7');
    expect(citedCase('AWSLogs/x.json.gz')).toBeUndefined();
    expect(citedCase('cases/../x')).toBeUndefined();
  });
});

describe('Function: selectDetections', () => {
  it('keeps catalogue order and refuses unknown ids naming them', () => {
    const catalogue = [{ id: 'a' }, { id: 'b' }, { id: 'c' }] as Detection[];
    expect(selectDetections(catalogue, ['c', 'a']).map((d) => d.id)).toEqual(['a', 'c']);
    expect(() => selectDetections(catalogue, ['z'])).toThrow(expect.objectContaining({ message: 'unknown detection id(s): "z"', hint: 'the catalogue holds: a, b, c' }));
    expect(() => selectDetections(catalogue, [])).toThrow(/no detections to run/);
  });
});
