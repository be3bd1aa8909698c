/**
 * A table that fits a terminal width, for `mesh top`. cli-table3 (the other commands' tables)
 * neither drops columns nor shortens cells to a width, and an htop-like view must never wrap: a
 * wrapped line scrolls a full-screen frame. So, while the table is too wide, the least important
 * long texts (ids, names, reasons) are cut to their column's `max` with `…`, then the least
 * important column goes, then the shrinkable columns are cut further, and as a last resort on a
 * tiny terminal each line is clipped. Widths are counted on the plain text; colour codes are
 * added around the padded cells afterwards, so they never count.
 */

/** How a cell is coloured (when colour is on). */
export type CellStyle = 'ok' | 'warn' | 'bad' | 'dim';

/** One cell: its text and, optionally, a style. */
export interface Cell {
  text: string;
  style?: CellStyle;
}

/** A column of a fitted table. */
export interface Column {
  head: string;
  /** Numbers are right-aligned. */
  align?: 'left' | 'right';
  /**
   * 0: always kept; a higher number is dropped earlier when the width runs out. From 5 on, a
   * detail: dropped before long texts are cut below their `max`; 1-4 only after that.
   */
  drop?: number;
  /** Whether its cells may be cut with `…` (ids, names) rather than the column dropped. */
  shrink?: boolean;
  /** A shrinkable column's width once the table is too wide, before any column is dropped. */
  max?: number;
}

const SGR: Record<CellStyle | 'head', string> = {
  ok: '\u001b[32m',
  warn: '\u001b[33m',
  bad: '\u001b[31m',
  dim: '\u001b[2m',
  head: '\u001b[1m',
};
const RESET = '\u001b[0m';
const GAP = '  ';
const MIN_SHRUNK = 6;
/** Columns with `drop` from here are details, dropped before any long text is cut further. */
const DETAIL = 5;

/** `text` in at most `width` characters, cut with `…` when longer. */
export function ellipsis(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 0 ? '' : `${text.slice(0, width - 1)}…`;
}

/** Wraps text in the style's SGR codes when colour is on. */
export function paint(text: string, style: CellStyle | 'head' | undefined, color: boolean): string {
  return color && style && text ? `${SGR[style]}${text}${RESET}` : text;
}

/** Visible length of a line (without SGR colour codes). */
export const visibleLength = (line: string): number =>
  // eslint-disable-next-line no-control-regex
  line.replace(/\u001b\[[0-9;]*m/g, '').length;

const totalWidth = (widths: readonly number[]) =>
  widths.reduce((a, b) => a + b, 0) + GAP.length * Math.max(0, widths.length - 1);

/** Which columns stay and how wide each is, for `width` characters. */
function layout(columns: readonly Column[], rows: readonly Cell[][], width: number) {
  let natural = columns.map((c, i) => Math.max(c.head.length, ...rows.map((r) => (r[i]?.text ?? '').length)));
  // A long reason or model name should not cost the other columns their place.
  if (totalWidth(natural) > width)
    natural = natural.map((w, i) => {
      const c = columns[i];
      return c?.shrink && c.max !== undefined ? Math.min(w, Math.max(c.max, c.head.length)) : w;
    });
  const kept = columns.map((_, i) => i);
  const minOf = (i: number) => {
    const c = columns[i];
    const w = natural[i] ?? 0;
    return c?.shrink ? Math.min(w, Math.max(MIN_SHRUNK, c.head.length)) : w;
  };
  const dropWhile = (tooWide: () => boolean, from: number) => {
    while (tooWide()) {
      let victim = -1;
      for (const i of kept) {
        const d = columns[i]?.drop ?? 0;
        if (d >= from && (victim < 0 || d >= (columns[victim]?.drop ?? 0))) victim = i;
      }
      if (victim < 0) return;
      kept.splice(kept.indexOf(victim), 1);
    }
  };
  // Details go first, at full width; the core columns only when even cut names cannot make room.
  dropWhile(() => totalWidth(kept.map((i) => natural[i] ?? 0)) > width, DETAIL);
  dropWhile(() => totalWidth(kept.map(minOf)) > width, 1);
  const widths = kept.map((i) => natural[i] ?? 0);
  // Then cut the widest shrinkable column, one character at a time, down to a readable minimum.
  while (totalWidth(widths) > width) {
    let widest = -1;
    kept.forEach((col, k) => {
      const w = widths[k] ?? 0;
      const min = Math.max(MIN_SHRUNK, columns[col]?.head.length ?? 0);
      if (columns[col]?.shrink && w > min && (widest < 0 || w > (widths[widest] ?? 0))) widest = k;
    });
    if (widest < 0) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  return { kept, widths };
}

/**
 * Renders the table as lines no wider than `width` (visible characters): a header, then one line
 * per row. Rows keep the order given; the caller sorts.
 */
export function fitTable(
  columns: readonly Column[],
  rows: readonly Cell[][],
  width: number,
  color: boolean,
): string[] {
  const { kept, widths } = layout(columns, rows, width);
  const line = (cells: Array<{ text: string; style?: CellStyle | 'head' }>) => {
    const parts = kept.map((col, k) => {
      const w = widths[k] ?? 0;
      const cell = cells[col] ?? { text: '' };
      const text = ellipsis(cell.text, w);
      const pad = ' '.repeat(w - text.length);
      const last = k === kept.length - 1;
      const painted = paint(text, cell.style, color);
      if (columns[col]?.align === 'right') return `${pad}${painted}`;
      return last ? painted : `${painted}${pad}`;
    });
    const joined = parts.join(GAP);
    // A terminal narrower than the kept columns' minimum: clip rather than wrap.
    return visibleLength(joined) > width ? clip(joined, width) : joined;
  };
  return [line(columns.map((c) => ({ text: c.head, style: 'head' as const }))), ...rows.map((r) => line(r))];
}

/** The first `width` visible characters of a line, colour codes kept and closed. */
export function clip(line: string, width: number): string {
  let out = '';
  let visible = 0;
  let styled = false;
  for (let i = 0; i < line.length && visible < width;) {
    // eslint-disable-next-line no-control-regex
    const code = /^\u001b\[[0-9;]*m/.exec(line.slice(i));
    if (code) {
      out += code[0];
      styled = code[0] !== RESET;
      i += code[0].length;
      continue;
    }
    out += line[i];
    visible++;
    i++;
  }
  return styled ? `${out}${RESET}` : out;
}
