import { describe, expect, it } from 'vitest';
import { readJsonRecords } from '../../../../shared/sources/cloud-records/json-records.ts';

const options = { containers: ['records', 'value'] };
const values = (text: string) => readJsonRecords(text, options);

describe('Function: readJsonRecords', () => {
  it('indexes a records container, a value page and an array by position', () => {
    // Act / Assess
    expect(values('{"records":[{"a":1},{"a":2}]}')).toMatchObject({ container: '.records', entries: [{ index: 0, locator: '.records[0]' }, { index: 1, locator: '.records[1]' }], problems: [] });
    expect(values('{"@odata.context":"x","value":[{"a":1}]}')).toMatchObject({ container: '.value', wrapper: { '@odata.context': 'x' } });
    expect(values('[{"a":1},{"a":2}]').entries.map((e) => e.index)).toEqual([0, 1]);
  });

  it('indexes JSON Lines by physical line, blank lines included, and reports a broken line with its line', () => {
    // Act
    const read = values('{"a":1}\n\n{"a":2}\r\n{"a": oops}\n{"a":4}\n');

    // Assess
    expect(read.container).toBe('jsonl');
    expect(read.entries.map((e) => [e.index, e.line])).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(read.problems).toEqual([{ index: 3, line: 4, reason: expect.stringMatching(/^is not valid JSON/) }]);
  });

  it('numbers records in order across JSON Lines that hold {"records":[...]} batches', () => {
    // Act
    const read = values('{"records":[{"a":1},{"a":2}]}\n{"a":3}\n{"records":[{"a":4}]}\n');

    // Assess
    expect(read.container).toBe('jsonl-batches');
    expect(read.entries.map((e) => [e.index, e.line, e.locator])).toEqual([[0, 1, 'line 1 .records[0]'], [1, 1, 'line 1 .records[1]'], [2, 2, 'line 2'], [3, 3, 'line 3 .records[0]']]);
  });

  it('treats one object without a container as a single record (index 0)', () => {
    // Act / Assess
    expect(values('{\n  "a": 1\n}\n')).toMatchObject({ container: 'single', entries: [{ index: 0, value: { a: 1 } }] });
  });

  it('keeps the complete records before damage in a truncated container and reports where the damage is', () => {
    // Act
    const read = values('{"records":[\n{"a":1},\n{"a":2},\n{"a":3');

    // Assess
    expect(read.entries.map((e) => e.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(read.problems).toEqual([{ index: 2, line: 4, reason: expect.stringMatching(/damaged at line 4 .* in \.records\[2\]; the 2 complete record\(s\) before it were kept/) }]);
  });

  it('says so when nothing can be read, and ignores an empty object', () => {
    // Act / Assess
    expect(values('CreationDate,AuditData\n').problems).toEqual([{ reason: expect.stringMatching(/^not JSON/) }]);
    expect(values('{"records": oops').problems).toEqual([{ index: 0, line: 1, reason: expect.stringMatching(/no record could be read before it/) }]);
    expect(values('  \n')).toEqual({ container: 'empty', entries: [], problems: [] });
  });
});
