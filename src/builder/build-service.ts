// BuildService: the builder's front door. One build = unpack the context (temp dir under the
// data-root), apply .dockerignore again, parse the Dockerfile, run the executor, tag.
import { lstat, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ImageService } from '../image/index.js';
import { OneShotRunner } from '../runtime/index.js';
import { readMounts, type Storage } from '../storage/index.js';
import { BerthError, errorKind, invalidArgument, type Digest } from '../util/index.js';
import { BuildCacheStore } from './cache-store.js';
import { DockerignoreMatcher, dockerignoreCandidates } from './context/index.js';
import { unpackContext } from './context-intake.js';
import { parseDockerfile } from './dockerfile/index.js';
import { BuildExecutor } from './executor.js';
import { FileHasher } from './file-hash.js';
import type { BuilderDeps, BuildContextView } from './steps/step.js';
import type { BuildCacheUsage, BuildEvent, BuildOptions, BuildResult } from './types.js';

export interface BuildServiceOptions {
  dataRoot: string;
  execRoot: string;
  storage: Storage;
  images: ImageService;
  runcBinary?: string;
  cgroupParent?: string;
}

export interface BuildPruneResult {
  cachesDeleted: string[];
  spaceReclaimed: number;
}

/** Working snapshots of builds a crash interrupted: unmounted and removed at start-up. */
async function removeWorkingSnapshots(storage: Storage, mntDir: string): Promise<void> {
  for (const s of await storage.snapshotter.list()) {
    if (!s.key.startsWith('build-')) continue;
    await storage.snapshotter.unmount(join(mntDir, s.key));
    await storage.snapshotter.remove(s.key);
  }
  // Never rm -r through a mount: only when nothing is mounted below the dir any more.
  if ((await readMounts()).some((m) => m.mountPoint.startsWith(mntDir + '/'))) return;
  await rm(mntDir, { recursive: true, force: true });
}

export class BuildService {
  private constructor(
    private readonly deps: BuilderDeps,
    private readonly cache: BuildCacheStore,
  ) {}

  static async open(o: BuildServiceOptions): Promise<BuildService> {
    const workRoot = join(o.dataRoot, 'builder');
    const runRoot = join(o.execRoot, 'builder');
    // Leftovers of a crashed build: temp contexts and mount dirs (snapshots are swept by storage).
    await rm(join(workRoot, 'tmp'), { recursive: true, force: true });
    await Promise.all([mkdir(join(workRoot, 'tmp'), { recursive: true, mode: 0o700 }), mkdir(runRoot, { recursive: true, mode: 0o700 })]);
    const cache = await BuildCacheStore.open(join(workRoot, 'cache'));
    const runner = new OneShotRunner({ execRoot: o.execRoot, ...(o.runcBinary ? { runcBinary: o.runcBinary } : {}), ...(o.cgroupParent ? { cgroupParent: o.cgroupParent } : {}) });
    await runner.cleanupLeftovers();
    await removeWorkingSnapshots(o.storage, join(workRoot, 'mnt'));
    return new BuildService({ images: o.images, storage: o.storage, runner, hasher: new FileHasher(), workRoot, runRoot }, cache);
  }

  /** Checks the options that can fail before any byte of the context is read. */
  validate(opts: BuildOptions): void {
    for (const t of opts.tags) {
      if (t === '' || /\s/.test(t)) throw invalidArgument(`invalid tag "${t}"`);
    }
    if (opts.dockerfile.startsWith('/') || opts.dockerfile.split('/').includes('..')) {
      throw invalidArgument(`invalid dockerfile path "${opts.dockerfile}": expected a path inside the build context`);
    }
  }

  async build(context: Readable, opts: BuildOptions, o: { signal: AbortSignal; onEvent: (e: BuildEvent) => void }): Promise<BuildResult> {
    this.validate(opts);
    const dir = await mkdtemp(join(this.deps.workRoot, 'tmp', 'ctx-'));
    try {
      const t0 = Date.now();
      const intake = await unpackContext(context, dir, { signal: o.signal });
      o.onEvent({ type: 'context', bytes: intake.bytes, files: intake.entries.size, durationMs: Date.now() - t0 });
      const dfPath = opts.dockerfile || 'Dockerfile';
      let text: string;
      try {
        if (!(await lstat(join(dir, dfPath))).isFile()) throw new Error('not a file');
        text = await readFile(join(dir, dfPath), 'utf8');
      } catch (err) {
        throw new BerthError('invalid-argument', `Cannot locate specified Dockerfile: ${dfPath}`, { cause: err });
      }
      const view = await this.contextView(dir, intake.entries, dfPath);
      const df = parseDockerfile(text, { file: dfPath.split('/').pop() ?? 'Dockerfile' });
      const exec = new BuildExecutor(this.deps, this.cache, df, view, opts, o.onEvent);
      const r = await exec.run(o.signal);
      await this.cache.flush();
      for (const t of opts.tags) await this.deps.images.tag(r.imageId, t);
      return { imageId: r.imageId, tags: opts.tags, cached: r.cached, executed: r.executed };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `.dockerignore` applied server-side too: ignored members leave the view (and the disk). */
  private async contextView(dir: string, entries: Map<string, import('./context-intake.js').IntakeEntry>, dockerfile: string): Promise<BuildContextView> {
    let matcher: DockerignoreMatcher | undefined;
    for (const cand of dockerignoreCandidates(dockerfile)) {
      const text = await readFile(join(dir, cand), 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
        throw e;
      });
      if (text !== undefined) {
        matcher = DockerignoreMatcher.parse(text).keeping([dockerfile, '.dockerignore']);
        break;
      }
    }
    const ignored = new Set<string>();
    if (matcher) {
      for (const p of [...entries.keys()]) {
        if (matcher.matches(p)) {
          ignored.add(p);
          entries.delete(p);
        }
      }
      // Directories whose every member is ignored stay as directories (Docker sends them too).
    }
    for (const p of ignored) {
      // Deepest first does not matter: rm is recursive and forceful.
      await rm(join(dir, p), { recursive: true, force: true });
    }
    return { dir, entries, ignored };
  }

  /** `docker system df` build cache rows. */
  async diskUsage(): Promise<BuildCacheUsage[]> {
    return this.cache.list().map(([key, e]) => ({
      key,
      parentKey: e.parentKey,
      description: e.inputs.instruction.slice(0, 200),
      size: e.size,
      createdAt: e.createdAt,
      lastUsedAt: e.lastUsedAt,
      usageCount: e.usageCount,
    }));
  }

  /**
   * Forgets every cache entry and removes the intermediate images nothing else needs
   * (untagged, no children); images under a tagged image stay as its parents.
   */
  async prune(opts: { signal?: AbortSignal } = {}): Promise<BuildPruneResult> {
    const entries = this.cache.list();
    const deleted: string[] = [];
    let reclaimed = 0;
    const ids = new Set(entries.map(([, e]) => e.imageId as Digest));
    // Children before parents: newest entries first.
    const order = [...entries].sort((a, b) => (a[1].createdAt < b[1].createdAt ? 1 : -1));
    for (const [key, e] of order) {
      this.cache.delete(key);
      deleted.push(key);
      reclaimed += e.size;
    }
    await this.cache.flush();
    for (const [, e] of order) {
      if (!ids.has(e.imageId as Digest)) continue;
      try {
        if ((await this.deps.images.resolve(e.imageId, opts)).repoTags.length > 0) continue;
        await this.deps.images.remove(e.imageId, { noprune: true }, opts);
      } catch (err) {
        // Tagged images and parents of other images stay: they are not only cache.
        if (errorKind(err) !== 'conflict' && errorKind(err) !== 'not-found') throw err;
      }
    }
    return { cachesDeleted: deleted, spaceReclaimed: reclaimed };
  }
}
