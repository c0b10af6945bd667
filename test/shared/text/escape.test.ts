import { describe, expect, it } from 'vitest';
import { csvCell, escapeHtml, escapeTerminal, terminalSafeText } from '../../../shared/text/escape.ts';

describe('Function: escapeTerminal', () => {
  it('turns escape sequences, carriage returns and bidi overrides into visible text', () => {
    expect(escapeTerminal('a\u001b]0;pwned\u0007b\rc\u202ed')).toBe('a\\x1b]0;pwned\\x07b\\x0dc\\u202ed');
  });
  it('leaves ordinary text, including non-Latin letters, alone', () => {
    expect(escapeTerminal('Zürich 東京 ok')).toBe('Zürich 東京 ok');
  });
});

describe('Function: terminalSafeText', () => {
  it('keeps line feeds and tabs but neutralises ESC, C1 (one-byte CSI), carriage returns and bidi overrides', () => {
    expect(terminalSafeText('a,b\tc\n\u001b[31mred\u009b2J\rhidden\u202e\n')).toBe('a,b\tc\n\\u001b[31mred\\u009b2J\\u000dhidden\\u202e\n');
  });
});

describe('Function: escapeHtml', () => {
  it('neutralises markup and attribute breakouts', () => {
    expect(escapeHtml(`<script>alert("x")</script>' onmouseover=1`)).toBe('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39; onmouseover=1');
  });
});

describe('Function: csvCell', () => {
  it('prefixes cells a spreadsheet would evaluate as formulas', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('+1+1')).toBe(`'+1+1`);
    expect(csvCell('@SUM(A1)')).toBe(`'@SUM(A1)`);
    expect(csvCell('-2+3')).toBe(`'-2+3`);
  });
  it('quotes commas, quotes and newlines, and keeps numbers as numbers', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line1\nline2')).toBe('"line1\nline2"');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(null)).toBe('');
  });
});
