// The volumes known to the daemon and what is shared by the volume API and the container
// side: the on-disk store, one lock per volume name, which containers have a volume
// mounted now, and removal. Both VolumeService and VolumeMounts work through it, so every
// change to a volume's record happens under that volume's lock.
import { KeyedMutex, logger, notFound, type BerthError, type EventBus, type Logger } from '../util/index.js';
import { mountLocalVolume, needsMount, unmountLocalVolume } from './local-driver.js';
import { isMountPoint } from './mountinfo.js';
import type { VolumeMountSpec } from './mount-spec.js';
import type { VolumeMeta } from './volume-meta.js';
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

export interface VolumeOp {
  signal?: AbortSignal;
}

export function noSuchVolume(name: string): BerthError {
  return notFound(`get ${name}: no such volume`);
}

export class VolumeCatalog {
  readonly log: Logger;
  readonly locks = new KeyedMutex();
  private readonly store: VolumeStore;
  /**
   * Users of volumes without driver options: only bookkeeping (nothing to mount), so kept
   * in memory; a volume with options records its users in meta.json (`active`) because
   * its mount outlives the daemon.
   */
  private readonly plainActive = new Map<string, Set<string>>();
  private initPromise: Promise<void> | undefined;

  constructor(
    readonly root: string,
    readonly events: EventBus,
    log?: Logger,
  ) {
    this.log = log ?? logger('volume');
    this.store = new VolumeStore(root, this.log);
  }

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

  dataDir(name: string): string {
    return this.store.dataDir(name);
  }

  find(name: string): VolumeMeta | undefined {
    return this.store.find(name);
  }

  get(name: string): VolumeMeta {
    const meta = this.store.find(name);
    if (!meta) throw noSuchVolume(name);
    return meta;
  }

  all(): VolumeMeta[] {
    return this.store.all();
  }

  add(meta: VolumeMeta): Promise<void> {
    return this.store.add(meta);
  }

  save(meta: VolumeMeta): Promise<void> {
    return this.store.save(meta);
  }

  toVolume(meta: VolumeMeta): Volume {
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
  activeOf(meta: VolumeMeta): string[] {
    return needsMount(meta.options) ? meta.active : [...(this.plainActive.get(meta.name) ?? [])];
  }

  /**
   * With the volume's lock held: marks a container as using the volume now and mounts its
   * driver options on first use. Returns true when it made that mount just now.
   */
  async activate(meta: VolumeMeta, spec: VolumeMountSpec, containerId: string, opts: VolumeOp): Promise<boolean> {
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

  /** With the volume's lock held: the container no longer uses it (unmounted when nobody does). */
  async deactivate(meta: VolumeMeta, containerId: string, opts: VolumeOp): Promise<void> {
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

  /** With the volume's lock held and no references left: removes the volume and its data. */
  async destroy(meta: VolumeMeta, opts: VolumeOp): Promise<void> {
    if (needsMount(meta.options)) await unmountLocalVolume(this.dataDir(meta.name), opts);
    await this.store.delete(meta);
    this.plainActive.delete(meta.name);
    this.events.publish('volume', 'destroy', meta.name, { driver: meta.driver });
  }
}
