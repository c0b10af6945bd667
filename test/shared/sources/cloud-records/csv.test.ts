import { describe, expect, it } from 'vitest';
import { readCsv } from '../../../../shared/sources/cloud-records/csv.ts';

describe('Function: readCsv (RFC 4180)', () => {
  it('unquotes fields holding commas, doubled quotes and line breaks, keeping each record\'s first line', () => {
    // Prepare
    const text = 'a,b,c\r\n"x, y","say ""hi""","line1\r\nline2\nline3"\r\nplain,,"" \r\n';

    // Act
    const csv = readCsv(text);

    // Assess
    expect(csv.header).toEqual(['a', 'b', 'c']);
    expect(csv.records).toEqual([
      { ordinal: 0, line: 2, cells: ['x, y', 'say "hi"', 'line1\r\nline2\nline3'] },
      { ordinal: 1, line: 5, cells: ['plain', '', ' '] },
    ]);
    expect(csv.problems).toEqual([]);
  });

  it('skips a byte-order mark, PowerShell\'s #TYPE line and blank lines, and reads a last line without a line end', () => {
    // Act
    const csv = readCsv('\ufeff#TYPE Deserialized.Something\n"h1","h2"\n\n"1","2"\n3,4');

    // Assess
    expect(csv.header).toEqual(['h1', 'h2']);
    expect(csv.headerLine).toBe(2);
    expect(csv.records.map((r) => [r.ordinal, r.line, r.cells])).toEqual([[0, 4, ['1', '2']], [1, 5, ['3', '4']]]);
  });

  it('reports a record with the wrong number of fields and an unterminated quote by line and position, keeping the others', () => {
    // Act
    const csv = readCsv('a,b\n1,2\n1,2,3\n4,5\n"open,6');

    // Assess
    expect(csv.records.map((r) => r.cells)).toEqual([['1', '2'], ['4', '5']]);
    expect(csv.problems).toEqual([
      { ordinal: 1, line: 3, reason: 'has 3 fields where the header has 2; the record was not read' },
      { ordinal: 3, line: 5, reason: 'has a quoted field that is never closed (the file ends inside it); the record was not read' },
    ]);
  });

  it('keeps stray quotes inside unquoted fields literally, as Excel and PowerShell do', () => {
    // Act
    const csv = readCsv('a,b\nsay "hi",x\n');

    // Assess
    expect(csv.records[0]?.cells).toEqual(['say "hi"', 'x']);
  });
});
