// berth network prune
import { NetworksApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { confirm } from './confirm.js';
import { parseFilterFlags } from './filters.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const filters = parseFilterFlags(opts['filter']);
  if (opts['force'] !== true && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return;
  const r = await new NetworksApi(await ctx.client()).prune({ filters });
  if (r.NetworksDeleted?.length) await ctx.print(`Deleted Networks:\n${r.NetworksDeleted.map((n) => `${n}\n`).join('')}`);
}
