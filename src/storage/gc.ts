import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../util/index.js';
import type { ChainId } from './layer-store.js';
import type { LeaseManager } from './leases.js';
import type { LocalContentStore } from './local-content-store.js';
import type { LayerMeta, LocalLayerStore } from './local-layer-store.js';
import type { OverlaySnapshotter } from './overlay-snapshotter.js';

export interface GcRoots {
  /** Blobs the image store (manifests, configs, layers of tagged images) and builder keep. */
  blobs: Set<Digest>;
  /** Layers images and containers keep (their whole parent chain is kept too). */
  chains: Set<ChainId>;
}

export interface GcResult {
  removedBlobs: number;
  removedLayers: number;
  reclaimedBytes: number;
}

/** Bytes of the files below `dir` (each inode once), for reporting what GC reclaimed. */
export async function diskUsage(dir: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
  let total = 0;
  const seen = new Set<number>();
  const stack = [dir];
  while (stack.length > 0) {
    opts.signal?.throwIfAborted();
    const cur = stack.pop()!;
    let entries;
    try {
      entries = await readdir(cur, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const e of entries) {
      const p = join(cur, e.name);
      if (e.isDirectory()) {
        stack.push(p);
        continue;
      }
      if (!e.isFile()) continue;
      const st = await lstat(p);
      if (st.nlink > 1) {
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
      }
      total += st.size;
    }
  }
  return total;
}

/**
 * Mark and sweep. Kept: the roots, everything a held lease protects, the parent layer of every
 * snapshot, and every ancestor of a kept layer. Layers go children first, then unkept blobs.
 */
export async function collectGarbage(
  stores: { content: LocalContentStore; layers: LocalLayerStore; snapshotter: OverlaySnapshotter; leases: LeaseManager },
  roots: GcRoots,
  opts: { signal?: AbortSignal } = {},
): Promise<GcResult> {
  const leased = stores.leases.protectedResources();
  const metas = new Map<string, LayerMeta>();
  for (const m of await stores.layers.allMeta()) metas.set(m.chainId, m);

  const keepChains = new Set<string>();
  const mark = (chain: string | undefined) => {
    while (chain && !keepChains.has(chain)) {
      keepChains.add(chain);
      chain = metas.get(chain)?.parent;
    }
  };
  for (const c of roots.chains) mark(c);
  for (const c of leased.chains) mark(c);
  for (const s of await stores.snapshotter.list()) mark(s.parent);

  const result: GcResult = { removedBlobs: 0, removedLayers: 0, reclaimedBytes: 0 };
  const depth = (m: LayerMeta) => m.lowers.length;
  const doomed = [...metas.values()].filter((m) => !keepChains.has(m.chainId)).sort((a, b) => depth(b) - depth(a));
  for (const meta of doomed) {
    opts.signal?.throwIfAborted();
    result.reclaimedBytes += await diskUsage(stores.layers.diffPath(meta.chainId as ChainId), opts);
    await stores.layers.removeUnchecked(meta);
    result.removedLayers++;
  }

  const keepBlobs = new Set<string>([...roots.blobs, ...leased.blobs]);
  for await (const blob of stores.content.list()) {
    opts.signal?.throwIfAborted();
    if (keepBlobs.has(blob.digest)) continue;
    // A lease taken after the mark may protect it now.
    if (stores.leases.protectedResources().blobs.has(blob.digest)) continue;
    try {
      await stores.content.delete(blob.digest);
    } catch (err) {
      if ((err as { kind?: string }).kind === 'not-found') continue; // deleted meanwhile: nothing to reclaim
      throw err;
    }
    result.removedBlobs++;
    result.reclaimedBytes += blob.size;
  }
  return result;
}
