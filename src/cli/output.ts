/**
 * Output of the `mesh` CLI: one plain data object per command, printed as a table for people or
 * as JSON/YAML for scripts. The JSON/YAML shape is the data object itself (see docs/CLI.md), so
 * the table is only a view and scripts never depend on column layout.
 */
import Table from 'cli-table3';
import { stringify as toYaml } from 'yaml';

/** Values of `-o/--output`. */
export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Columns and rows of the table view of one result. */
export interface TableView {
  head: string[];
  rows: Array<Array<string | number>>;
  /** Lines printed under the table (totals). */
  footer?: string[];
}

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(env: NodeJS.ProcessEnv, isTTY: boolean | undefined): boolean {
  return Boolean(isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

// kubectl-like: no borders, two spaces between columns; easy to read and to `awk`.
const PLAIN_CHARS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** Renders a table view as text (no trailing newline). */
function renderTable(view: TableView, color: boolean): string {
  const table = new Table({
    head: view.head,
    chars: PLAIN_CHARS,
    style: { head: color ? ['bold'] : [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...view.rows);
  const lines = table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd());
  if (view.rows.length === 0) lines.push('(none)');
  return [...lines, ...(view.footer ?? [])].join('\n');
}

/** Formats a command's result in the chosen format, ending with a newline. */
export function formatResult(data: unknown, view: TableView, format: OutputFormat, color: boolean): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(data, null, 2)}\n`;
    case 'yaml':
      return toYaml(data);
    case 'table':
      return `${renderTable(view, color)}\n`;
  }
}

/** Moves the cursor home and clears a terminal: a watched table redraws in place. */
const CLEAR_SCREEN = '\u001b[H\u001b[2J';

/**
 * One rendering of a watched result (`--watch`): JSON as one compact line each (a stream of
 * objects a script reads line by line), YAML as one document each, a table redrawn in place on a
 * terminal and otherwise separated from the previous one by a blank line.
 */
export function formatUpdate(
  data: unknown,
  view: TableView,
  format: OutputFormat,
  opts: { color: boolean; tty: boolean; first: boolean },
): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(data)}\n`;
    case 'yaml':
      return `---\n${toYaml(data)}`;
    case 'table': {
      const before = opts.first ? '' : opts.tty ? CLEAR_SCREEN : '\n';
      return `${before}${renderTable(view, opts.color)}\n`;
    }
  }
}

/** Milliseconds since the epoch → ISO text, or null when unknown (0). */
export const isoOrNull = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);
