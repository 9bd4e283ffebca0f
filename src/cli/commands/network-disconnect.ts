// berth network disconnect
import { NetworksApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const [network, container] = args as [string, string];
  await new NetworksApi(await ctx.client()).disconnect(network, container, { force: opts['force'] === true });
}
