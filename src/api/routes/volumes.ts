// /volumes: list, create, inspect, remove, prune. Parses Docker's wire shapes, calls the
// backend once and answers in Docker's shape (swagger v1.51 Volume*).
import { z } from 'zod';
import type { Volume as WireVolume, VolumeListResponse, VolumePruneResponse, VolumesDiskUsage } from '../../client/index.js';
import { BerthError } from '../../util/index.js';
import type {
  CreateVolumeRequest,
  Volume,
  VolumeListFilters,
  VolumePruneFilters,
} from '../../volume/index.js';
import { apiVersionAtLeast } from '../api-version.js';
import type { Filters } from '../filters.js';
import type { Route } from '../router.js';

/** What the volume routes need (the VolumeService satisfies it). */
export interface VolumeBackend {
  create(req: CreateVolumeRequest, opts?: { signal?: AbortSignal }): Promise<Volume>;
  list(opts: { filters?: VolumeListFilters }): Promise<{ volumes: Volume[]; warnings: string[] }>;
  inspect(name: string): Promise<Volume>;
  remove(name: string, opts: { force?: boolean; signal?: AbortSignal }): Promise<void>;
  prune(opts: { filters?: VolumePruneFilters; signal?: AbortSignal }): Promise<{ volumesDeleted: string[]; spaceReclaimed: number }>;
}

const StringMap = z.record(z.string(), z.string()).nullish();

/** `POST /volumes/create`; unknown fields (ClusterVolumeSpec) are ignored, an empty body creates an anonymous volume. */
const VolumeCreateBody = z
  .object({
    Name: z.string().nullish(),
    Driver: z.string().nullish(),
    DriverOpts: StringMap,
    Labels: StringMap,
  })
  .nullish();

export function toWireVolume(v: Volume): WireVolume {
  const out: WireVolume = {
    CreatedAt: v.createdAt,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: v.options,
    Scope: v.scope,
  };
  if (v.usageData) out.UsageData = { Size: v.usageData.size, RefCount: v.usageData.refCount };
  return out;
}

/** The `Volumes` part of `/system/df` (`system df -v`), from `VolumeService.usage()`. */
export function toVolumesDiskUsage(volumes: readonly Volume[]): VolumesDiskUsage {
  const items = volumes.map(toWireVolume);
  let active = 0;
  let total = 0;
  let reclaimable = 0;
  for (const v of volumes) {
    const size = Math.max(0, v.usageData?.size ?? 0);
    total += size;
    if ((v.usageData?.refCount ?? 0) > 0) active++;
    else reclaimable += size;
  }
  return { ActiveCount: active, TotalCount: volumes.length, Reclaimable: reclaimable, TotalSize: total, Items: items };
}

/** A true/false filter; `badValue` words the error for an unknown value. */
function boolFilter(f: Filters, key: string, badValue: (values: string[]) => string): boolean | undefined {
  const values = f.get(key);
  if (values.length === 0) return undefined;
  const v = values[0]!.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new BerthError('invalid-argument', badValue(values));
}

export function listFiltersOf(f: Filters): VolumeListFilters {
  f.validate(['dangling', 'driver', 'label', 'name']);
  const out: VolumeListFilters = {};
  // dockerd's volume service words this one with a capital and the value list.
  const dangling = boolFilter(f, 'dangling', (v) => `Invalid filter 'dangling=[${v.join(' ')}]'`);
  if (dangling !== undefined) out.dangling = dangling;
  if (f.has('driver')) out.driver = f.get('driver');
  if (f.has('label')) out.label = f.get('label');
  if (f.has('name')) out.name = f.get('name');
  return out;
}

/** Before API 1.42 (Docker 23) prune removed named volumes too; newer clients ask with `all`. */
export function pruneFiltersOf(f: Filters, apiVersion: string): VolumePruneFilters {
  f.validate(['label', 'label!', 'all']);
  const out: VolumePruneFilters = {};
  const all = boolFilter(f, 'all', (v) => `invalid filter 'all=${v[0]}'`);
  if (all || !apiVersionAtLeast(apiVersion, '1.42')) out.all = true;
  if (f.has('label')) out.label = f.get('label');
  if (f.has('label!')) out.labelNot = f.get('label!');
  return out;
}

export function volumeRoutes(backend: VolumeBackend): Route[] {
  return [
    {
      method: 'GET',
      path: '/volumes',
      handler: async (ctx) => {
        const { volumes, warnings } = await backend.list({ filters: listFiltersOf(ctx.queryFilters()) });
        const body: VolumeListResponse = { Volumes: volumes.map(toWireVolume), Warnings: warnings };
        ctx.sendJson(200, body);
      },
    },
    {
      method: 'POST',
      path: '/volumes/create',
      handler: async (ctx) => {
        const b = (await ctx.readJson(VolumeCreateBody)) ?? {};
        const req: CreateVolumeRequest = {};
        if (b.Name) req.name = b.Name;
        if (b.Driver) req.driver = b.Driver;
        if (b.DriverOpts) req.driverOpts = b.DriverOpts;
        if (b.Labels) req.labels = b.Labels;
        ctx.sendJson(201, toWireVolume(await backend.create(req, { signal: ctx.signal })));
      },
    },
    {
      method: 'POST',
      path: '/volumes/prune',
      handler: async (ctx) => {
        const r = await backend.prune({ filters: pruneFiltersOf(ctx.queryFilters(), ctx.apiVersion), signal: ctx.signal });
        const body: VolumePruneResponse = { VolumesDeleted: r.volumesDeleted, SpaceReclaimed: r.spaceReclaimed };
        ctx.sendJson(200, body);
      },
    },
    {
      method: 'GET',
      path: '/volumes/{name}',
      handler: async (ctx) => ctx.sendJson(200, toWireVolume(await backend.inspect(ctx.param('name')))),
    },
    {
      method: 'DELETE',
      path: '/volumes/{name}',
      handler: async (ctx) => {
        await backend.remove(ctx.param('name'), { force: ctx.queryBool('force'), signal: ctx.signal });
        ctx.sendNoContent();
      },
    },
  ];
}
