// GET /system/df — images from the ImageService; containers, volumes and build cache from
// whichever backends exist (empty lists until they do).
import type { BuildCacheRecord, ContainerSummary, SystemDataUsageResponse, Volume } from '../../client/index.js';
import type { ImageService } from '../../image/index.js';
import type { ContainerService } from '../../runtime/index.js';
import { BerthError } from '../../util/index.js';
import type { Route } from '../router.js';
import { summaryWire } from './containers-wire.js';
import { toWireSummary } from './images.js';

/** The other parts of `docker system df`; each backend adds its own when it is wired. */
export interface DiskUsageParts {
  containers?: (opts: { signal?: AbortSignal }) => Promise<ContainerSummary[]>;
  volumes?: (opts: { signal?: AbortSignal }) => Promise<Volume[]>;
  buildCache?: (opts: { signal?: AbortSignal }) => Promise<BuildCacheRecord[]>;
}

/**
 * The containers part, as dockerd lists it for `docker system df`: every container, running
 * or not, with the sizes of its writable layer and rootfs (`ListOptions{All, Size}`).
 */
export function containerDiskUsage(
  backend: Pick<ContainerService, 'list' | 'sizeOf'>,
  listedImage?: (ref: string, imageId: string) => string,
): NonNullable<DiskUsageParts['containers']> {
  return async () => {
    const out: ContainerSummary[] = [];
    for (const c of backend.list()) {
      const w = summaryWire(c, { size: await backend.sizeOf(c) });
      if (listedImage) w.Image = listedImage(c.config.image.ref, c.config.image.id);
      out.push(w);
    }
    return out;
  };
}

const TYPES = ['container', 'image', 'volume', 'build-cache'] as const;

export function systemDfRoutes(images: Pick<ImageService, 'diskUsage'>, parts: DiskUsageParts = {}): Route[] {
  return [
    {
      method: 'GET',
      path: '/system/df',
      handler: async (ctx) => {
        const requested = ctx.query.getAll('type');
        for (const t of requested) {
          if (!(TYPES as readonly string[]).includes(t)) {
            throw new BerthError('invalid-argument', `unknown object type: ${t}`);
          }
        }
        const want = (t: (typeof TYPES)[number]) => requested.length === 0 || requested.includes(t);
        const o = { signal: ctx.signal };
        const [img, containers, volumes, buildCache] = await Promise.all([
          want('image') ? images.diskUsage(o) : undefined,
          want('container') && parts.containers ? parts.containers(o) : [],
          want('volume') && parts.volumes ? parts.volumes(o) : [],
          want('build-cache') && parts.buildCache ? parts.buildCache(o) : [],
        ]);
        const body: SystemDataUsageResponse = {
          LayersSize: img?.layersSize ?? 0,
          Images: img ? img.images.map((s) => toWireSummary(s, ctx.apiVersion)) : [],
          Containers: containers,
          Volumes: volumes,
          BuildCache: buildCache,
        };
        ctx.sendJson(200, body);
      },
    },
  ];
}
