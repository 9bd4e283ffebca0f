// docker's `--format` handling for list commands: `table …` (header + aligned columns,
// tabwriter(minwidth 10, padding 3)), `json` (one JSON object per line), or any Go
// template (one rendered line per row). `\t` and `\n` typed literally become real ones.
import { parseGoTemplate } from './go-template.js';

export interface ListFormat {
  /** The user's --format ('' or undefined: the command's default table). */
  format: string | undefined;
  /** The command's default, e.g. `table {{.Repository}}\t{{.Tag}}`. */
  defaultFormat: string;
  /** Column titles by field name: { Repository: 'REPOSITORY' }. */
  headers: Record<string, string>;
}

export function isTableFormat(format: string): boolean {
  return format.startsWith('table');
}

/** Renders rows as docker's formatter does; returns the text to print (with a final newline). */
export function renderList(spec: ListFormat, rows: readonly object[]): string {
  let format = spec.format || spec.defaultFormat;
  if (format === 'table') format = spec.defaultFormat;
  const table = isTableFormat(format);
  if (table) format = format.slice('table'.length);
  else if (format === 'json') format = '{{json .}}';
  format = format.trim().replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  const tmpl = parseGoTemplate(format, { listRows: true });
  const lines: string[] = [];
  if (table) lines.push(tmpl.execute(headerContext(spec.headers)));
  for (const row of rows) lines.push(tmpl.execute(row));
  const text = lines.map((l) => `${l}\n`).join('');
  return table ? tabwrite(text) : text;
}

/** The header row renders the same template against field → title. */
function headerContext(headers: Record<string, string>): Record<string, string> {
  return new Proxy(headers, {
    get: (t, k) => (typeof k === 'string' ? (t[k] ?? '') : undefined),
    has: () => true,
    getOwnPropertyDescriptor: (t, k) => ({ configurable: true, enumerable: true, value: typeof k === 'string' ? (t[k] ?? '') : undefined }),
  });
}

function width(s: string): number {
  return [...s].length;
}

/**
 * Go's text/tabwriter with docker's settings (minwidth 10, tabwidth 1, padding 3, spaces):
 * a tab ends a cell; consecutive lines with a cell in column j share column j's width.
 */
export function tabwrite(text: string, opts: { minWidth?: number; padding?: number } = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const lines = text.split('\n');
  const cells = lines.map((l) => l.split('\t'));
  const widths = cells.map((c) => new Array<number>(Math.max(0, c.length - 1)).fill(0));
  const maxCols = Math.max(0, ...cells.map((c) => c.length - 1));
  for (let col = 0; col < maxCols; col++) {
    let i = 0;
    while (i < cells.length) {
      if (cells[i]!.length - 1 <= col) { i++; continue; }
      let j = i;
      let w = 0;
      while (j < cells.length && cells[j]!.length - 1 > col) {
        w = Math.max(w, width(cells[j]![col]!) + padding);
        j++;
      }
      w = Math.max(w, minWidth);
      for (let k = i; k < j; k++) widths[k]![col] = w;
      i = j;
    }
  }
  return cells
    .map((c, li) => c.map((cell, ci) => (ci < c.length - 1 ? cell + ' '.repeat(widths[li]![ci]! - width(cell)) : cell)).join(''))
    .join('\n');
}
