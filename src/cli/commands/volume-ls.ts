// berth volume ls
import { VolumesApi, type Volume } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { renderList } from '../format/table.js';
import { humanSize } from '../format/units.js';
import { parseFilterFlags, stringOpt } from './filters.js';

const HEADERS: Record<string, string> = {
  Availability: 'AVAILABILITY',
  Driver: 'DRIVER',
  Group: 'GROUP',
  Labels: 'LABELS',
  Links: 'LINKS',
  Mountpoint: 'MOUNTPOINT',
  Name: 'VOLUME NAME',
  Scope: 'SCOPE',
  Size: 'SIZE',
  Status: 'STATUS',
};

export function volumeRow(v: Volume): Record<string, string> {
  const usage = v.UsageData;
  return {
    Availability: 'N/A',
    Driver: v.Driver,
    Group: 'N/A',
    Labels: Object.keys(v.Labels ?? {}).sort().map((k) => `${k}=${v.Labels[k]}`).join(','),
    Links: usage && usage.RefCount >= 0 ? String(usage.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: usage && usage.Size >= 0 ? humanSize(usage.Size) : 'N/A',
    Status: 'N/A',
  };
}

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const res = await new VolumesApi(await ctx.client()).list({ filters: parseFilterFlags(opts['filter']) });
  const quiet = opts['quiet'] === true;
  const rows = [...(res.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)).map(volumeRow);
  const defaultFormat = quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
  await ctx.print(renderList({ format: quiet ? undefined : stringOpt(opts['format']), defaultFormat, headers: HEADERS }, rows));
}
