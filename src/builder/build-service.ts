// BuildService: the builder's front door. One build = unpack the context (temp dir under the
// data-root), apply .dockerignore again, parse the Dockerfile, run the executor, tag.
import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { refWithTag, type ImageService } from '../image/index.js';
import { OneShotRunner, type OneShotNetwork } from '../runtime/index.js';
import { readMounts, type Storage } from '../storage/index.js';
import { BerthError, errorKind, invalidArgument, logger, type Digest } from '../util/index.js';

const log = logger('builder');
/** Dockerfiles and .dockerignore files are read whole; bigger ones are refused. */
const MAX_DOCKERFILE_BYTES = 8 * 1024 * 1024;
import { BuildCacheStore } from './cache-store.js';
import { DockerignoreMatcher, dockerignoreCandidates } from './context/index.js';
import { unpackContext, type ContextFiles, type IntakeResult } from './context-intake.js';
import { readLocalContext } from './local-context.js';
import { fetchRemoteContext, parseRemote, redactUrl, type RemoteContext } from './remote-context.js';
import { decompressContext } from './remote-context-compression.js';
import { parseDockerfile } from './dockerfile/index.js';
import { BuildExecutor } from './executor.js';
import { parsePlatformList } from './platforms.js';
import { buildPlatforms } from './platforms-build.js';
import { BuildHolds } from './build-holds.js';
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
  /** RUN on the default bridge (network mode `default`); without it such steps get no network. */
  network?: OneShotNetwork;
}

export interface BuildPruneResult {
  cachesDeleted: string[];
  spaceReclaimed: number;
}

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await directorySize(p);
    else if (e.isFile()) total += (await lstat(p).catch(() => undefined))?.size ?? 0;
  }
  return total;
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
  /** Builds running now (cache mounts are only pruned when none is). */
  private active = 0;

  private constructor(
    private readonly deps: BuilderDeps,
    private readonly cache: BuildCacheStore,
    /** Multi-platform results are stored as an index. */
    private readonly indexes: Pick<ImageService, 'createIndex'>,
  ) {}

  static async open(o: BuildServiceOptions): Promise<BuildService> {
    const workRoot = join(o.dataRoot, 'builder');
    const runRoot = join(o.execRoot, 'builder');
    // Leftovers of a crashed build: temp contexts and mount dirs (snapshots are swept by storage).
    await rm(join(workRoot, 'tmp'), { recursive: true, force: true });
    await Promise.all([mkdir(join(workRoot, 'tmp'), { recursive: true, mode: 0o700 }), mkdir(runRoot, { recursive: true, mode: 0o700 })]);
    const cache = await BuildCacheStore.open(join(workRoot, 'cache'));
    const runner = new OneShotRunner({ execRoot: o.execRoot, ...(o.runcBinary ? { runcBinary: o.runcBinary } : {}), ...(o.cgroupParent ? { cgroupParent: o.cgroupParent } : {}), ...(o.network ? { network: o.network, stateDir: join(workRoot, 'bridge-runs') } : {}) });
    await runner.cleanupLeftovers();
    await removeWorkingSnapshots(o.storage, join(workRoot, 'mnt'));
    return new BuildService({ images: o.images, storage: o.storage, runner, hasher: await FileHasher.open(join(workRoot, 'file-index.json')), holds: new BuildHolds(o.storage), workRoot, runRoot }, cache, o.images);
  }

  /** Checks the options that can fail before any byte of the context is read. */
  validate(opts: BuildOptions): void {
    for (const t of opts.tags) {
      try {
        refWithTag(t, undefined);
      } catch (err) {
        throw invalidArgument(`invalid tag "${t}": ${(err as Error).message}`, err);
      }
    }
    if (opts.dockerfile.startsWith('/') || opts.dockerfile.split('/').includes('..')) {
      throw invalidArgument(`invalid dockerfile path "${opts.dockerfile}": expected a path inside the build context`);
    }
    if (opts.platform) parsePlatformList(opts.platform); // a bad --platform is a 400 before the stream
  }

  /**
   * Fetches a `remote=` context (git clone, or the response headers of a tarball/Dockerfile
   * URL) before the build's stream starts, so a bad URL, ref or subdir is an HTTP error.
   * `file://` repositories are on the daemon's host: only with `allowLocal`. A git checkout
   * loses its `.git` unless the build arg BUILDKIT_CONTEXT_KEEP_GIT_DIR is 1/true.
   */
  async openRemote(remote: string, o: { signal?: AbortSignal; allowLocal: boolean; buildArgs?: Record<string, string> }): Promise<RemoteContext> {
    const source = parseRemote(remote);
    if (source.kind === 'git' && source.transport === 'file' && !o.allowLocal) {
      throw invalidArgument(`remote context "${redactUrl(remote)}": file:// repositories are accepted only over the unix socket`);
    }
    const dir = await mkdtemp(join(this.deps.workRoot, 'tmp', 'remote-'));
    try {
      // BuildKit's build arg for keeping a git context's .git directory.
      const keep = o.buildArgs?.['BUILDKIT_CONTEXT_KEEP_GIT_DIR'];
      const keepGitDir = keep !== undefined && ['1', 'true'].includes(keep.toLowerCase());
      const ctx = await fetchRemoteContext(source, dir, { keepGitDir, ...(o.signal ? { signal: o.signal } : {}) });
      return { ...ctx, close: () => ctx.close().finally(() => rm(dir, { recursive: true, force: true })) };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async build(context: Readable | RemoteContext, opts: BuildOptions, o: { signal: AbortSignal; onEvent: (e: BuildEvent) => void }): Promise<BuildResult> {
    this.validate(opts);
    this.active++;
    try {
      return await this.buildInner(context, opts, o);
    } finally {
      this.active--;
    }
  }

  private async buildInner(context: Readable | RemoteContext, opts: BuildOptions, o: { signal: AbortSignal; onEvent: (e: BuildEvent) => void }): Promise<BuildResult> {
    const dir = await mkdtemp(join(this.deps.workRoot, 'tmp', 'ctx-'));
    let spool: ContextFiles | undefined;
    try {
      const t0 = Date.now();
      const remote = 'kind' in context ? context : undefined;
      // A remote Dockerfile URL is the whole context: its name replaces dockerfile=.
      if (remote?.kind === 'directory' && remote.dockerfile) opts = { ...opts, dockerfile: remote.dockerfile };
      // berth build on this host names its context directory: read in place, hashes from the stat index.
      if (opts.localContext && !remote) (context as Readable).resume();
      const intake = remote?.kind === 'directory'
        ? // A fresh checkout: its files are new, a stat index would only fill with dead paths.
          await readLocalContext(remote.root, opts.dockerfile || 'Dockerfile', new FileHasher(), join(dir, 'tree'), { signal: o.signal })
        : opts.localContext && !remote
          ? await readLocalContext(opts.localContext, opts.dockerfile || 'Dockerfile', this.deps.hasher, join(dir, 'tree'), { signal: o.signal })
          : await unpackContext(await decompressContext(remote?.kind === 'archive' ? remote.stream : (context as Readable), { signal: o.signal }), dir, { signal: o.signal });
      spool = intake.spool;
      o.onEvent({ type: 'context', bytes: intake.bytes, files: intake.entries.size, durationMs: Date.now() - t0 });
      const dfPath = opts.dockerfile || 'Dockerfile';
      const dfEntry = intake.entries.get(dfPath.split('/').filter((p) => p !== '' && p !== '.').join('/'));
      if (!dfEntry || dfEntry.type !== 'file') throw new BerthError('invalid-argument', `Cannot locate specified Dockerfile: ${dfPath}`);
      if (dfEntry.size > MAX_DOCKERFILE_BYTES) throw invalidArgument(`Dockerfile "${dfPath}" is larger than ${MAX_DOCKERFILE_BYTES} bytes`);
      const text = (await spool.read(dfEntry)).toString('utf8');
      const view = await this.contextView(intake, dfPath);
      const df = parseDockerfile(text, { file: dfPath.split('/').pop() ?? 'Dockerfile' });
      const t1 = Date.now();
      // One executor per target platform (the host's when none is asked for).
      const r = await buildPlatforms(opts, o, {
        runOne: async (popts, onEvent, signal) => {
          const exec = new BuildExecutor(this.deps, this.cache, df, view, popts, onEvent);
          return { ...(await exec.run(signal)), release: () => exec.releaseImages() };
        },
        flush: () => this.cache.flush(),
        images: { tag: (...a) => this.deps.images.tag(...a), createIndex: (...a) => this.indexes.createIndex(...a) },
      });
      log.info('build finished', { image: r.imageId.slice(7, 19), contextMs: t1 - t0, stepsMs: Date.now() - t1, cached: r.cached, executed: r.executed });
      return { imageId: r.imageId, tags: opts.tags, cached: r.cached, executed: r.executed };
    } finally {
      await spool?.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `.dockerignore` applied server-side too: ignored members leave the index. */
  private async contextView(intake: IntakeResult, dockerfile: string): Promise<BuildContextView> {
    const { entries, spool } = intake;
    let matcher: DockerignoreMatcher | undefined;
    for (const cand of dockerignoreCandidates(dockerfile)) {
      const e = entries.get(cand);
      if (e?.type === 'file') {
        // An ignored Dockerfile/.dockerignore was read above and now leaves the context, as
        // dockerd and BuildKit do (the docker CLI's `-f -` hides its Dockerfile that way).
        matcher = DockerignoreMatcher.parse((await spool.read(e, MAX_DOCKERFILE_BYTES)).toString('utf8'));
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
    }
    return { entries, ignored, spool };
  }

  /** Running builds that use an image (image prune/rmi skip it, as for a running container). */
  imageUsers(imageId: string): Array<{ id: string; running: boolean }> {
    return this.deps.holds.users(imageId);
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
    if (this.active === 0) {
      // RUN --mount=type=cache directories are build cache too (docker builder prune removes them).
      const dir = join(this.deps.workRoot, 'cache-mounts');
      reclaimed += await directorySize(dir);
      await rm(dir, { recursive: true, force: true });
    }
    return { cachesDeleted: deleted, spaceReclaimed: reclaimed };
  }
}
