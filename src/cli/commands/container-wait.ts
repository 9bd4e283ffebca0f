// berth wait: prints each container's exit code once it stops.
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { forEachContainer } from './container-each.js';

export async function run(ctx: CommandContext, args: string[], _opts: CommandOptions): Promise<number> {
  return forEachContainer(ctx, args, async (api, name) => String((await api.wait(name, 'not-running')).StatusCode));
}
