import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import {
  BerthError,
  KeyedMutex,
  MNT_DETACH,
  UMOUNT_NOFOLLOW,
  conflict,
  errorKind,
  errorMessage,
  fsyncDir,
  invalidArgument,
  isDigest,
  isNativeSysError,
  nativeSys,
  type NativeSys,
  notFound,
  run,
  syncFile,
  writeJsonAtomic,
} from '../util/index.js';
import type { ChainId, Mount, SnapshotMountOptions, SnapshotPrepareOptions, SnapshotRemoveOptions, Snapshotter } from './layer-store.js';
import type { LocalLayerStore } from './local-layer-store.js';
import { TEMP_PREFIX, tempName } from './layout.js';
import { readMetadata } from './metadata-file.js';
import { readMounts } from './mountinfo.js';
import { diffDirectory } from './tar/diff.js';

/** mount(8) and umount(8) of an overlay (without the berth-sys addon): quick unless the kernel is in trouble. */
export const MOUNT_TIMEOUT_MS = 30_000;
/** The kernel rejects mount data longer than a page. */
const MAX_MOUNT_DATA = 4095;
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const snapshotMetaSchema = z.object({
  version: z.literal(1),
  key: z.string().regex(KEY_RE),
  parent: z.string().refine(isDigest).optional(),
});
type SnapshotMeta = z.infer<typeof snapshotMetaSchema>;

/**
 * Container root filesystems as overlay mounts: `<root>/snapshots/<key>/{upper,work}` over the
 * read-only layers of `parent`. The mount is made with its working directory in `layers/l/`, so
 * each lower dir costs 27 bytes of mount data and a 120-layer chain fits in one page. mount(2)
 * and umount2(2) go through the berth-sys addon (a child that chdirs, never the daemon), or
 * mount(8)/umount(8) where it is not built.
 */
export class OverlaySnapshotter implements Snapshotter {
  readonly dir: string;
  private readonly locks = new KeyedMutex();

  /** Overlay features that would break diffs, switched off when the kernel enables them by default. */
  private extraOptions: string[] = [];
  /** Whether the kernel takes overlay's `volatile` (Linux 5.10+); false after it refused it once. */
  private volatileMounts = true;

  private constructor(dir: string, private readonly layers: LocalLayerStore) {
    this.dir = dir;
  }

  static async open(dir: string, layers: LocalLayerStore): Promise<OverlaySnapshotter> {
    const s = new OverlaySnapshotter(dir, layers);
    // With redirect_dir or metacopy on, an upper dir no longer holds a full copy of what changed
    // (renamed dirs point back at lowers; metadata-only copy-ups have no data), so a layer diff
    // taken from it would be wrong. index=on ties lowers to one upper. Docker turns them off too.
    for (const feature of ['redirect_dir', 'metacopy', 'index']) {
      const value = await readFile(`/sys/module/overlay/parameters/${feature}`, 'utf8').catch(() => 'N');
      if (value.trim() === 'Y') s.extraOptions.push(`${feature}=off`);
    }
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (name.startsWith(TEMP_PREFIX)) await rm(join(dir, name), { recursive: true, force: true });
    }
    return s;
  }

  private snapshotDir(key: string): string {
    if (!KEY_RE.test(key)) throw invalidArgument(`invalid snapshot key "${key}": expected [A-Za-z0-9][A-Za-z0-9_.-]*`);
    return join(this.dir, key);
  }

  upperPath(key: string): string {
    return join(this.snapshotDir(key), 'upper');
  }

  private async readMeta(key: string): Promise<SnapshotMeta | undefined> {
    return readMetadata(join(this.snapshotDir(key), 'meta.json'), snapshotMetaSchema, `snapshot "${key}"`);
  }

  private async requireMeta(key: string): Promise<SnapshotMeta> {
    const meta = await this.readMeta(key);
    if (!meta) throw notFound(`snapshot "${key}" not found`);
    return meta;
  }

  async prepare(key: string, parent: ChainId | undefined, opts: SnapshotPrepareOptions = {}): Promise<Mount[]> {
    const target = this.snapshotDir(key);
    const meta: SnapshotMeta = { version: 1, key, parent };
    const lowers = await this.locks.run(key, async () => {
      // The parent's links: they say it exists and give the mount options without reading it again.
      const links = parent ? await this.layers.lowerLinks(parent).catch((err: unknown) => {
        throw errorKind(err) === 'not-found' ? notFound(`parent layer "${parent}" not found`) : err;
      }) : undefined;
      const tmp = join(this.dir, tempName());
      try {
        await mkdir(join(tmp, 'upper'), { recursive: true, mode: 0o755 });
        const dirs = [mkdir(join(tmp, 'work'), { mode: 0o700 }), parent ? undefined : mkdir(join(tmp, 'empty'), { mode: 0o755 })];
        const writeMeta = () => writeJsonAtomic(join(tmp, 'meta.json'), meta, { durable: !opts.deferSync });
        // Synced now, the meta's directory fsync must come after the other entries; later
        // (syncSnapshot), it may be written beside them.
        if (opts.deferSync) await Promise.all([...dirs, writeMeta()]);
        else await Promise.all(dirs).then(writeMeta);
        // A taken key is a directory that is not empty, which rename does not replace.
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') throw conflict(`snapshot "${key}" already exists`);
        throw err;
      }
      return links;
    });
    opts.deferSync?.(() => this.syncSnapshot(key));
    return [{ type: 'overlay', source: 'overlay', options: this.optionsFor(key, meta, lowers, false) }];
  }

  /**
   * Makes a snapshot prepared without waiting for the disk durable: meta.json, the snapshot's
   * entries, its name. Never rejects: a snapshot removed meanwhile needs no sync, and a failed
   * fsync leaves what a power loss would (a snapshot that is gone or was never there).
   */
  private async syncSnapshot(key: string): Promise<void> {
    try {
      await syncFile(join(this.snapshotDir(key), 'meta.json'));
      await fsyncDir(this.dir);
    } catch {
      // See above: nothing to report to anyone.
    }
  }

  /** Mount options; lower dirs relative to `layers/l/` when `relative`, absolute otherwise. */
  private async options(key: string, relative: boolean): Promise<string[]> {
    const meta = await this.requireMeta(key);
    const links = meta.parent ? await this.layers.lowerLinks(meta.parent as ChainId) : undefined;
    return this.optionsFor(key, meta, links, relative);
  }

  /** Mount options of `key` whose parent has the lower `links` (none: no parent). */
  private optionsFor(key: string, meta: SnapshotMeta, links: string[] | undefined, relative: boolean): string[] {
    const dir = this.snapshotDir(key);
    const lowers = meta.parent && links ? links.map((l) => (relative ? l : join(this.layers.linksDir, l))) : [join(dir, 'empty')];
    return [`lowerdir=${lowers.join(':')}`, `upperdir=${join(dir, 'upper')}`, `workdir=${join(dir, 'work')}`, ...this.extraOptions];
  }

  async mounts(key: string): Promise<Mount[]> {
    return [{ type: 'overlay', source: 'overlay', options: await this.options(key, false) }];
  }

  async mount(key: string, target: string, opts: SnapshotMountOptions = {}): Promise<void> {
    const abs = resolve(target);
    // Independent: the snapshot's layers, what is on the target now, and the mark a volatile
    // mount leaves in the work dir (the kernel refuses any later mount while it is there).
    const [options, onTarget] = await Promise.all([
      this.options(key, true),
      this.targetState(key, abs),
      rm(join(this.snapshotDir(key), 'work', 'work', 'incompat'), { recursive: true, force: true }),
    ]);
    const plain = options.join(',');
    // `volatile` is a speed-up: a chain that fits the page only without it mounts without it.
    const volatile = opts.volatile && this.volatileMounts && plain.length + ',volatile'.length <= MAX_MOUNT_DATA;
    const data = volatile ? `${plain},volatile` : plain;
    if (data.length > MAX_MOUNT_DATA) {
      throw invalidArgument(`cannot mount snapshot "${key}": ${data.length} bytes of mount options exceed the kernel's ${MAX_MOUNT_DATA}`);
    }
    // Mounting again where it already is (a restarted daemon re-attaching) is a no-op.
    if (onTarget === 'mounted') return;
    if (onTarget === 'absent') await mkdir(abs, { recursive: true });
    const sys = nativeSys();
    if (!sys) {
      try {
        await run('mount', ['-t', 'overlay', 'overlay', '-o', data, abs], {
          timeoutMs: MOUNT_TIMEOUT_MS,
          signal: opts.signal,
          cwd: this.layers.linksDir,
        });
      } catch (err) {
        if (!volatile || opts.signal?.aborted) throw err;
        // mount(8) reports a refused option only in words: tried once more without it.
        await this.mount(key, target, { ...opts, volatile: false });
        this.volatileMounts = false;
        return;
      }
      return;
    }
    opts.signal?.throwIfAborted();
    try {
      await sys.mount('overlay', abs, 'overlay', 0, data, this.layers.linksDir);
    } catch (err) {
      // A kernel before 5.10 knows no `volatile`: mounted as before, and not asked again.
      if (volatile && isNativeSysError(err) && err.code === 'EINVAL') {
        await this.mount(key, target, { ...opts, volatile: false });
        this.volatileMounts = false;
        return;
      }
      throw new BerthError('internal', `cannot mount snapshot "${key}" on "${abs}": ${errorMessage(err)}`, { cause: err });
    }
  }

  /**
   * Whether `abs` is absent, holds the snapshot's overlay, or exists without it. An overlay's
   * root has a device of its own: when `abs` is on its parent's device, nothing is mounted there
   * and the mount table (long, with 20+ containers' overlays in it) need not be read.
   */
  private async targetState(key: string, abs: string): Promise<'absent' | 'mounted' | 'present'> {
    const [self, parent] = await Promise.all([stat(abs).catch(() => undefined), stat(dirname(abs)).catch(() => undefined)]);
    if (!self) return 'absent';
    if (self.dev === parent?.dev) return 'present';
    const upper = `upperdir=${this.upperPath(key)}`;
    const mounts = await readMounts();
    return mounts.some((m) => m.mountPoint === abs && m.fsType === 'overlay' && m.superOptions.split(',').includes(upper)) ? 'mounted' : 'present';
  }

  async unmount(target: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const abs = resolve(target);
    const sys = nativeSys();
    // Unmount every layer stacked on the target (a mount made twice), then stop.
    for (let i = 0; i < 8; i++) {
      if (!(await (sys ? this.unmountTop(sys, abs, opts) : this.spawnUnmountTop(abs, opts)))) return;
    }
    throw new BerthError('internal', `cannot unmount "${abs}": still mounted`);
  }

  /**
   * Unmounts the top mount on `abs` with umount2(2); false when there is none. umount2 says so
   * itself (EINVAL: not a mount point; ENOENT: no such path), so no mount table is read.
   */
  private async unmountTop(sys: NativeSys, abs: string, opts: { signal?: AbortSignal }): Promise<boolean> {
    opts.signal?.throwIfAborted();
    try {
      await sys.umount(abs, UMOUNT_NOFOLLOW);
      return true;
    } catch (err) {
      if (isNativeSysError(err) && (err.code === 'EINVAL' || err.code === 'ENOENT')) return false;
      try {
        // Busy (a process still has a file open): detach it now, the kernel frees it when unused.
        if (!isNativeSysError(err) || err.code !== 'EBUSY') throw err;
        await sys.umount(abs, UMOUNT_NOFOLLOW | MNT_DETACH);
        return true;
      } catch (e) {
        throw new BerthError('internal', `cannot unmount "${abs}": ${errorMessage(e)}`, { cause: e });
      }
    }
  }

  /** unmountTop through umount(8), for hosts without the addon. */
  private async spawnUnmountTop(abs: string, opts: { signal?: AbortSignal }): Promise<boolean> {
    if (!(await readMounts()).some((m) => m.mountPoint === abs)) return false;
    try {
      await run('umount', [abs], { timeoutMs: MOUNT_TIMEOUT_MS, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      // Busy (a process still has a file open): detach it now, the kernel frees it when unused.
      await run('umount', ['-l', abs], { timeoutMs: MOUNT_TIMEOUT_MS, signal: opts.signal });
    }
    return true;
  }

  diff(key: string, opts: { signal?: AbortSignal } = {}): Readable {
    const upper = this.upperPath(key);
    const requireMeta = () => this.requireMeta(key);
    async function* chunks(): AsyncGenerator<Buffer> {
      await requireMeta();
      for await (const c of diffDirectory(upper, opts)) yield c as Buffer;
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** Where the snapshot is mounted now (from /proc/self/mountinfo), if anywhere. */
  async mountedAt(key: string): Promise<string | undefined> {
    const upper = `upperdir=${this.upperPath(key)}`;
    return (await readMounts()).find((m) => m.fsType === 'overlay' && m.superOptions.split(',').includes(upper))?.mountPoint;
  }

  /**
   * The snapshot leaves its key with one rename to a temp name (open() deletes such leftovers
   * of a crash); its files are deleted after, awaited unless `opts.track` takes that over.
   */
  async remove(key: string, opts: SnapshotRemoveOptions = {}): Promise<void> {
    const gone = join(this.dir, tempName());
    await this.locks.run(key, async () => {
      if (!opts.unmounted) {
        const at = await this.mountedAt(key);
        if (at) throw conflict(`snapshot "${key}" is mounted at "${at}"`);
      }
      try {
        await rename(this.snapshotDir(key), gone);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`snapshot "${key}" not found`);
        throw err;
      }
    });
    const deletion = rm(gone, { recursive: true, force: true });
    // A failure there leaves the temp dir for open() to delete: the snapshot is gone either way.
    if (opts.track) opts.track(deletion.catch(() => undefined));
    else await deletion;
  }

  async list(): Promise<Array<{ key: string; parent: ChainId | undefined }>> {
    const out: Array<{ key: string; parent: ChainId | undefined }> = [];
    for (const name of await readdir(this.dir)) {
      if (!KEY_RE.test(name)) continue;
      const meta = await this.readMeta(name);
      if (meta) out.push({ key: meta.key, parent: meta.parent as ChainId | undefined });
    }
    return out;
  }
}
