// berth unpause
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { forEachContainer } from './container-each.js';

export async function run(ctx: CommandContext, args: string[], _opts: CommandOptions): Promise<number> {
  return forEachContainer(ctx, args, (api, name) => api.unpause(name));
}
