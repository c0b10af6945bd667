/**
 * Draws a PaperDocument as one self-contained HTML page with the same text as the PDF: no script, no external
 * fetch (a CSP forbids both), every string escaped and its invisible or reordering characters shown as `[U+XXXX]`.
 * Printed, each page carries "page N of M" (CSS page margin boxes) and the running lines (a fixed footer).
 */
import { escapeHtml } from '../text/escape.ts';
import { visible, type Block, type PaperDocument } from './document.ts';

/** Escaped, visible text for HTML content. */
function h(text: string): string {
  return escapeHtml(visible(text));
}

const STYLE = `
@page { size: A4; margin: 18mm 16mm 30mm 16mm;
  @bottom-right { content: "page " counter(page) " of " counter(pages); font: 9pt sans-serif; } }
body { font: 10.5pt/1.4 system-ui, sans-serif; color: #111; max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem 6rem; }
h1 { font-size: 1.45rem; } h2 { font-size: 1.15rem; border-bottom: 1px solid #999; padding-bottom: .15rem; margin-top: 1.6rem; }
h3 { font-size: 1rem; margin-bottom: .3rem; }
code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; }
code, td, dd, p { overflow-wrap: anywhere; word-break: break-word; }
dl.fields { display: grid; grid-template-columns: 12rem 1fr; gap: .15rem .8rem; margin: .4rem 0 .8rem; }
dl.fields dt { font-weight: 600; } dl.fields dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .9em; }
th, td { border-bottom: 1px solid #ccc; padding: .2rem .35rem; text-align: left; vertical-align: top; }
tr.lines td { border-bottom: 1px solid #999; color: #444; padding-left: 1.2rem; }
.blank { display: flex; gap: .6rem; margin: 1.1rem 0; } .blank span.line { flex: 1; border-bottom: 1px solid #333; max-width: 28rem; }
footer.running { font-size: .8em; color: #444; border-top: 1px solid #999; margin-top: 2rem; padding-top: .3rem; }
@media print { footer.running { position: fixed; bottom: 0; left: 0; right: 0; background: #fff; margin: 0; } body { padding-bottom: 0; } }
`;

/** Renders `doc` as an HTML document (UTF-8 text). */
export function renderHtml(doc: PaperDocument): string {
  const body = doc.blocks.map(block).join('\n');
  const running = doc.running.map((line) => `<div><code>${h(line)}</code></div>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${h(doc.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${h(doc.title)}</h1>
${body}
<footer class="running">${running}</footer>
</body>
</html>
`;
}

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `<h2>${h(b.text)}</h2>`;
    case 'subheading':
      return `<h3>${h(b.text)}</h3>`;
    case 'paragraph':
      return b.strong ? `<p><strong>${h(b.text)}</strong></p>` : `<p>${h(b.text)}</p>`;
    case 'fields':
      return `<dl class="fields">${b.rows.map((r) => `<dt>${h(r.label)}</dt><dd>${r.mono ? `<code>${h(r.value === '' ? '-' : r.value)}</code>` : h(r.value === '' ? '-' : r.value)}</dd>`).join('')}</dl>`;
    case 'table': {
      const head = `<tr>${b.columns.map((c) => `<th>${h(c.title)}</th>`).join('')}</tr>`;
      if (b.rows.length === 0) return `<table><thead>${head}</thead><tbody><tr><td colspan="${b.columns.length}">${h(b.empty)}</td></tr></tbody></table>`;
      const rows = b.rows
        .map((r) => {
          const cells = `<tr>${r.cells.map((c) => `<td>${h(c)}</td>`).join('')}</tr>`;
          const lines = r.lines?.length ? `<tr class="lines"><td colspan="${b.columns.length}">${r.lines.map((l) => `<div><code>${h(l)}</code></div>`).join('')}</td></tr>` : '';
          return cells + lines;
        })
        .join('\n');
      return `<table><thead>${head}</thead><tbody>\n${rows}\n</tbody></table>`;
    }
    case 'blanks':
      return b.labels.map((l) => `<div class="blank"><span>${h(l)}</span><span class="line"></span></div>`).join('\n');
  }
}
