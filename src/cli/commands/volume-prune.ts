// berth volume prune: anonymous volumes no container uses (with -a, all unused volumes).
import { VolumesApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { humanSize } from '../format/units.js';
import { confirm } from './confirm.js';
import { parseFilterFlags } from './filters.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const filters = parseFilterFlags(opts['filter']);
  const all = opts['all'] === true;
  if (all) filters['all'] = ['true'];
  const warning = all
    ? 'WARNING! This will remove all local volumes not used by at least one container.'
    : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
  if (opts['force'] !== true && !(await confirm(ctx, warning))) return;
  const r = await new VolumesApi(await ctx.client()).prune({ filters });
  let out = '';
  if (r.VolumesDeleted?.length) out += `Deleted Volumes:\n${r.VolumesDeleted.map((v) => `${v}\n`).join('')}\n`;
  out += `Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`;
  await ctx.print(out);
}
