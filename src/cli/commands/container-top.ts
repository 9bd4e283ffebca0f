// berth top: the container's processes (`ps` options after the name go to the daemon).
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { tabwrite } from '../format/table.js';

export async function run(ctx: CommandContext, args: string[], _opts: CommandOptions): Promise<void> {
  const [name, ...psArgs] = args as [string, ...string[]];
  const r = await new ContainersApi(await ctx.client()).top(name, psArgs.length ? psArgs.join(' ') : undefined);
  const lines = [r.Titles.join('\t'), ...r.Processes.map((p) => p.join('\t'))];
  await ctx.print(`${tabwrite(lines.join('\n') + '\n', { minWidth: 20, padding: 3 })}`);
}
