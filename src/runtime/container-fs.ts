// A container's filesystem from outside: `docker cp` (archive HEAD/GET/PUT), `docker export`,
// `docker diff`, `docker commit` and the size of the writable layer. A stopped container's
// rootfs is mounted for the time of the operation (ContainerService.withRootfs).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { extractArchive } from '../storage/index.js';
import { BerthError, notFound } from '../util/index.js';
import { checkArchivePath, hostPathOf, lowerDirsOf, overlayChanges, statPath, tarPath, tarRootfs, type Change, type PathStat } from './archive.js';
import type { Container } from './container-service.js';
import type { ImageRuntimeConfig } from './container-spec.js';
import { forgetLookups } from './container-prestart.js';
import { withoutGenerated } from './commit-layer.js';
import { checkWritable, containerPathOf } from './container-view.js';
import { mergeEnv } from './oci-spec.js';
import type { ImageLookup, RootfsSnapshotter } from './ports.js';
import { resolveInRoot } from './rootfs-path.js';
import type { RuncRuntime } from './runc.js';

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes: string[];
  pause: boolean;
  config?: Partial<ImageRuntimeConfig>;
}

/** What the filesystem operations need of the ContainerService. */
export interface FilesystemHost {
  get(ref: string): Container;
  withRootfs<T>(c: Container, fn: (rootfs: string) => Promise<T>): Promise<T>;
  /** withRootfs with the container's volumes, binds and network files over the rootfs (container-view.ts). */
  withView<T>(c: Container, fn: (rootfs: string) => Promise<T>): Promise<T>;
  publish(c: Container, action: string, extra?: Record<string, string>): void;
  readonly runc: RuncRuntime;
}

export class ContainerFilesystem {
  constructor(
    private readonly host: FilesystemHost,
    private readonly snapshotter: RootfsSnapshotter,
    private readonly images: ImageLookup,
  ) {}

  async archiveStat(ref: string, path: string): Promise<PathStat> {
    const c = this.host.get(ref);
    return this.host.withView(c, (root) => statPath(root, checkArchivePath(path), ref));
  }

  /** Streams a tar of `path` to `consume` (the stat is known before the first byte). */
  async archiveGet(ref: string, path: string, consume: (stat: PathStat, tar: Readable) => Promise<void>, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const c = this.host.get(ref);
    await this.host.withView(c, async (root) => {
      const st = await statPath(root, checkArchivePath(path), ref);
      const t = tarPath(await hostPathOf(root, path), opts);
      await Promise.all([consume(st, t.stream), t.done]);
    });
  }

  /** Unpacks a tar into the directory `path` of the container (`docker cp - ctr:/dir`). */
  async archivePut(ref: string, path: string, tar: Readable, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const c = this.host.get(ref);
    await this.host.withView(c, async (root) => {
      const dest = await resolveInRoot(root, checkArchivePath(path));
      const st = await stat(dest).catch(() => undefined);
      if (!st) throw notFound(`Could not find the file ${path} in container ${ref}`);
      if (!st.isDirectory()) throw new BerthError('invalid-argument', 'extraction point is not a directory');
      checkWritable(c, containerPathOf(root, dest));
      // What the first start would have used from the rootfs (its user, its executable) may change now.
      forgetLookups(c);
      // extractArchive resolves every existing symlink of the container as a chroot at `root`
      // would, so a planted `/tmp/x -> /` cannot send the files to the host.
      await extractArchive(tar, dest, { root, signal: opts.signal });
    });
  }

  /** `docker export`: the container's whole filesystem as a tar. */
  async exportRootfs(ref: string, consume: (tar: Readable) => Promise<void>, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const c = this.host.get(ref);
    await this.host.withRootfs(c, async (root) => {
      const t = tarRootfs(root, opts);
      await Promise.all([consume(t.stream), t.done]);
    });
  }

  /** `docker diff`: the overlay upper dir against the image layers. */
  async changes(ref: string): Promise<Change[]> {
    const c = this.host.get(ref);
    const mounts = this.snapshotter.mounts ? await this.snapshotter.mounts(c.config.rootfsKey) : [];
    return overlayChanges(this.snapshotter.upperPath(c.config.rootfsKey), lowerDirsOf(mounts[0]?.options ?? []));
  }

  /** `docker commit`: the container's changes as a new image layer over its image. */
  async commit(ref: string, req: CommitOptions, opts: { signal?: AbortSignal } = {}): Promise<string> {
    const c = this.host.get(ref);
    const committer = this.images.commit?.bind(this.images);
    if (!committer) throw new BerthError('not-implemented', 'commit needs the image service');
    const pause = req.pause && c.state.status === 'running';
    if (pause) await this.host.runc.pause(c.id);
    try {
      const img = c.config.image.config;
      const spec = c.config.spec;
      const config: ImageRuntimeConfig = {
        ...img,
        User: spec.user || img.User,
        Env: mergeEnv(img.Env ?? [], spec.env),
        Cmd: spec.entrypoint !== undefined ? spec.cmd ?? null : spec.cmd ?? img.Cmd ?? null,
        Entrypoint: spec.entrypoint !== undefined ? (spec.entrypoint.length ? spec.entrypoint : null) : img.Entrypoint ?? null,
        WorkingDir: spec.workingDir || img.WorkingDir,
        Labels: { ...(img.Labels ?? {}), ...spec.labels },
        ...(req.config ?? {}),
      };
      const id = await committer(
        {
          parent: c.config.image.id,
          layer: withoutGenerated(this.snapshotter.diff(c.config.rootfsKey, opts)),
          config,
          changes: req.changes,
          repo: req.repo,
          tag: req.tag,
          comment: req.comment,
          author: req.author,
        },
        opts,
      );
      this.host.publish(c, 'commit', { comment: req.comment ?? '' });
      return id;
    } finally {
      if (pause) await this.host.runc.resume(c.id).catch(() => undefined);
    }
  }

  /** Bytes in the writable layer (SizeRw); SizeRootFs is the same until image sizes are known here. */
  async sizeOf(c: Container): Promise<{ rw: number; rootFs: number }> {
    const rw = await directorySize(this.snapshotter.upperPath(c.config.rootfsKey));
    return { rw, rootFs: rw };
  }
}

/** Apparent size of the regular files under `dir` (bounded concurrency by walking depth-first). */
async function directorySize(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await directorySize(p);
    else if (e.isFile()) total += (await stat(p).catch(() => undefined))?.size ?? 0;
  }
  return total;
}

