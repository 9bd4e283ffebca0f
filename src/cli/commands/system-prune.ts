// berth system prune: stopped containers, unused networks, dangling (with -a all unused)
// images, build cache and, with --volumes, anonymous volumes — in docker's order and words.
import { ContainersApi, NetworksApi, VolumesApi, type BuildPruneResponse } from '../../client/index.js';
import { errorKind } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { humanSize } from '../format/units.js';
import { confirm } from './confirm.js';
import { parseFilterFlags } from './filters.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const all = opts['all'] === true;
  const volumes = opts['volumes'] === true;
  const filters = parseFilterFlags(opts['filter']);
  const warning = [
    'WARNING! This will remove:',
    '  - all stopped containers',
    '  - all networks not used by at least one container',
    ...(volumes ? ['  - all anonymous volumes not used by at least one container'] : []),
    all ? '  - all images without at least one container associated to them' : '  - all dangling images',
    all ? '  - all build cache' : '  - unused build cache',
    '',
  ].join('\n');
  if (opts['force'] !== true && !(await confirm(ctx, warning))) return;
  const client = await ctx.client();
  let reclaimed = 0;
  let out = '';

  const c = await new ContainersApi(client).prune({ filters });
  reclaimed += c.SpaceReclaimed ?? 0;
  if (c.ContainersDeleted?.length) out += `Deleted Containers:\n${c.ContainersDeleted.map((id) => `${id}\n`).join('')}\n`;

  const n = await new NetworksApi(client).prune({ filters });
  if (n.NetworksDeleted?.length) out += `Deleted Networks:\n${n.NetworksDeleted.map((x) => `${x}\n`).join('')}\n`;

  if (volumes) {
    const v = await new VolumesApi(client).prune({ filters });
    reclaimed += v.SpaceReclaimed ?? 0;
    if (v.VolumesDeleted?.length) out += `Deleted Volumes:\n${v.VolumesDeleted.map((x) => `${x}\n`).join('')}\n`;
  }

  const i = await client.pruneImages({ filters: { ...filters, dangling: [all ? 'false' : 'true'] } });
  reclaimed += i.SpaceReclaimed ?? 0;
  if (i.ImagesDeleted?.length) {
    out += 'Deleted Images:\n';
    for (const d of i.ImagesDeleted) out += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
    out += '\n';
  }

  try {
    const b = await client.request<BuildPruneResponse>('POST', '/build/prune', { query: { all: all || undefined } });
    reclaimed += b?.SpaceReclaimed ?? 0;
    if (b?.CachesDeleted?.length) out += `Deleted build cache objects:\n${b.CachesDeleted.map((x) => `${x}\n`).join('')}\n`;
  } catch (err) {
    // An engine without a build cache endpoint has nothing to prune there.
    if (errorKind(err) !== 'not-found' && errorKind(err) !== 'not-implemented') throw err;
  }
  out += `Total reclaimed space: ${humanSize(reclaimed)}\n`;
  await ctx.print(out);
}
