// berth image inspect
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { stringOpt } from './filters.js';
import { printInspected } from './inspect-output.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const format = stringOpt(opts['format']);
  // Parse the template before any request: a bad template changes nothing and fails fast.
  if (format) (await import('../format/go-template.js')).parseGoTemplate(format);
  const client = await ctx.client();
  const results: unknown[] = [];
  const errors: unknown[] = [];
  for (const name of args) {
    try {
      results.push(await client.inspectImage(name));
    } catch (err) {
      errors.push(err);
    }
  }
  return printInspected(ctx, results, errors, format);
}
