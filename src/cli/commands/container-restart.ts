// berth restart
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { forEachContainer } from './container-each.js';
import { stopOptions } from './container-stop.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const o = stopOptions(opts);
  return forEachContainer(ctx, args, (api, name) => api.restart(name, o));
}
