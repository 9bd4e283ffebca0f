// Named and anonymous volumes of the `local` driver (on disk: volume-store.ts): the
// volume API (create, inspect, list, remove, prune, disk usage). The container side —
// references, mounts, copy-up — is volume-mounts.ts; both share one VolumeCatalog. Every
// change is written before it is visible, so a restarted daemon sees the same volumes and
// references. Data in a volume goes away only through an explicit removal of an unused volume.
import { conflict, notFound, type EventBus, type Logger } from '../util/index.js';
import { ANONYMOUS_LABEL, LOCAL_DRIVER } from './constants.js';
import { directorySize } from './disk-usage.js';
import {
  matchesAllLabels,
  matchesAnyLabel,
  nameMatches,
  type VolumeListFilters,
  type VolumePruneFilters,
} from './filters.js';
import { validateLocalDriverOptions } from './local-driver.js';
import type { MountSpec, VolumeMountSpec } from './mount-spec.js';
import { generateVolumeName, validateVolumeName } from './names.js';
import type { OciMount } from './oci-mounts.js';
import { VolumeCatalog, noSuchVolume, type Volume, type VolumeOp } from './volume-catalog.js';
import { VOLUME_META_VERSION, type VolumeMeta } from './volume-meta.js';
import { VolumeMounts, type ResolveMountsOptions } from './volume-mounts.js';

export type { Volume } from './volume-catalog.js';
export type { ResolveMountsOptions } from './volume-mounts.js';

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

type Op = VolumeOp;

function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sameOptions(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

export class VolumeService {
  readonly root: string;
  private readonly catalog: VolumeCatalog;
  private readonly mounts: VolumeMounts;

  constructor(opts: VolumeServiceOptions) {
    this.root = opts.root;
    this.catalog = new VolumeCatalog(opts.root, opts.events, opts.log);
    this.mounts = new VolumeMounts(this.catalog, (spec, containerId, o) => this.createFor(spec, containerId, o));
  }

  /** See VolumeCatalog.init: loads and repairs the volumes on disk; every method calls it lazily. */
  init(): Promise<void> {
    return this.catalog.init();
  }

  // -------------------------------------------------------------------------
  // volume API

  /**
   * Creates a volume, or returns the existing one of that name (Docker's idempotent
   * create). An existing volume with different driver options is a conflict.
   */
  async create(req: CreateVolumeRequest, opts: Op & { createdFor?: string; initialRef?: string } = {}): Promise<Volume> {
    await this.catalog.init();
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
    return this.catalog.locks.run(name, async () => {
      const existing = this.catalog.find(name);
      if (existing) {
        if (existing.driver !== driver) {
          throw conflict(`driver '${existing.driver}' already has volume '${name}': volume name must be unique`);
        }
        if (Object.keys(driverOpts).length > 0 && !sameOptions(existing.options, driverOpts)) {
          throw conflict(`volume "${name}" already exists with different options`);
        }
        return this.catalog.toVolume(existing);
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
      await this.catalog.add(meta);
      this.catalog.events.publish('volume', 'create', name, { driver });
      return this.catalog.toVolume(meta);
    });
  }

  async inspect(name: string): Promise<Volume> {
    await this.catalog.init();
    return this.catalog.toVolume(this.catalog.get(name));
  }

  /** Container ids that reference the volume. */
  async references(name: string): Promise<string[]> {
    await this.catalog.init();
    return [...this.catalog.get(name).refs];
  }

  async list(opts: { filters?: VolumeListFilters } = {}): Promise<{ volumes: Volume[]; warnings: string[] }> {
    await this.catalog.init();
    const f = opts.filters ?? {};
    const volumes = this.catalog.all()
      .filter((m) => f.dangling === undefined || (m.refs.length === 0) === f.dangling)
      .filter((m) => !f.driver?.length || f.driver.includes(m.driver))
      .filter((m) => matchesAllLabels(m.labels, f.label))
      .filter((m) => nameMatches(m.name, f.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((m) => this.catalog.toVolume(m));
    return { volumes, warnings: [] };
  }

  /**
   * Removes an unused volume and its data. A volume in use is a conflict even with
   * `force`; `force` only makes a missing volume a success (`docker volume rm -f`).
   */
  async remove(name: string, opts: Op & { force?: boolean } = {}): Promise<void> {
    await this.catalog.init();
    await this.catalog.locks.run(name, async () => {
      const meta = this.catalog.find(name);
      if (!meta) {
        if (opts.force) return;
        throw noSuchVolume(name);
      }
      if (meta.refs.length > 0) {
        throw conflict(`remove ${name}: volume is in use - [${meta.refs.join(', ')}]`);
      }
      await this.catalog.destroy(meta, opts);
    });
  }

  /**
   * Removes unused volumes: only anonymous ones unless `all` (Docker ≥ 23), only those
   * matching the label filters. Sizes are measured before removal.
   */
  async prune(opts: Op & { filters?: VolumePruneFilters } = {}): Promise<{ volumesDeleted: string[]; spaceReclaimed: number }> {
    await this.catalog.init();
    const f = opts.filters ?? {};
    const candidates = this.catalog.all()
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
      await this.catalog.locks.run(name, async () => {
        const meta = this.catalog.find(name);
        // A container may have taken it meanwhile: then it is not unused any more.
        if (!meta || meta.refs.length > 0) return;
        const size = await directorySize(this.catalog.dataDir(name), opts).catch(() => 0);
        await this.catalog.destroy(meta, opts);
        volumesDeleted.push(name);
        spaceReclaimed += size;
      });
    }
    return { volumesDeleted, spaceReclaimed };
  }

  /** Every volume with its size and reference count (`/system/df`). */
  async usage(opts: Op = {}): Promise<Volume[]> {
    await this.catalog.init();
    const out: Volume[] = [];
    for (const v of (await this.list()).volumes) {
      const meta = this.catalog.find(v.name);
      if (!meta) continue;
      const size = await directorySize(v.mountpoint, opts);
      out.push({ ...v, usageData: { size, refCount: meta.refs.length } });
    }
    return out;
  }

  /** A volume a container's mount names but that does not exist yet (`-v name:/path`, image VOLUME). */
  private async createFor(spec: VolumeMountSpec, containerId: string, opts: Op): Promise<void> {
    const labels = { ...(spec.labels ?? {}) };
    if (spec.anonymous) labels[ANONYMOUS_LABEL] = '';
    await this.create(
      { name: spec.name, driver: spec.driver, driverOpts: spec.driverOpts, labels },
      { ...opts, initialRef: containerId, ...(spec.anonymous ? { createdFor: containerId } : {}) },
    );
  }

  // -------------------------------------------------------------------------
  // the container side (volume-mounts.ts)

  acquire(name: string, containerId: string): Promise<void> {
    return this.mounts.acquire(name, containerId);
  }

  release(name: string, containerId: string, opts: Op = {}): Promise<void> {
    return this.mounts.release(name, containerId, opts);
  }

  copyUp(name: string, fromDir: string, opts: Op = {}): Promise<boolean> {
    return this.mounts.copyUp(name, fromDir, opts);
  }

  prepareMounts(specs: readonly MountSpec[], opts: { containerId: string; signal?: AbortSignal }): Promise<void> {
    return this.mounts.prepareMounts(specs, opts);
  }

  resolveMounts(specs: readonly MountSpec[], opts: ResolveMountsOptions): Promise<OciMount[]> {
    return this.mounts.resolveMounts(specs, opts);
  }

  deactivateMounts(containerId: string, opts: Op = {}): Promise<void> {
    return this.mounts.deactivateMounts(containerId, opts);
  }

  releaseMounts(containerId: string, opts: Op & { removeAnonymous?: boolean } = {}): Promise<string[]> {
    return this.mounts.releaseMounts(containerId, opts);
  }

  reconcileReferences(existingContainerIds: Iterable<string>, opts: Op = {}): Promise<string[]> {
    return this.mounts.reconcileReferences(existingContainerIds, opts);
  }

  /** The volume's `_data` path (for inspect's `Mounts[].Source`). */
  mountpointOf(name: string): string {
    return this.catalog.dataDir(name);
  }
}
