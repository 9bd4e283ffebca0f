// ContainerService: the container lifecycle on top of runc + conmon, as one facade over the
// operation modules (container-create/start/exit/stop/remove/restore/update.ts). Every
// operation runs lock → sync state → check transition → act → save (STYLE.md §6). The lock
// is never held while waiting for a container to exit; exits arrive through conmon's exit file.
import { totalmem } from 'node:os';
import type { Readable } from 'node:stream';
import { BerthError, KeyedMutex, errorKind, errorMessage } from '../util/index.js';
import { DEFAULT_DETACH_KEYS, forwardStdin, parseDetachKeys } from './attach.js';
import type { Change, PathStat } from './archive.js';
import { ContainerFilesystem, type CommitOptions } from './container-fs.js';
import { ContainerContext, type ContainerServiceOptions, type RemoveOptions } from './container-context.js';
import { createContainer } from './container-create.js';
import { viewMounts, withMountsOver } from './container-view.js';
import { logRotation } from './container-exit.js';
import type { Container, CreateResult, ExitInfo } from './container-record.js';
import { removeContainer } from './container-remove.js';
import { closeContainers, restoreContainers } from './container-restore.js';
import type { ContainerSpec } from './container-spec.js';
import { startFailureExitCode, startProcess } from './container-start.js';
import { checkTransition } from './container-state.js';
import { killContainer, restartContainer, setPaused, stopContainer, waitFor } from './container-stop.js';
import {
  joinsNetwork,
  recordNetworkChange,
  renameContainer,
  resizeContainer,
  updateContainer,
  type NetworkChange,
  type UpdatableHostSpec,
} from './container-update.js';
import { readLogSet, type LogRecord, type ReadLogOptions } from './logs.js';
import { rotatedPaths } from './log-rotation.js';
import { sampleStats, type StatsSample } from './stats.js';
import { topOf, type TopResult } from './top.js';

export { Container } from './container-record.js';
export type { CreateResult, ExitInfo } from './container-record.js';
export type { ContainerServiceOptions } from './container-context.js';
export { checkPlatform } from './container-create.js';
export { logRotation } from './container-exit.js';

export class ContainerService extends ContainerContext {
  /** cp, export, diff, commit, sizes (container-fs.ts). */
  readonly fs: ContainerFilesystem;
  /** Serializes the cp views of one container (withView). */
  private readonly viewLocks = new KeyedMutex();

  constructor(opts: ContainerServiceOptions) {
    super(opts);
    this.fs = new ContainerFilesystem(this, opts.snapshotter, opts.images);
  }

  // ---------- daemon start / stop ----------

  /** Loads every container from disk and reconciles it with the kernel (runc state, conmon, exit files). */
  init(): Promise<void> {
    return restoreContainers(this);
  }

  /** Stops watchers and timers; containers keep running under conmon. */
  close(): Promise<void> {
    return closeContainers(this);
  }

  // ---------- lifecycle ----------

  create(spec: ContainerSpec, opts: { name?: string; platform?: string; signal?: AbortSignal } = {}): Promise<CreateResult> {
    return createContainer(this, spec, opts);
  }

  async start(ref: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const c = this.get(ref);
    try {
      await this.locks.run(c.id, async () => {
        checkTransition(c.id, c.state.status, 'start');
        c.state.manuallyStopped = false;
        await startProcess(this, c, opts);
      });
    } catch (err) {
      if (errorKind(err) === 'not-modified' || errorKind(err) === 'conflict') throw err;
      // Like dockerd: a failed start records an exit code and an --rm container goes away.
      // `wait?condition=next-exit` goes on waiting for a run that exits, as under dockerd:
      // answered now, it made the docker CLI print "Error waiting for container" beside the
      // start's own error.
      const code = startFailureExitCode(errorMessage(err));
      c.state.exitCode = code;
      await this.saveState(c).catch(() => undefined);
      if (c.config.spec.host.autoRemove) await this.remove(c.id, { force: true, removeVolumes: true }).catch(() => undefined);
      throw err;
    }
  }

  stop(ref: string, opts: { timeoutS?: number; signal?: string } = {}): Promise<void> {
    return stopContainer(this, ref, opts);
  }

  kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    return killContainer(this, ref, signal);
  }

  restart(ref: string, opts: { timeoutS?: number; signal?: string } = {}): Promise<void> {
    return restartContainer(this, ref, opts);
  }

  pause(ref: string): Promise<void> {
    return setPaused(this, ref, true);
  }

  unpause(ref: string): Promise<void> {
    return setPaused(this, ref, false);
  }

  /** Docker's wait conditions: not-running (default), next-exit, removed. */
  wait(ref: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running', opts: { signal?: AbortSignal } = {}): Promise<ExitInfo> {
    return waitFor(this, ref, condition, opts);
  }

  remove(ref: string, opts: RemoveOptions = {}): Promise<void> {
    return removeContainer(this, ref, opts);
  }

  /** Restart policies: `c` is `restarting` now and started again after `delayMs`. */
  scheduleRestart(c: Container, delayMs: number): void {
    clearTimeout(c.restartTimer);
    c.state.status = 'restarting';
    void this.saveState(c).catch(() => undefined);
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      void this.locks
        .run(c.id, async () => {
          if (c.state.status !== 'restarting' || c.removing || c.state.manuallyStopped) return;
          c.state.restartCount++;
          await startProcess(this, c, {});
        })
        .catch((e: unknown) => {
          this.log.warn('restart failed', { container: c.id.slice(0, 12), error: errorMessage(e) });
          c.state.status = 'exited';
          void this.saveState(c).catch(() => undefined);
        });
    }, delayMs);
    c.restartTimer.unref();
  }

  // ---------- config changes ----------

  rename(ref: string, newName: string): Promise<void> {
    return renameContainer(this, ref, newName);
  }

  /** Whether the container's config joins `network` at its next start (its mode's network or an endpoint). */
  joinsNetwork(ref: string, network: { id: string; name: string }): boolean {
    return joinsNetwork(this, ref, network);
  }

  /** After `docker network connect/disconnect`: kept in the config and the running container's NetworkSettings. */
  networkChanged(ref: string, change: NetworkChange): Promise<void> {
    return recordNetworkChange(this, ref, change);
  }

  /** `docker update`: resources and restart policy. */
  update(ref: string, change: UpdatableHostSpec): Promise<string[]> {
    return updateContainer(this, ref, change);
  }

  resize(ref: string, height: number, width: number): Promise<void> {
    return resizeContainer(this, ref, height, width);
  }

  // ---------- logs / attach ----------

  /** Log records of a container (streamed; with follow, until the container exits). */
  logs(ref: string, opts: Omit<ReadLogOptions, 'done' | 'fromOffset'>): AsyncGenerator<LogRecord> {
    const c = this.get(ref);
    if (c.config.spec.host.logConfig.type === 'none') {
      throw new BerthError('invalid-argument', 'configured logging driver does not support reading');
    }
    const done = c.isRunning || c.state.status === 'restarting' ? c.nextExit.promise : Promise.resolve();
    const { maxFile } = logRotation(c.config.spec.host.logConfig.config);
    return readLogSet(rotatedPaths(c.logPath, maxFile), c.logPath, { ...opts, done });
  }

  /**
   * Copies a client's input into the container's stdin (containers created with -i).
   * Before the start (docker run -i attaches first) it waits for conmon to be up.
   */
  async attachStdin(ref: string, input: Readable, opts: { signal?: AbortSignal; detachKeys?: string } = {}): Promise<'eof' | 'detached' | 'closed'> {
    const c = this.get(ref);
    if (!c.config.spec.openStdin) return 'closed';
    const keys = opts.detachKeys ? parseDetachKeys(opts.detachKeys) : DEFAULT_DETACH_KEYS;
    if (!c.isRunning) {
      const aborted = new Promise<'aborted'>((resolve) => {
        if (opts.signal?.aborted) resolve('aborted');
        opts.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
      });
      const r = await Promise.race([c.nextStart.promise.then(() => 'started' as const), c.removed.promise.then(() => 'aborted' as const), aborted]);
      if (r === 'aborted') return 'closed';
    }
    const fwd = await forwardStdin(this.socketDir, c.id, input, { detachKeys: keys });
    const onAbort = () => fwd.close();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const how = await fwd.done;
      if (how === 'detached') {
        fwd.close();
        this.publish(c, 'detach');
      }
      return how;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  // ---------- introspection ----------

  async top(ref: string, psArgs = ''): Promise<TopResult> {
    return topOf(this, this.get(ref), psArgs);
  }

  /** One usage sample (cgroup v1 or v2 files); a stopped container reads as zeros. */
  async stats(ref: string): Promise<StatsSample & { id: string; name: string; running: boolean }> {
    const c = this.get(ref);
    const sample = await sampleStats(this.cgroupPathOf(c), c.isRunning ? c.state.pid : 0, totalmem());
    return { ...sample, id: c.id, name: c.name, running: c.isRunning };
  }

  /** Bytes in the writable layer (SizeRw) and that plus the image's files (SizeRootFs, when known). */
  sizeOf(c: Container): Promise<{ rw: number; rootFs: number }> {
    return this.fs.sizeOf(c);
  }

  // ---------- filesystem: cp, export, diff, commit ----------

  /** Runs `fn` with the rootfs mounted: as it is when running, else mounted for the duration (under the lock). */
  withView<T>(c: Container, fn: (rootfs: string) => Promise<T>): Promise<T> {
    // One view at a time per container: each takes its binds off the same places.
    return this.withRootfs(c, (rootfs) => this.viewLocks.run(c.id, () => withMountsOver(rootfs, viewMounts(c), { makeTargets: !c.isRunning }, () => fn(rootfs))));
  }

  async withRootfs<T>(c: Container, fn: (rootfs: string) => Promise<T>): Promise<T> {
    if (c.isRunning) return fn(c.rootfs);
    return this.locks.run(c.id, async () => {
      if (c.isRunning || c.state.mounted) return fn(c.rootfs);
      await this.opts.snapshotter.mount(c.config.rootfsKey, c.rootfs, { volatile: c.config.spec.host.autoRemove });
      c.state.mounted = true;
      try {
        return await fn(c.rootfs);
      } finally {
        await this.unmountRootfs(c);
      }
    });
  }

  archiveStat(ref: string, path: string): Promise<PathStat> {
    return this.fs.archiveStat(ref, path);
  }

  archiveGet(ref: string, path: string, consume: (stat: PathStat, tar: Readable) => Promise<void>, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.fs.archiveGet(ref, path, consume, opts);
  }

  archivePut(ref: string, path: string, tar: Readable, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.fs.archivePut(ref, path, tar, opts);
  }

  exportRootfs(ref: string, consume: (tar: Readable) => Promise<void>, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.fs.exportRootfs(ref, consume, opts);
  }

  changes(ref: string): Promise<Change[]> {
    return this.fs.changes(ref);
  }

  commit(ref: string, req: CommitOptions, opts: { signal?: AbortSignal } = {}): Promise<string> {
    return this.fs.commit(ref, req, opts);
  }
}
