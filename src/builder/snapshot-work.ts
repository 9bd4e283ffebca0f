// Mounted working copies of an image's filesystem for one step: prepared on the parent
// layer, mounted under `<data-root>/builder/mnt/<key>`, always unmounted and removed.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type { ChainId, Storage } from '../storage/index.js';

export interface MountedSnapshot {
  key: string;
  rootfs: string;
  /** Unmounts (idempotent). The snapshot stays until `release`. */
  unmount(): Promise<void>;
  /** The changes as a layer tar; call after `unmount`. */
  diff(opts: { signal?: AbortSignal }): Readable;
  release(): Promise<void>;
}

export async function mountSnapshot(storage: Storage, workRoot: string, parent: ChainId | undefined, opts: { signal?: AbortSignal } = {}): Promise<MountedSnapshot> {
  const key = `build-${randomBytes(8).toString('hex')}`;
  const rootfs = join(workRoot, 'mnt', key);
  await storage.snapshotter.prepare(key, parent, opts);
  let mounted = false;
  const unmount = async () => {
    if (!mounted) return;
    await storage.snapshotter.unmount(rootfs);
    mounted = false;
    await rm(rootfs, { recursive: true, force: true });
  };
  try {
    // Volatile: the working copy never outlives its step (its diff becomes a layer, synced by
    // the layer store), so its unmount need not sync the whole filesystem it lives on.
    await storage.snapshotter.mount(key, rootfs, { ...opts, volatile: true });
    mounted = true;
  } catch (err) {
    await storage.snapshotter.remove(key).catch(() => undefined); // the mount error is the one to report
    await rm(rootfs, { recursive: true, force: true });
    throw err;
  }
  return {
    key,
    rootfs,
    unmount,
    diff: (o) => storage.snapshotter.diff(key, o),
    release: async () => {
      await unmount();
      await storage.snapshotter.remove(key);
    },
  };
}

/** Passes bytes through and counts them (layer sizes for the cache index). */
export function byteCounter(): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk: Buffer, _e, cb) {
      (t as Transform & { bytes: number }).bytes += chunk.length;
      cb(null, chunk);
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}
