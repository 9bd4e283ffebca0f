import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedMutex } from '../util/index.js';
import type { ContentStore } from './content-store.js';
import { collectGarbage, type GcResult, type GcRoots } from './gc.js';
import type { LayerStore, Snapshotter } from './layer-store.js';
import { CONTENT_DIR, LAYERS_DIR, SNAPSHOTS_DIR } from './layout.js';
import { LeaseManager, type Leases } from './leases.js';
import { LocalContentStore } from './local-content-store.js';
import { LocalLayerStore } from './local-layer-store.js';
import { OverlaySnapshotter } from './overlay-snapshotter.js';

export type { GcResult, GcRoots } from './gc.js';

/** Everything under one data-root that holds image and container filesystems. */
export interface Storage {
  readonly root: string;
  content: ContentStore;
  layers: LayerStore;
  snapshotter: Snapshotter;
  leases: Leases;
  /** Removes blobs and layers that are neither roots, nor leased, nor under a snapshot or a kept layer. */
  gc(roots: GcRoots, opts?: { signal?: AbortSignal }): Promise<GcResult>;
}

/**
 * Opens (creating) the storage under `root` (the data-root): `content/`, `layers/`, `snapshots/`.
 * Leftovers of a crash (ingests, half-built layers and snapshots) are swept on the way.
 */
export async function openStorage(root: string, opts: { signal?: AbortSignal } = {}): Promise<Storage> {
  await mkdir(root, { recursive: true });
  const leases = new LeaseManager();
  const content = await LocalContentStore.open(join(root, CONTENT_DIR), opts);
  const layers = await LocalLayerStore.open(join(root, LAYERS_DIR));
  const snapshotter = await OverlaySnapshotter.open(join(root, SNAPSHOTS_DIR), layers);
  content.onCommit((d) => leases.noteBlob(d));
  layers.onApply((c) => leases.noteChain(c));
  layers.setUseCheck(async (chain) => (await snapshotter.list()).find((s) => s.parent === chain)?.key);
  const gcLock = new KeyedMutex();
  return {
    root,
    content,
    layers,
    snapshotter,
    leases,
    gc: (roots, o) => gcLock.run('gc', () => collectGarbage({ content, layers, snapshotter, leases }, roots, o)),
  };
}
