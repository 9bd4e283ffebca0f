// Printing of inspect results as docker does: an indented JSON array, or one rendered
// template per object; objects that failed are reported after the ones that succeeded.
import type { CommandContext } from '../context.js';
import { parseGoTemplate } from '../format/go-template.js';
import { reportError } from '../report-error.js';

/**
 * Fetches each name with `fetchOne` (failures are kept, not thrown) and prints the results.
 * The template is parsed first: a bad one fails before any request.
 */
export async function inspectEach(
  ctx: CommandContext,
  names: string[],
  format: string | undefined,
  fetchOne: (name: string) => Promise<unknown>,
): Promise<number> {
  if (format) parseGoTemplate(format);
  const results: unknown[] = [];
  const errors: unknown[] = [];
  for (const name of names) {
    try {
      results.push(await fetchOne(name));
    } catch (err) {
      errors.push(err);
    }
  }
  return printInspected(ctx, results, errors, format);
}

export async function printInspected(
  ctx: CommandContext,
  results: unknown[],
  errors: unknown[],
  format: string | undefined,
): Promise<number> {
  if (format) {
    const src = format === 'json' ? '{{json .}}' : format.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
    const tmpl = parseGoTemplate(src, { jsonKeys: inspectJsonKeys(src) });
    await ctx.print(results.map((r) => `${tmpl.execute(r)}\n`).join(''));
  } else {
    await ctx.print(`${JSON.stringify(results, null, 4)}\n`);
  }
  for (const err of errors) reportError(err, { debug: ctx.globals.debug });
  return errors.length ? 1 : 0;
}

/**
 * docker renders an inspect template against its typed struct, where `json` keeps field order.
 * A template naming a field the struct spells otherwise (`.Id`: the Go field is `ID`) fails
 * there, and docker renders it again against the raw JSON decoded into maps: keys sorted.
 */
export function inspectJsonKeys(template: string): 'struct' | 'sorted' {
  return /\.Id\b/.test(template) ? 'sorted' : 'struct';
}
