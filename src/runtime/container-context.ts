// What every container operation shares: the records (by id and by name), the per-container
// lock, the store, runc, the daemon's host facts, events. The operations themselves live in
// container-<operation>.ts modules as functions of this context; ContainerService (the
// facade) is its concrete subclass and implements the two operations that others trigger
// in turn (removal, a restart-policy restart), so the modules never import each other in a cycle.
import { writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { BerthError, KeyedMutex, errorMessage, logger, notFound, type EventBus, type Logger } from '../util/index.js';
import { readMounts } from '../storage/index.js';
import type { Container } from './container-record.js';
import type { ContainerStatus } from './container-state.js';
import { ContainerStore, type HealthState } from './container-store.js';
import type { ImageLookup, NetworkAttacher, RootfsSnapshotter, VolumeMounter } from './ports.js';
import { RuncRuntime } from './runc.js';

export interface ContainerServiceOptions {
  /** `<data-root>`; containers live in `<data-root>/containers/<id>`. */
  dataRoot: string;
  /** `<exec-root>` (tmpfs); runc state in `<exec-root>/runc`. */
  execRoot: string;
  images: ImageLookup;
  snapshotter: RootfsSnapshotter;
  volumes: VolumeMounter;
  network: NetworkAttacher;
  events: EventBus;
  runcBinary?: string;
  /** cgroup parent (cgroupfs path) for containers. */
  cgroupParent?: string;
  /** Binary bound at /sbin/docker-init for --init. */
  initBinary?: string;
  /** How long a conmon spawned at create waits for the first start (container-prestart.ts). */
  pendingConmonMs?: number;
}

export interface RemoveOptions {
  force?: boolean;
  removeVolumes?: boolean;
  /**
   * The auto-removal inside the processing of an exit that was not written to disk
   * (container-exit.ts onExit), which holds the container lock already: the `removing` state
   * is not written either (a crash meanwhile finds the exit file again and removes it then).
   */
  afterExit?: boolean;
}

/** What the daemon reads about its host once at start-up (ContainerService.init). */
export interface HostFacts {
  /** The daemon's own capability bounding set (`--privileged` gets all of it). */
  bounding: string[];
  hardLimits: Record<string, number>;
  /** cgroup v1 memsw files exist (`--memory-swap` can be applied). */
  swapAccounting: boolean;
  /** The host's /etc/resolv.conf. */
  resolvConf: string;
  hostname: string;
}

export abstract class ContainerContext {
  readonly store: ContainerStore;
  runc: RuncRuntime;
  /** Records by id; `names` maps each name (without `/`) to its id. */
  readonly containers = new Map<string, Container>();
  readonly names = new Map<string, string>();
  readonly locks = new KeyedMutex();
  readonly log: Logger = logger('runtime');
  host: HostFacts = { bounding: [], hardLimits: {}, swapAccounting: false, resolvConf: '', hostname: osHostname() };
  readonly socketDir: string;
  /** Set by close(): exits are still recorded, but nothing is restarted or removed any more. */
  closed = false;
  /** Work that outlives the request that began it (see track). */
  private readonly pending = new Set<Promise<unknown>>();
  /** Health check hooks are installed by the health module (see health.ts). */
  healthArmer: ((c: Container) => void) | undefined;

  constructor(readonly opts: ContainerServiceOptions) {
    this.store = new ContainerStore(join(opts.dataRoot, 'containers'));
    this.runc = new RuncRuntime(opts.runcBinary ?? 'runc', join(opts.execRoot, 'runc'));
    this.socketDir = join(opts.execRoot, 'socks');
  }

  /** Removes a container (its processes, mounts, files, record). */
  abstract remove(ref: string, opts?: RemoveOptions): Promise<void>;
  /** Marks `c` restarting and starts it again after `delayMs` (restart policies). */
  abstract scheduleRestart(c: Container, delayMs: number): void;

  /** Finds by full id, name (with or without `/`) or unique id prefix; 404 with Docker's wording. */
  get(ref: string): Container {
    const c = this.find(ref);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }

  find(ref: string): Container | undefined {
    const exact = this.containers.get(ref);
    if (exact) return exact;
    const byName = this.names.get(ref.replace(/^\//, ''));
    if (byName) return this.containers.get(byName);
    if (/^[a-f0-9]+$/.test(ref) && ref.length >= 1) {
      const matches = [...this.containers.keys()].filter((id) => id.startsWith(ref));
      if (matches.length > 1) throw new BerthError('invalid-argument', `multiple IDs found with provided prefix: ${ref}`);
      if (matches.length === 1) return this.containers.get(matches[0]!);
    }
    return undefined;
  }

  list(): Container[] {
    return [...this.containers.values()].sort((a, b) => (a.config.created < b.config.created ? 1 : -1));
  }

  /** Docker's 409 for a name in use. */
  nameConflict(name: string, holder: string): BerthError {
    return new BerthError('conflict', `Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
  }

  async saveState(c: Container, opts: { durable?: boolean } = {}): Promise<void> {
    await this.store.saveState(c.id, c.state, opts);
  }

  publish(c: Container, action: string, extra: Record<string, string> = {}): void {
    this.opts.events.publish('container', action, c.id, {
      ...c.config.spec.labels,
      image: c.config.image.ref,
      name: c.name,
      ...extra,
    });
  }

  armHealthcheck(c: Container): void {
    this.healthArmer?.(c);
  }

  setHealth(c: Container, h: HealthState): void {
    const prev = c.state.health?.status;
    c.state.health = h;
    void this.saveState(c).catch(() => undefined);
    if (prev !== h.status) this.publish(c, `health_status: ${h.status}`);
  }

  lock<T>(c: Container, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(c.id, fn);
  }

  cgroupPathOf(c: Container): string {
    return `${this.opts.cgroupParent ?? '/berth'}/${c.id}`;
  }

  /**
   * Runs `sync`, which makes a container's files written with `durable: false` durable, tracked
   * (close waits). A container removed meanwhile (ENOENT) needs nothing.
   */
  syncAfterwards(id: string, what: string, sync: () => Promise<void>): void {
    this.track(
      sync().catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn(`cannot sync the container ${what}`, { container: id.slice(0, 12), error: errorMessage(e) });
      }),
    );
  }

  /** Makes a state saved with `durable: false` durable once the answers now being written are out. */
  syncStateAfterwards(c: Container): void {
    this.syncAfterwards(c.id, 'state', () => new Promise<void>((r) => setImmediate(r)).then(() => this.store.syncState(c.id)));
  }

  /** Keeps `work` (which must not reject) until it settles, so that close can wait for it. */
  track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Waits for every tracked piece of work, including what those started meanwhile. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Mounts the rootfs unless it is; called under the container lock. */
  async mountRootfs(c: Container, opts: { signal?: AbortSignal } = {}): Promise<void> {
    // The flag is the kernel's: start-up reads it from the mount table (a reboot, a kill -9).
    if (c.state.mounted) return;
    // An --rm container's rootfs goes with it, after a crash too: its exit need not wait for the
    // filesystem's sync at the unmount (40-60 ms with dirty data on it).
    await this.opts.snapshotter.mount(c.config.rootfsKey, c.rootfs, { ...opts, volatile: c.config.spec.host.autoRemove });
    c.state.mounted = true;
    // dockerd's marker, which programs read to tell they run in a container (it makes the
    // empty file in the init layer below the container's; `docker diff` leaves it out here).
    // Made at the mounts before the first start: premount's, off the start's path.
    if (!c.state.hasBeenStarted) {
      // EEXIST: the image has one. Any other failure only loses the marker, not the start.
      await writeFile(join(c.rootfs, '.dockerenv'), '', { flag: 'wx', mode: 0o755 }).catch(() => undefined);
    }
  }

  async unmountRootfs(c: Container): Promise<void> {
    if (!c.state.mounted) return;
    try {
      await this.opts.snapshotter.unmount(c.rootfs);
      c.state.mounted = false;
    } catch (err) {
      // Not mounted any more (host reboot, someone else unmounted it) is what we wanted.
      const still = (await readMounts().catch(() => [])).some((m) => m.mountPoint === c.rootfs);
      if (!still) c.state.mounted = false;
      else this.log.warn('unmount failed', { container: c.id.slice(0, 12), error: errorMessage(err) });
    }
  }

  /**
   * The network namespace file of a container on a bridge (see container-start.ts). Under the
   * exec-root, not the container's directory: it is let go after the exit, maybe after removal.
   */
  netnsFileOf(c: Container): string {
    return join(this.opts.execRoot, 'netns', c.id);
  }

  get execRoot(): string {
    return this.opts.execRoot;
  }
  get sockets(): string {
    return this.socketDir;
  }
  get statusOf(): (c: Container) => ContainerStatus {
    return (c) => c.state.status;
  }
}

/**
 * Promise.all that waits for every promise before failing, so no preparation is still
 * running (and writing into the rootfs or reserving addresses) while the cleanup undoes it.
 */
export async function settleAll<T extends readonly unknown[]>(ps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Whether `p` settled within `ms` (Infinity waits for it). */
export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<boolean> {
  if (ms === Infinity) {
    await p;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), t]);
  } finally {
    clearTimeout(timer);
  }
}
