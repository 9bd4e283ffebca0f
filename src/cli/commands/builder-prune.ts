// berth builder prune: forgets the build cache and removes intermediate images only it used.
import type { BuildPruneResponse } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { humanSize } from '../format/units.js';
import { confirm } from './confirm.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  if (opts['force'] !== true && !(await confirm(ctx, 'WARNING! This will remove all dangling build cache.'))) return;
  const client = await ctx.client();
  const r = await client.request<BuildPruneResponse>('POST', '/build/prune');
  for (const id of r.CachesDeleted ?? []) await ctx.print(`Deleted build cache object: ${id.replace(/^sha256:/, '').slice(0, 25)}\n`);
  await ctx.print(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
}

