import { describe, expect, it } from 'vitest';
import { readJsonRecords } from '../../../../shared/sources/iot-common/json-records.ts';

describe('Function: readJsonRecords', () => {
  it('reads JSON Lines by physical line: blank lines count, CRLF is a line end, each record keeps its exact text', () => {
    const read = readJsonRecords('{"a":1}\r\n\n  {"b" : 2}  \r\n');
    expect(read.shape).toBe('jsonl');
    expect(read.problems).toEqual([]);
    expect(read.records).toEqual([
      { index: 0, line: 1, locator: 'line 1', text: '{"a":1}', value: { a: 1 } },
      { index: 2, line: 3, locator: 'line 3', text: '  {"b" : 2}  ', value: { b: 2 } },
    ]);
  });

  it('strips a line prefix and returns it', () => {
    const read = readJsonRecords('2026-03-14T10:00:00.000Z {"a":1}\n{"b":2}\n', { linePrefix: /^\S+Z / });
    expect(read.records.map((r) => [r.prefix, r.text])).toEqual([['2026-03-14T10:00:00.000Z ', '{"a":1}'], [undefined, '{"b":2}']]);
  });

  it('reads a pretty-printed document, and documents back to back on one line', () => {
    expect(readJsonRecords('{\n  "a": 1\n}\n')).toMatchObject({ shape: 'single', records: [{ index: 0, line: 1, value: { a: 1 } }] });
    const firehose = readJsonRecords('{"a":1}{"b":2} {"c":3}');
    expect(firehose.shape).toBe('concatenated');
    expect(firehose.records.map((r) => [r.index, r.text])).toEqual([[0, '{"a":1}'], [1, '{"b":2}'], [2, '{"c":3}']]);
  });

  it('keeps the complete records of a truncated array and says where the damage is', () => {
    const read = readJsonRecords('[\n{"a":1},\n{"b":2},\n{"c":');
    expect(read.records.map((r) => [r.index, r.line, r.value])).toEqual([[0, 2, { a: 1 }], [1, 3, { b: 2 }]]);
    expect(read.problems).toEqual([{ index: 2, line: 4, reason: 'the JSON array is truncated at line 4 column 1; the 2 complete record(s) before it are kept' }]);
  });

  it('reports content after an array, and an empty object as empty', () => {
    expect(readJsonRecords('[{"a":1}] x').problems).toEqual([{ line: 1, reason: 'unexpected content after the JSON array at line 1 column 11: "x"' }]);
    expect(readJsonRecords(' \n ')).toEqual({ shape: 'empty', records: [], problems: [] });
  });

  it('reads past a damaged first line instead of giving up on the file', () => {
    const read = readJsonRecords('{"a":\n{"b":2}\n');
    expect(read.shape).toBe('jsonl');
    expect(read.records.map((r) => r.value)).toEqual([{ b: 2 }]);
    expect(read.problems).toEqual([{ index: 0, line: 1, reason: expect.stringMatching(/^not JSON at column 6/) }]);
  });

  it('ignores a byte-order mark without shifting lines or offsets', () => {
    expect(readJsonRecords('\uFEFF{"a":1}\n').records[0]).toMatchObject({ line: 1, value: { a: 1 } });
  });
});
