// berth kill
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { forEachContainer } from './container-each.js';
import { stringOpt } from './filters.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const signal = stringOpt(opts['signal']);
  return forEachContainer(ctx, args, (api, name) => api.kill(name, signal));
}
