// berth system df (-v): docker's disk usage summary, computed as docker's formatter does.
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { renderList } from '../format/table.js';
import { createdSince, humanSize, humanSizeWithPrecision } from '../format/units.js';
import { stringOpt } from './filters.js';
import { ellipsis } from './container-rows.js';
import { imageRows, truncateId, type ImageSummaryView } from './image-rows.js';

interface DfContainer {
  Id: string;
  Names?: string[];
  Image?: string;
  Command?: string;
  Created?: number;
  State?: string;
  Status?: string;
  SizeRw?: number;
  Mounts?: { Driver?: string }[];
}
interface DfVolume {
  Name: string;
  Driver?: string;
  UsageData?: { Size: number; RefCount: number } | null;
}
interface DfBuildCache {
  ID: string;
  Type?: string;
  Size: number;
  InUse: boolean;
  Shared: boolean;
  CreatedAt?: string;
  LastUsedAt?: string | null;
  UsageCount?: number;
}
interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummaryView[] | null;
  Containers?: DfContainer[] | null;
  Volumes?: DfVolume[] | null;
  BuildCache?: DfBuildCache[] | null;
}

interface DfRow {
  Type: string;
  TotalCount: string;
  Active: string;
  Size: string;
  Reclaimable: string;
}

function reclaimable(reclaim: number, total: number): string {
  return total > 0 ? `${humanSize(reclaim)} (${Math.trunc((reclaim * 100) / total)}%)` : humanSize(reclaim);
}

export function summaryRows(du: DiskUsage): DfRow[] {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const layers = du.LayersSize ?? 0;
  let imgUsed = 0;
  for (const i of images) {
    if ((i.Containers ?? 0) > 0 && i.SharedSize !== -1 && (i.VirtualSize ?? i.Size) !== -1) imgUsed += (i.VirtualSize ?? i.Size) - (i.SharedSize ?? 0);
  }
  const ctrSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const ctrReclaim = containers.filter((c) => c.State !== 'running').reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const volSize = volumes.reduce((a, v) => a + (v.UsageData && v.UsageData.Size > 0 ? v.UsageData.Size : 0), 0);
  const volReclaim = volumes.reduce((a, v) => a + (v.UsageData && v.UsageData.RefCount === 0 && v.UsageData.Size > 0 ? v.UsageData.Size : 0), 0);
  const cacheSize = cache.filter((c) => !c.Shared).reduce((a, c) => a + c.Size, 0);
  const cacheReclaim = cache.filter((c) => !c.Shared && !c.InUse).reduce((a, c) => a + c.Size, 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => (i.Containers ?? 0) > 0).length), Size: humanSize(layers), Reclaimable: reclaimable(layers - imgUsed, layers) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter((c) => c.State === 'running').length), Size: humanSize(ctrSize), Reclaimable: reclaimable(ctrReclaim, ctrSize) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(volSize), Reclaimable: reclaimable(volReclaim, volSize) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((c) => c.InUse).length), Size: humanSize(cacheSize), Reclaimable: humanSize(cacheReclaim) },
  ];
}

async function printVerbose(ctx: CommandContext, du: DiskUsage): Promise<void> {
  const imgs = imageRows(du.Images ?? [], { digests: false, noTrunc: false });
  let out = 'Images space usage:\n\n';
  out += renderList(
    { format: undefined, defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' } },
    imgs,
  );
  out += '\nContainers space usage:\n\n';
  out += renderList(
    { format: undefined, defaultFormat: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.CreatedSince}}\t{{.Status}}\t{{.Names}}', headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', CreatedSince: 'CREATED', Status: 'STATUS', Names: 'NAMES' } },
    (du.Containers ?? []).map((c) => ({
      ID: truncateId(c.Id),
      Image: c.Image ?? '',
      // As docker's diskUsageContainersContext: the command cut to 20 characters, then quoted;
      // only mounts of local-driver volumes count (not binds or tmpfs).
      Command: JSON.stringify(ellipsis(c.Command ?? '', 20)),
      LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
      Size: humanSizeWithPrecision(c.SizeRw ?? 0, 3),
      CreatedSince: c.Created ? createdSince(c.Created) : '',
      Status: c.Status ?? '',
      Names: (c.Names ?? []).map((n) => n.replace(/^\//, '')).join(','),
    })),
  );
  out += '\nLocal Volumes space usage:\n\n';
  out += renderList(
    { format: undefined, defaultFormat: 'table {{.Name}}\t{{.Links}}\t{{.Size}}', headers: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' } },
    (du.Volumes ?? []).map((v) => ({ Name: v.Name, Links: String(v.UsageData?.RefCount ?? 0), Size: humanSize(Math.max(0, v.UsageData?.Size ?? 0)) })),
  );
  out += `\nBuild cache usage: ${humanSize((du.BuildCache ?? []).reduce((a, c) => a + c.Size, 0))}\n\n`;
  out += renderList(
    {
      format: undefined,
      defaultFormat: 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
      headers: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' },
    },
    (du.BuildCache ?? []).map((c) => ({
      ID: c.ID.slice(0, 12),
      CacheType: c.Type,
      Size: humanSizeWithPrecision(c.Size, 3),
      CreatedSince: c.CreatedAt ? createdSince(Date.parse(c.CreatedAt) / 1000) : '',
      LastUsedSince: c.LastUsedAt ? createdSince(Date.parse(c.LastUsedAt) / 1000) : '',
      UsageCount: String(c.UsageCount ?? 0),
      Shared: String(c.Shared),
    })),
  );
  await ctx.print(out);
}

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const client = await ctx.client();
  const du = await client.systemDf<DiskUsage>();
  const format = stringOpt(opts['format']);
  if (opts['verbose'] === true && !format) return printVerbose(ctx, du);
  await ctx.print(
    renderList(
      {
        format,
        defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
        headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
      },
      summaryRows(du),
    ),
  );
}
