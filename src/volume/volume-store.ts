// The volumes on disk: `<root>/<name>/{_data,meta.json}` and an in-memory copy of every
// meta.json. Every change is written (atomically) before it is visible here, so a
// restarted daemon rebuilds the same view. No locking here: VolumeService serialises
// changes per volume.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, fsyncDir, type Logger } from '../util/index.js';
import { REMOVING_DIR_PREFIX, TEMP_DIR_PREFIX, VOLUME_DATA_DIR } from './constants.js';
import { needsMount, unmountLocalVolume } from './local-driver.js';
import { isMountPoint, mountsAtOrUnder } from './mountinfo.js';
import { readVolumeMeta, writeVolumeMeta, type VolumeMeta } from './volume-meta.js';

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export class VolumeStore {
  private readonly volumes = new Map<string, VolumeMeta>();

  constructor(
    readonly root: string,
    private readonly log: Logger,
  ) {}

  volumeDir(name: string): string {
    return join(this.root, name);
  }

  dataDir(name: string): string {
    return join(this.root, name, VOLUME_DATA_DIR);
  }

  find(name: string): VolumeMeta | undefined {
    return this.volumes.get(name);
  }

  all(): VolumeMeta[] {
    return [...this.volumes.values()];
  }

  /**
   * Reads every volume, finishes interrupted creations and removals, and makes option
   * mounts agree with the recorded users.
   */
  async load(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(this.root, entry.name);
      if (entry.name.startsWith(TEMP_DIR_PREFIX) || entry.name.startsWith(REMOVING_DIR_PREFIX)) {
        await this.removeTree(dir);
        continue;
      }
      let meta: VolumeMeta;
      try {
        meta = await readVolumeMeta(dir);
      } catch (err) {
        // Never delete what cannot be read: it may hold someone's data. Leave it for an operator.
        this.log.warn('skipping unreadable volume', { dir, error: (err as Error).message });
        continue;
      }
      if (meta.name !== entry.name) {
        this.log.warn('skipping volume whose metadata names another volume', { dir, name: meta.name });
        continue;
      }
      this.volumes.set(meta.name, await this.reconcileMount(meta));
    }
  }

  /** A reboot leaves users recorded but nothing mounted; a crash can leave a mount nobody uses. */
  private async reconcileMount(meta: VolumeMeta): Promise<VolumeMeta> {
    if (!needsMount(meta.options)) return meta;
    const data = this.dataDir(meta.name);
    const mounted = await isMountPoint(data);
    if (mounted && meta.active.length === 0) {
      await unmountLocalVolume(data);
    } else if (!mounted && meta.active.length > 0) {
      const next = { ...meta, active: [] };
      await writeVolumeMeta(this.volumeDir(meta.name), next);
      return next;
    }
    return meta;
  }

  /** Builds the volume directory under a temp name and renames it into place (STYLE.md §6). */
  async add(meta: VolumeMeta): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    const tmp = join(this.root, `${TEMP_DIR_PREFIX}${randomUUID()}`);
    try {
      await mkdir(tmp, { mode: 0o701 });
      await mkdir(join(tmp, VOLUME_DATA_DIR), { mode: 0o755 });
      await writeVolumeMeta(tmp, meta);
      await rename(tmp, this.volumeDir(meta.name));
      await fsyncDir(this.root);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (errnoCode(err) === 'ENOTEMPTY' || errnoCode(err) === 'EEXIST') {
        throw conflict(`create ${meta.name}: a directory of that name already exists in the volume store`, err);
      }
      throw err;
    }
    this.volumes.set(meta.name, meta);
  }

  async save(meta: VolumeMeta): Promise<void> {
    await writeVolumeMeta(this.volumeDir(meta.name), meta);
    this.volumes.set(meta.name, meta);
  }

  /**
   * Removes a volume and its data; the caller has unmounted any driver-option mount.
   * Anything still mounted inside is a conflict and nothing is removed.
   */
  async delete(meta: VolumeMeta): Promise<void> {
    const dir = this.volumeDir(meta.name);
    const leftover = await mountsAtOrUnder(dir);
    if (leftover.length > 0) {
      throw conflict(`remove ${meta.name}: volume has mounts under it: ${leftover.join(', ')}`);
    }
    // Renamed first, so a crash mid-delete never leaves a half-empty volume that looks real.
    const doomed = join(this.root, `${REMOVING_DIR_PREFIX}${randomUUID()}`);
    await rename(dir, doomed);
    this.volumes.delete(meta.name);
    await fsyncDir(this.root);
    await this.removeTree(doomed);
  }

  /** Removes a directory tree, refusing when anything is mounted inside it. */
  private async removeTree(dir: string): Promise<void> {
    const mounts = await mountsAtOrUnder(dir);
    if (mounts.length > 0) {
      this.log.warn('not removing a directory with mounts under it', { dir, mounts });
      return;
    }
    await rm(dir, { recursive: true, force: true });
  }
}
