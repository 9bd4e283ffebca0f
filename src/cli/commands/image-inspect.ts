// berth image inspect
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { stringOpt } from './filters.js';
import { inspectEach } from './inspect-output.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const format = stringOpt(opts['format']);
  const client = await ctx.client();
  return inspectEach(ctx, args, format, (name) => client.inspectImage(name));
}
