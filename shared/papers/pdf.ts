/**
 * Draws a PaperDocument as a PDF with pdf-lib and the standard fonts (no font files embedded). Pages are laid
 * out first and drawn second, so each carries "page N of M" and the document's running lines. The output is
 * a function of the document alone: metadata dates are the issued-at time and nothing random is written.
 */
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { visible, type Block, type PaperDocument } from './document.ts';

const PAGE = { width: 595.28, height: 841.89 }; // A4, points
const MARGIN = { left: 50, right: 50, top: 56, bottom: 70 };
const WIDTH = PAGE.width - MARGIN.left - MARGIN.right;
const SIZE = { title: 15, heading: 12, subheading: 10.5, body: 9.5, small: 8, mono: 7.5 };
const GREY = rgb(0.35, 0.35, 0.35);

interface Fonts {
  readonly regular: PDFFont;
  readonly bold: PDFFont;
  readonly mono: PDFFont;
}

/** One line of text placed on a page. */
interface Placed {
  readonly text: string;
  readonly x: number;
  readonly y: number;
  readonly font: PDFFont;
  readonly size: number;
  readonly grey?: boolean;
}

/** A horizontal rule placed on a page. */
interface Rule {
  readonly x1: number;
  readonly x2: number;
  readonly y: number;
}

/** Renders `doc` as PDF bytes. */
export async function renderPdf(doc: PaperDocument): Promise<Uint8Array> {
  const pdf = await PDFDocument.create({ updateMetadata: false });
  const fonts: Fonts = {
    regular: await pdf.embedFont(StandardFonts.Helvetica),
    bold: await pdf.embedFont(StandardFonts.HelveticaBold),
    mono: await pdf.embedFont(StandardFonts.Courier),
  };
  const printable = new Set(fonts.regular.getCharacterSet());
  const safe = (text: string): string => visible(text, (cp) => printable.has(cp));
  const issued = new Date(doc.issuedAt);
  pdf.setTitle(safe(doc.title));
  pdf.setSubject(safe(doc.subject));
  pdf.setCreator('Amber');
  pdf.setProducer('Amber (pdf-lib)');
  pdf.setCreationDate(issued);
  pdf.setModificationDate(issued);

  const pages = layout(doc, fonts, safe);
  const running = doc.running.map(safe);
  pages.forEach((page, index) => {
    const p = pdf.addPage([PAGE.width, PAGE.height]);
    for (const line of page.lines) draw(p, line);
    for (const rule of page.rules) p.drawLine({ start: { x: rule.x1, y: rule.y }, end: { x: rule.x2, y: rule.y }, thickness: 0.5, color: GREY });
    footer(p, fonts, running, `Page ${index + 1} of ${pages.length}`);
  });
  return pdf.save({ useObjectStreams: false });
}

function draw(page: PDFPage, line: Placed): void {
  page.drawText(line.text, { x: line.x, y: line.y, font: line.font, size: line.size, ...(line.grey ? { color: GREY } : {}) });
}

/** The running lines and the page number, at the foot of every page. */
function footer(page: PDFPage, fonts: Fonts, running: readonly string[], number: string): void {
  let y = MARGIN.bottom - 22;
  page.drawLine({ start: { x: MARGIN.left, y: y + 12 }, end: { x: PAGE.width - MARGIN.right, y: y + 12 }, thickness: 0.5, color: GREY });
  for (const text of running) {
    for (const part of wrap(text, fonts.mono, SIZE.mono, WIDTH)) {
      page.drawText(part, { x: MARGIN.left, y, font: fonts.mono, size: SIZE.mono, color: GREY });
      y -= SIZE.mono + 2;
    }
  }
  page.drawText(number, { x: PAGE.width - MARGIN.right - fonts.regular.widthOfTextAtSize(number, SIZE.small), y: 22, font: fonts.regular, size: SIZE.small });
}

/** Lays the blocks out into pages of placed lines. */
function layout(doc: PaperDocument, fonts: Fonts, safe: (text: string) => string): Array<{ lines: Placed[]; rules: Rule[] }> {
  const pages: Array<{ lines: Placed[]; rules: Rule[] }> = [];
  let page = { lines: [] as Placed[], rules: [] as Rule[] };
  let y = 0;
  const newPage = (): void => {
    page = { lines: [], rules: [] };
    pages.push(page);
    y = PAGE.height - MARGIN.top;
  };
  newPage();
  /** Room for `height` more points on this page, else a new page. */
  const room = (height: number): void => {
    if (y - height < MARGIN.bottom) newPage();
  };
  const text = (value: string, x: number, width: number, font: PDFFont, size: number, extra: Partial<Placed> = {}): void => {
    for (const part of wrap(safe(value), font, size, width)) {
      room(size + 3);
      y -= size + 3;
      page.lines.push({ text: part, x, y, font, size, ...extra });
    }
  };

  room(SIZE.title + 6);
  text(doc.title, MARGIN.left, WIDTH, fonts.bold, SIZE.title);
  y -= 6;
  for (const block of doc.blocks) placeBlock(block);
  return pages;

  function placeBlock(block: Block): void {
    switch (block.kind) {
      case 'heading':
        room(SIZE.heading * 3 + 60); // a heading never ends a page alone
        y -= 10;
        text(block.text, MARGIN.left, WIDTH, fonts.bold, SIZE.heading);
        page.rules.push({ x1: MARGIN.left, x2: PAGE.width - MARGIN.right, y: y - 3 });
        y -= 6;
        return;
      case 'subheading':
        room(SIZE.subheading * 3);
        y -= 6;
        text(block.text, MARGIN.left, WIDTH, fonts.bold, SIZE.subheading);
        y -= 2;
        return;
      case 'paragraph':
        text(block.text, MARGIN.left, WIDTH, block.strong ? fonts.bold : fonts.regular, SIZE.body);
        y -= 4;
        return;
      case 'fields': {
        const labelWidth = 150;
        for (const row of block.rows) {
          const font = row.mono ? fonts.mono : fonts.regular;
          const size = row.mono ? SIZE.mono + 0.5 : SIZE.body;
          const parts = wrap(safe(row.value === '' ? '-' : row.value), font, size, WIDTH - labelWidth);
          const labels = wrap(safe(row.label), fonts.bold, SIZE.body, labelWidth - 8);
          const lines = Math.max(parts.length, labels.length);
          room(Math.min(lines, 3) * (SIZE.body + 3));
          for (let i = 0; i < lines; i += 1) {
            room(SIZE.body + 3);
            y -= SIZE.body + 3;
            if (labels[i] !== undefined) page.lines.push({ text: labels[i]!, x: MARGIN.left, y, font: fonts.bold, size: SIZE.body });
            if (parts[i] !== undefined) page.lines.push({ text: parts[i]!, x: MARGIN.left + labelWidth, y, font, size });
          }
          y -= 1.5;
        }
        y -= 4;
        return;
      }
      case 'table':
        placeTable(block);
        return;
      case 'blanks':
        for (const label of block.labels) {
          room(SIZE.body + 16);
          y -= SIZE.body + 14;
          const shown = safe(label);
          page.lines.push({ text: shown, x: MARGIN.left, y, font: fonts.regular, size: SIZE.body });
          const start = MARGIN.left + Math.max(150, fonts.regular.widthOfTextAtSize(shown, SIZE.body) + 8);
          page.rules.push({ x1: start, x2: PAGE.width - MARGIN.right - 60, y: y - 2 });
        }
        y -= 6;
        return;
    }
  }

  function placeTable(block: Extract<Block, { kind: 'table' }>): void {
    const total = block.columns.reduce((a, c) => a + c.width, 0);
    const xs: number[] = [];
    const widths = block.columns.map((c) => (c.width / total) * WIDTH);
    widths.reduce((x, w) => (xs.push(x), x + w), MARGIN.left);
    const header = (): void => {
      room(SIZE.small * 3);
      y -= SIZE.small + 4;
      block.columns.forEach((c, i) => page.lines.push({ text: safe(c.title), x: xs[i]!, y, font: fonts.bold, size: SIZE.small }));
      page.rules.push({ x1: MARGIN.left, x2: PAGE.width - MARGIN.right, y: y - 3 });
      y -= 3;
    };
    header();
    if (block.rows.length === 0) {
      text(block.empty, MARGIN.left, WIDTH, fonts.regular, SIZE.small, { grey: true });
      y -= 4;
      return;
    }
    const lineHeight = SIZE.small + 3;
    for (const row of block.rows) {
      const cells = row.cells.map((cell, i) => wrap(safe(cell), fonts.regular, SIZE.small, widths[i]! - 6));
      const count = Math.max(...cells.map((c) => c.length));
      // A short row stays on one page; a row taller than a page continues on the next, under the header again.
      if (y - Math.min(count, 6) * lineHeight - 4 < MARGIN.bottom) {
        newPage();
        header();
      }
      y -= 2;
      for (let n = 0; n < count; n += 1) {
        if (y - lineHeight < MARGIN.bottom) {
          newPage();
          header();
        }
        y -= lineHeight;
        cells.forEach((parts, i) => {
          if (parts[n] !== undefined) page.lines.push({ text: parts[n]!, x: xs[i]!, y, font: fonts.regular, size: SIZE.small });
        });
      }
      for (const line of row.lines ?? []) text(line, MARGIN.left + 12, WIDTH - 12, fonts.mono, SIZE.mono, { grey: true });
      y -= 2;
      page.rules.push({ x1: MARGIN.left, x2: PAGE.width - MARGIN.right, y: y - 1 });
    }
    y -= 6;
  }
}

/**
 * Splits text into lines no wider than `width`: at spaces where it can, and inside a word too long for a line
 * (keys, hashes, hostile names) at whatever character fills the line, so nothing runs off the page.
 */
export function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/(?<= )/)) {
      if (font.widthOfTextAtSize(line + word, size) <= width) {
        line += word;
        continue;
      }
      if (line.trim() !== '') lines.push(line.trimEnd());
      // Standard fonts have no kerning here: a line's width is the sum of its characters' widths.
      let rest = '';
      let restWidth = 0;
      for (const ch of word) {
        const w = font.widthOfTextAtSize(ch, size);
        if (rest !== '' && restWidth + w > width) {
          lines.push(rest);
          rest = '';
          restWidth = 0;
        }
        rest += ch;
        restWidth += w;
      }
      line = rest;
    }
    lines.push(line.trimEnd());
  }
  return lines;
}
