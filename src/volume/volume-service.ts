// Named and anonymous volumes of the `local` driver (on disk: volume-store.ts): the
// volume API, container references and mounts. Every change is written before it is
// visible, so a restarted daemon sees the same volumes and references. Data in a volume
// goes away only through an explicit removal of an unused volume.
import { stat } from 'node:fs/promises';
import {
  BerthError,
  KeyedMutex,
  conflict,
  invalidArgument,
  logger,
  notFound,
  type EventBus,
  type Logger,
} from '../util/index.js';
import { ANONYMOUS_LABEL, LOCAL_DRIVER } from './constants.js';
import { copyDirContents, isEmptyDir } from './copy-up.js';
import { directorySize } from './disk-usage.js';
import {
  matchesAllLabels,
  matchesAnyLabel,
  nameMatches,
  type VolumeListFilters,
  type VolumePruneFilters,
} from './filters.js';
import { mountLocalVolume, needsMount, unmountLocalVolume, validateLocalDriverOptions } from './local-driver.js';
import { isMountPoint } from './mountinfo.js';
import type { MountSpec, VolumeMountSpec } from './mount-spec.js';
import { generateVolumeName, validateVolumeName } from './names.js';
import { ensureBindSource, ociMountFor, sortByDestinationDepth, type OciMount } from './oci-mounts.js';
import { isLocalPath, secureJoin } from './secure-join.js';
import { VOLUME_META_VERSION, type VolumeMeta } from './volume-meta.js';
import { VolumeStore } from './volume-store.js';

/** A volume as the API shows it (camelCase; api/routes/volumes.ts spells it Docker's way). */
export interface Volume {
  name: string;
  driver: string;
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  scope: 'local';
  /** Only from `usage()` (`/system/df`). */
  usageData?: { size: number; refCount: number };
}

export interface CreateVolumeRequest {
  name?: string;
  driver?: string;
  driverOpts?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface VolumeServiceOptions {
  /** The volumes directory, normally `<dataRoot>/volumes`. */
  root: string;
  events: EventBus;
  log?: Logger;
}

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

interface Op {
  signal?: AbortSignal;
}

function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sameOptions(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

function noSuchVolume(name: string): BerthError {
  return notFound(`get ${name}: no such volume`);
}


export class VolumeService {
  readonly root: string;
  private readonly events: EventBus;
  private readonly log: Logger;
  private readonly locks = new KeyedMutex();
  private readonly store: VolumeStore;
  /**
   * Users of volumes without driver options: only bookkeeping (nothing to mount), so kept
   * in memory; a volume with options records its users in meta.json (`active`) because
   * its mount outlives the daemon.
   */
  private readonly plainActive = new Map<string, Set<string>>();
  private initPromise: Promise<void> | undefined;

  constructor(opts: VolumeServiceOptions) {
    this.root = opts.root;
    this.events = opts.events;
    this.log = opts.log ?? logger('volume');
    this.store = new VolumeStore(opts.root, this.log);
  }

  // -------------------------------------------------------------------------
  // start-up

  /**
   * Loads every volume from disk, finishes interrupted creations and removals, and
   * makes option mounts agree with the recorded users. Called lazily by every method;
   * the daemon may call it at start to pay the cost up front.
   */
  init(): Promise<void> {
    this.initPromise ??= this.store.load().catch((err) => {
      this.initPromise = undefined;
      throw err;
    });
    return this.initPromise;
  }

  // -------------------------------------------------------------------------
  // views

  private dataDir(name: string): string {
    return this.store.dataDir(name);
  }

  private toVolume(meta: VolumeMeta): Volume {
    return {
      name: meta.name,
      driver: meta.driver,
      mountpoint: this.dataDir(meta.name),
      createdAt: meta.createdAt,
      labels: { ...meta.labels },
      options: { ...meta.options },
      scope: 'local',
    };
  }

  /** Containers that have the volume mounted now. */
  private activeOf(meta: VolumeMeta): string[] {
    return needsMount(meta.options) ? meta.active : [...(this.plainActive.get(meta.name) ?? [])];
  }

  private get(name: string): VolumeMeta {
    const meta = this.store.find(name);
    if (!meta) throw noSuchVolume(name);
    return meta;
  }

  private save(meta: VolumeMeta): Promise<void> {
    return this.store.save(meta);
  }

  // -------------------------------------------------------------------------
  // volume API

  /**
   * Creates a volume, or returns the existing one of that name (Docker's idempotent
   * create). An existing volume with different driver options is a conflict.
   */
  async create(req: CreateVolumeRequest, opts: Op & { createdFor?: string; initialRef?: string } = {}): Promise<Volume> {
    await this.init();
    const driver = req.driver || LOCAL_DRIVER;
    if (driver !== LOCAL_DRIVER) {
      throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    }
    const driverOpts = { ...(req.driverOpts ?? {}) };
    validateLocalDriverOptions(driverOpts);
    const labels = { ...(req.labels ?? {}) };
    let name = req.name ?? '';
    if (name === '') {
      name = generateVolumeName();
      labels[ANONYMOUS_LABEL] = '';
    } else {
      validateVolumeName(name);
    }
    return this.locks.run(name, async () => {
      const existing = this.store.find(name);
      if (existing) {
        if (existing.driver !== driver) {
          throw conflict(`driver '${existing.driver}' already has volume '${name}': volume name must be unique`);
        }
        if (Object.keys(driverOpts).length > 0 && !sameOptions(existing.options, driverOpts)) {
          throw conflict(`volume "${name}" already exists with different options`);
        }
        return this.toVolume(existing);
      }
      const meta: VolumeMeta = {
        version: VOLUME_META_VERSION,
        name,
        driver,
        createdAt: nowRfc3339(),
        labels,
        options: driverOpts,
        // A volume made for a container is referenced from its first write (one fsync, not two).
        refs: opts.initialRef ? [opts.initialRef] : [],
        active: [],
        ...(opts.createdFor ? { createdFor: opts.createdFor } : {}),
        populated: false,
      };
      await this.store.add(meta);
      this.events.publish('volume', 'create', name, { driver });
      return this.toVolume(meta);
    });
  }

  async inspect(name: string): Promise<Volume> {
    await this.init();
    return this.toVolume(this.get(name));
  }

  /** Container ids that reference the volume. */
  async references(name: string): Promise<string[]> {
    await this.init();
    return [...this.get(name).refs];
  }

  async list(opts: { filters?: VolumeListFilters } = {}): Promise<{ volumes: Volume[]; warnings: string[] }> {
    await this.init();
    const f = opts.filters ?? {};
    const volumes = this.store.all()
      .filter((m) => f.dangling === undefined || (m.refs.length === 0) === f.dangling)
      .filter((m) => !f.driver?.length || f.driver.includes(m.driver))
      .filter((m) => matchesAllLabels(m.labels, f.label))
      .filter((m) => nameMatches(m.name, f.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((m) => this.toVolume(m));
    return { volumes, warnings: [] };
  }

  /**
   * Removes an unused volume and its data. A volume in use is a conflict even with
   * `force`; `force` only makes a missing volume a success (`docker volume rm -f`).
   */
  async remove(name: string, opts: Op & { force?: boolean } = {}): Promise<void> {
    await this.init();
    await this.locks.run(name, async () => {
      const meta = this.store.find(name);
      if (!meta) {
        if (opts.force) return;
        throw noSuchVolume(name);
      }
      if (meta.refs.length > 0) {
        throw conflict(`remove ${name}: volume is in use - [${meta.refs.join(', ')}]`);
      }
      await this.destroy(meta, opts);
    });
  }

  /** With the volume's lock held and no references left. */
  private async destroy(meta: VolumeMeta, opts: Op): Promise<void> {
    if (needsMount(meta.options)) await unmountLocalVolume(this.dataDir(meta.name), opts);
    await this.store.delete(meta);
    this.plainActive.delete(meta.name);
    this.events.publish('volume', 'destroy', meta.name, { driver: meta.driver });
  }

  /**
   * Removes unused volumes: only anonymous ones unless `all` (Docker ≥ 23), only those
   * matching the label filters. Sizes are measured before removal.
   */
  async prune(opts: Op & { filters?: VolumePruneFilters } = {}): Promise<{ volumesDeleted: string[]; spaceReclaimed: number }> {
    await this.init();
    const f = opts.filters ?? {};
    const candidates = this.store.all()
      .filter((m) => m.refs.length === 0 && m.driver === LOCAL_DRIVER)
      .filter((m) => f.all || Object.hasOwn(m.labels, ANONYMOUS_LABEL))
      .filter((m) => matchesAllLabels(m.labels, f.label))
      .filter((m) => !matchesAnyLabel(m.labels, f.labelNot))
      .map((m) => m.name)
      .sort();
    const volumesDeleted: string[] = [];
    let spaceReclaimed = 0;
    for (const name of candidates) {
      opts.signal?.throwIfAborted();
      await this.locks.run(name, async () => {
        const meta = this.store.find(name);
        // A container may have taken it meanwhile: then it is not unused any more.
        if (!meta || meta.refs.length > 0) return;
        const size = await directorySize(this.dataDir(name), opts).catch(() => 0);
        await this.destroy(meta, opts);
        volumesDeleted.push(name);
        spaceReclaimed += size;
      });
    }
    return { volumesDeleted, spaceReclaimed };
  }

  /** Every volume with its size and reference count (`/system/df`). */
  async usage(opts: Op = {}): Promise<Volume[]> {
    await this.init();
    const out: Volume[] = [];
    for (const v of (await this.list()).volumes) {
      const meta = this.store.find(v.name);
      if (!meta) continue;
      const size = await directorySize(v.mountpoint, opts);
      out.push({ ...v, usageData: { size, refCount: meta.refs.length } });
    }
    return out;
  }

  // -------------------------------------------------------------------------
  // references and mounts

  /** Records that a container references the volume (persisted; idempotent). */
  async acquire(name: string, containerId: string): Promise<void> {
    await this.init();
    await this.locks.run(name, async () => {
      const meta = this.get(name);
      if (meta.refs.includes(containerId)) return;
      await this.save({ ...meta, refs: [...meta.refs, containerId] });
    });
  }

  /** Drops a container's reference (and its mount, if it still has one). */
  async release(name: string, containerId: string, opts: Op = {}): Promise<void> {
    await this.init();
    await this.locks.run(name, async () => {
      const meta = this.store.find(name);
      if (!meta) return;
      await this.deactivateLocked(meta, containerId, opts);
      const cur = this.get(name);
      if (!cur.refs.includes(containerId)) return;
      await this.save({ ...cur, refs: cur.refs.filter((c) => c !== containerId) });
    });
  }

  /**
   * Fills an empty volume from `fromDir` (owners, modes, xattrs kept) the first time it
   * is used; later calls and non-empty volumes are left alone. Returns whether it copied.
   */
  async copyUp(name: string, fromDir: string, opts: Op = {}): Promise<boolean> {
    await this.init();
    return this.locks.run(name, () => this.copyUpLocked(this.get(name), fromDir, opts));
  }

  /** `fresh`: a driver-option mount (tmpfs) was just made, so earlier content is gone and copy-up applies again. */
  private async copyUpLocked(meta: VolumeMeta, fromDir: string | undefined, opts: Op, fresh = false): Promise<boolean> {
    if (meta.populated && !fresh) return false;
    let copied = false;
    const data = this.dataDir(meta.name);
    if (fromDir !== undefined && (await isEmptyDir(data))) {
      copied = await copyDirContents(fromDir, data, opts);
    }
    await this.save({ ...this.get(meta.name), populated: true });
    return copied;
  }

  /**
   * Marks a container as using the volume now; mounts its driver options on first use.
   * Returns true when it made that mount just now.
   */
  private async activateLocked(meta: VolumeMeta, spec: VolumeMountSpec, containerId: string, opts: Op): Promise<boolean> {
    if (this.activeOf(meta).includes(containerId)) return false;
    let mountedNow = false;
    if (needsMount(meta.options)) {
      const data = this.dataDir(meta.name);
      if (meta.active.length === 0 && !(await isMountPoint(data))) {
        await mountLocalVolume(meta.options, data, opts);
        mountedNow = true;
      }
      try {
        await this.save({ ...meta, active: [...meta.active, containerId] });
      } catch (err) {
        if (mountedNow) await unmountLocalVolume(data).catch(() => undefined);
        throw err;
      }
    } else {
      let set = this.plainActive.get(meta.name);
      if (!set) this.plainActive.set(meta.name, (set = new Set()));
      set.add(containerId);
    }
    this.events.publish('volume', 'mount', meta.name, {
      driver: meta.driver,
      container: containerId,
      destination: spec.destination,
      'read/write': String(!spec.readOnly),
      propagation: '',
    });
    return mountedNow;
  }

  private async deactivateLocked(meta: VolumeMeta, containerId: string, opts: Op): Promise<void> {
    if (!this.activeOf(meta).includes(containerId)) return;
    if (needsMount(meta.options)) {
      const active = meta.active.filter((c) => c !== containerId);
      if (active.length === 0) await unmountLocalVolume(this.dataDir(meta.name), opts);
      await this.save({ ...meta, active });
    } else {
      const set = this.plainActive.get(meta.name)!;
      set.delete(containerId);
      if (set.size === 0) this.plainActive.delete(meta.name);
    }
    this.events.publish('volume', 'unmount', meta.name, { driver: meta.driver, container: containerId });
  }

  /**
   * Creates the volumes a container's specs name (if missing) and records the
   * container's references, without mounting anything: call at container create.
   * On failure the caller removes the container and calls `releaseMounts(id, { removeAnonymous: true })`.
   */
  async prepareMounts(specs: readonly MountSpec[], opts: { containerId: string; signal?: AbortSignal }): Promise<void> {
    await this.init();
    for (const spec of specs) {
      if (spec.type !== 'volume') continue;
      await this.ensureVolume(spec, opts.containerId, opts);
      await this.acquire(spec.name, opts.containerId);
    }
  }

  private async ensureVolume(spec: VolumeMountSpec, containerId: string, opts: Op): Promise<void> {
    if (this.store.find(spec.name)) return;
    const labels = { ...(spec.labels ?? {}) };
    if (spec.anonymous) labels[ANONYMOUS_LABEL] = '';
    await this.create(
      { name: spec.name, driver: spec.driver, driverOpts: spec.driverOpts, labels },
      { ...opts, initialRef: containerId, ...(spec.anonymous ? { createdFor: containerId } : {}) },
    );
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
        this.log.warn('cannot undo volume mounts after a failed start', { error: (e as Error).message }),
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
      case 'volume': {
        const source = await this.locks.run(spec.name, async () => {
          const meta = this.get(spec.name);
          const fresh = await this.activateLocked(meta, spec, opts.containerId, opts);
          if (!spec.noCopy && (fresh || !this.get(spec.name).populated)) {
            const fromDir =
              opts.imageVolumeDirs?.[spec.destination] ??
              (opts.rootfs !== undefined ? await secureJoin(opts.rootfs, spec.destination) : undefined);
            if (fromDir !== undefined) await this.copyUpLocked(this.get(spec.name), fromDir, opts, fresh);
          }
          const data = this.dataDir(spec.name);
          if (!spec.subpath) return data;
          if (!isLocalPath(spec.subpath)) throw invalidArgument(`subpath must be a relative path within the volume`);
          const sub = await secureJoin(data, spec.subpath);
          try {
            await stat(sub);
          } catch (err) {
            throw invalidArgument(`cannot access path ${sub}: ${(err as Error).message}`, err);
          }
          return sub;
        });
        return ociMountFor(spec, source);
      }
    }
  }

  /** The container stopped: its volumes are no longer mounted by it (unmounted when nobody uses them). */
  async deactivateMounts(containerId: string, opts: Op = {}): Promise<void> {
    await this.init();
    const names = this.store.all().filter((m) => this.activeOf(m).includes(containerId)).map((m) => m.name);
    for (const name of names) {
      await this.locks.run(name, async () => {
        const meta = this.store.find(name);
        if (meta) await this.deactivateLocked(meta, containerId, opts);
      });
    }
  }

  /**
   * The container is being removed: drops all its references; with `removeAnonymous`
   * (`docker rm -v`) also removes the anonymous volumes created for it that no other
   * container uses. Named volumes are never removed here. Returns the removed names.
   */
  async releaseMounts(containerId: string, opts: Op & { removeAnonymous?: boolean } = {}): Promise<string[]> {
    await this.init();
    const names = this.store.all()
      .filter((m) => m.refs.includes(containerId) || this.activeOf(m).includes(containerId))
      .map((m) => m.name);
    const removed: string[] = [];
    for (const name of names) {
      await this.locks.run(name, async () => {
        const meta = this.store.find(name);
        if (!meta) return;
        await this.deactivateLocked(meta, containerId, opts);
        const cur = this.get(name);
        const refs = cur.refs.filter((c) => c !== containerId);
        if (opts.removeAnonymous && cur.createdFor === containerId && refs.length === 0) {
          try {
            await this.destroy(cur, opts);
            removed.push(name);
            return;
          } catch (err) {
            // Like dockerd's `rm -v`: a volume that cannot go is reported and kept, the removal goes on.
            this.log.warn('cannot remove the anonymous volume of a removed container', { volume: name, error: (err as Error).message });
          }
        }
        if (refs.length !== cur.refs.length) await this.save({ ...cur, refs });
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
  async reconcileReferences(existingContainerIds: Iterable<string>, opts: Op = {}): Promise<string[]> {
    await this.init();
    const live = new Set(existingContainerIds);
    const changed: string[] = [];
    for (const name of this.store.all().map((m) => m.name)) {
      await this.locks.run(name, async () => {
        const meta = this.store.find(name);
        if (!meta) return;
        const stale = [...new Set([...meta.refs, ...this.activeOf(meta)])].filter((c) => !live.has(c));
        if (stale.length === 0) return;
        for (const c of stale) await this.deactivateLocked(this.get(name), c, opts);
        const cur = this.get(name);
        if (cur.refs.some((c) => !live.has(c))) await this.save({ ...cur, refs: cur.refs.filter((c) => live.has(c)) });
        this.log.info('dropped references of containers that no longer exist', { volume: name, containers: stale.map((c) => c.slice(0, 12)) });
        changed.push(name);
      });
    }
    return changed;
  }

  /** The volume's `_data` path (for inspect's `Mounts[].Source`). */
  mountpointOf(name: string): string {
    return this.dataDir(name);
  }
}
