// berth volume inspect
import { VolumesApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { stringOpt } from './filters.js';
import { inspectEach } from './inspect-output.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const api = new VolumesApi(await ctx.client());
  return inspectEach(ctx, args, stringOpt(opts['format']), (name) => api.inspect(name));
}
