// berth image prune
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { humanSize } from '../format/units.js';
import { confirm } from './confirm.js';
import { parseFilterFlags } from './filters.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const filters = parseFilterFlags(opts['filter']);
  const all = opts['all'] === true;
  filters['dangling'] = [all ? 'false' : 'true'];
  const warning = all
    ? 'WARNING! This will remove all images without at least one container associated to them.'
    : 'WARNING! This will remove all dangling images.';
  if (opts['force'] !== true && !(await confirm(ctx, warning))) return;
  const client = await ctx.client();
  const report = await client.pruneImages({ filters });
  const deleted = report.ImagesDeleted ?? [];
  let out = '';
  if (deleted.length) {
    out += 'Deleted Images:\n';
    for (const d of deleted) out += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
    out += '\n';
  }
  out += `Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`;
  await ctx.print(out);
}
