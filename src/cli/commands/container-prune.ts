// berth container prune
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { humanSize } from '../format/units.js';
import { confirm } from './confirm.js';
import { parseFilterFlags } from './filters.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const filters = parseFilterFlags(opts['filter']);
  if (opts['force'] !== true && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return;
  const r = await new ContainersApi(await ctx.client()).prune({ filters });
  let out = '';
  if (r.ContainersDeleted?.length) out += `Deleted Containers:\n${r.ContainersDeleted.map((id) => `${id}\n`).join('')}\n`;
  out += `Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`;
  await ctx.print(out);
}
