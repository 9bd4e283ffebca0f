// The container side of volumes: references (a container that names a volume keeps it
// from removal), mounts while the container runs, copy-up of image content into a fresh
// volume, and the clean-up when a container stops, is removed, or vanished in a crash.
import { stat } from 'node:fs/promises';
import { invalidArgument } from '../util/index.js';
import { copyDirContents, isEmptyDir } from './copy-up.js';
import type { MountSpec, VolumeMountSpec } from './mount-spec.js';
import { ensureBindSource, ociMountFor, sortByDestinationDepth, type OciMount } from './oci-mounts.js';
import { isLocalPath, secureJoin } from './secure-join.js';
import type { VolumeCatalog, VolumeOp } from './volume-catalog.js';
import type { VolumeMeta } from './volume-meta.js';

export interface ResolveMountsOptions {
  containerId: string;
  /**
   * The container's root filesystem (mounted): the image's content at a volume's
   * destination is found there, symlinks resolved inside it, for copy-up.
   */
  rootfs?: string;
  /** Explicit copy-up sources by destination; wins over `rootfs`. */
  imageVolumeDirs?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

/** Creates a volume a mount spec names but that does not exist yet, referenced by the container. */
export type EnsureVolume = (spec: VolumeMountSpec, containerId: string, opts: VolumeOp) => Promise<void>;

export class VolumeMounts {
  constructor(
    private readonly catalog: VolumeCatalog,
    private readonly ensureVolume: EnsureVolume,
  ) {}

  /** Records that a container references the volume (persisted; idempotent). */
  async acquire(name: string, containerId: string): Promise<void> {
    const c = this.catalog;
    await c.init();
    await c.locks.run(name, async () => {
      const meta = c.get(name);
      if (meta.refs.includes(containerId)) return;
      await c.save({ ...meta, refs: [...meta.refs, containerId] });
    });
  }

  /** Drops a container's reference (and its mount, if it still has one). */
  async release(name: string, containerId: string, opts: VolumeOp = {}): Promise<void> {
    const c = this.catalog;
    await c.init();
    await c.locks.run(name, async () => {
      const meta = c.find(name);
      if (!meta) return;
      await c.deactivate(meta, containerId, opts);
      const cur = c.get(name);
      if (!cur.refs.includes(containerId)) return;
      await c.save({ ...cur, refs: cur.refs.filter((id) => id !== containerId) });
    });
  }

  /**
   * Fills an empty volume from `fromDir` (owners, modes, xattrs kept) the first time it
   * is used; later calls and non-empty volumes are left alone. Returns whether it copied.
   */
  async copyUp(name: string, fromDir: string, opts: VolumeOp = {}): Promise<boolean> {
    const c = this.catalog;
    await c.init();
    return c.locks.run(name, () => this.copyUpLocked(c.get(name), fromDir, opts));
  }

  /** `fresh`: a driver-option mount (tmpfs) was just made, so earlier content is gone and copy-up applies again. */
  private async copyUpLocked(meta: VolumeMeta, fromDir: string | undefined, opts: VolumeOp, fresh = false): Promise<boolean> {
    if (meta.populated && !fresh) return false;
    let copied = false;
    const data = this.catalog.dataDir(meta.name);
    if (fromDir !== undefined && (await isEmptyDir(data))) {
      copied = await copyDirContents(fromDir, data, opts);
    }
    await this.catalog.save({ ...this.catalog.get(meta.name), populated: true });
    return copied;
  }

  /**
   * Creates the volumes a container's specs name (if missing) and records the
   * container's references, without mounting anything: call at container create.
   * On failure the caller removes the container and calls `releaseMounts(id, { removeAnonymous: true })`.
   */
  async prepareMounts(specs: readonly MountSpec[], opts: { containerId: string; signal?: AbortSignal }): Promise<void> {
    await this.catalog.init();
    for (const spec of specs) {
      if (spec.type !== 'volume') continue;
      if (!this.catalog.find(spec.name)) await this.ensureVolume(spec, opts.containerId, opts);
      await this.acquire(spec.name, opts.containerId);
    }
  }

  /**
   * Turns a container's mount specs into OCI mounts for runc, at container start:
   * creates and references volumes (as `prepareMounts`), mounts local volumes with
   * driver options, copies image content into fresh volumes, creates missing `-v` host
   * directories. Parents come before children. On failure nothing stays mounted for
   * this container.
   */
  async resolveMounts(specs: readonly MountSpec[], opts: ResolveMountsOptions): Promise<OciMount[]> {
    await this.prepareMounts(specs, opts);
    const out: OciMount[] = [];
    try {
      for (const spec of sortByDestinationDepth(specs)) {
        out.push(await this.resolveOne(spec, opts));
      }
    } catch (err) {
      await this.deactivateMounts(opts.containerId).catch((e: unknown) =>
        this.catalog.log.warn('cannot undo volume mounts after a failed start', { error: (e as Error).message }),
      );
      throw err;
    }
    return out;
  }

  private async resolveOne(spec: MountSpec, opts: ResolveMountsOptions): Promise<OciMount> {
    switch (spec.type) {
      case 'bind':
        await ensureBindSource(spec);
        return ociMountFor(spec, spec.source);
      case 'tmpfs':
        return ociMountFor(spec, 'tmpfs');
      case 'volume':
        return ociMountFor(spec, await this.catalog.locks.run(spec.name, () => this.mountVolumeLocked(spec, opts)));
    }
  }

  /** Returns the host path to bind: the volume's data, or its subpath. */
  private async mountVolumeLocked(spec: VolumeMountSpec, opts: ResolveMountsOptions): Promise<string> {
    const c = this.catalog;
    const fresh = await c.activate(c.get(spec.name), spec, opts.containerId, opts);
    if (!spec.noCopy && (fresh || !c.get(spec.name).populated)) {
      const fromDir =
        opts.imageVolumeDirs?.[spec.destination] ??
        (opts.rootfs !== undefined ? await secureJoin(opts.rootfs, spec.destination) : undefined);
      if (fromDir !== undefined) await this.copyUpLocked(c.get(spec.name), fromDir, opts, fresh);
    }
    const data = c.dataDir(spec.name);
    if (!spec.subpath) return data;
    if (!isLocalPath(spec.subpath)) throw invalidArgument(`subpath must be a relative path within the volume`);
    const sub = await secureJoin(data, spec.subpath);
    try {
      await stat(sub);
    } catch (err) {
      throw invalidArgument(`cannot access path ${sub}: ${(err as Error).message}`, err);
    }
    return sub;
  }

  /** The container stopped: its volumes are no longer mounted by it (unmounted when nobody uses them). */
  async deactivateMounts(containerId: string, opts: VolumeOp = {}): Promise<void> {
    const c = this.catalog;
    await c.init();
    const names = c.all().filter((m) => c.activeOf(m).includes(containerId)).map((m) => m.name);
    for (const name of names) {
      await c.locks.run(name, async () => {
        const meta = c.find(name);
        if (meta) await c.deactivate(meta, containerId, opts);
      });
    }
  }

  /**
   * The container is being removed: drops all its references; with `removeAnonymous`
   * (`docker rm -v`) also removes the anonymous volumes created for it that no other
   * container uses. Named volumes are never removed here. Returns the removed names.
   */
  async releaseMounts(containerId: string, opts: VolumeOp & { removeAnonymous?: boolean } = {}): Promise<string[]> {
    const c = this.catalog;
    await c.init();
    const names = c.all()
      .filter((m) => m.refs.includes(containerId) || c.activeOf(m).includes(containerId))
      .map((m) => m.name);
    const removed: string[] = [];
    for (const name of names) {
      await c.locks.run(name, async () => {
        const meta = c.find(name);
        if (!meta) return;
        await c.deactivate(meta, containerId, opts);
        const cur = c.get(name);
        const refs = cur.refs.filter((id) => id !== containerId);
        if (opts.removeAnonymous && cur.createdFor === containerId && refs.length === 0) {
          try {
            await c.destroy(cur, opts);
            removed.push(name);
            return;
          } catch (err) {
            // Like dockerd's `rm -v`: a volume that cannot go is reported and kept, the removal goes on.
            c.log.warn('cannot remove the anonymous volume of a removed container', { volume: name, error: (err as Error).message });
          }
        }
        if (refs.length !== cur.refs.length) await c.save({ ...cur, refs });
      });
    }
    return removed;
  }

  /**
   * At daemon start, after the runtime loaded its containers: references held by
   * containers that no longer exist (a crash between a volume's creation and the
   * container's) are dropped, so those volumes do not stay "in use" forever. Their data is
   * kept; anonymous ones become dangling and `volume prune` can take them. Returns the
   * names whose references changed.
   */
  async reconcileReferences(existingContainerIds: Iterable<string>, opts: VolumeOp = {}): Promise<string[]> {
    const c = this.catalog;
    await c.init();
    const live = new Set(existingContainerIds);
    const changed: string[] = [];
    for (const name of c.all().map((m) => m.name)) {
      await c.locks.run(name, async () => {
        const meta = c.find(name);
        if (!meta) return;
        const stale = [...new Set([...meta.refs, ...c.activeOf(meta)])].filter((id) => !live.has(id));
        if (stale.length === 0) return;
        for (const id of stale) await c.deactivate(c.get(name), id, opts);
        const cur = c.get(name);
        if (cur.refs.some((id) => !live.has(id))) await c.save({ ...cur, refs: cur.refs.filter((id) => live.has(id)) });
        c.log.info('dropped references of containers that no longer exist', { volume: name, containers: stale.map((id) => id.slice(0, 12)) });
        changed.push(name);
      });
    }
    return changed;
  }
}
