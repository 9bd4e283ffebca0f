// The in-memory record of one container: its two files (config.json, state.json) as last
// read or written, plus what only lives while berthd runs (watchers, timers, waiters).
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Prestart } from './container-prestart.js';
import type { ContainerConfigFile, ContainerStateFile } from './container-store.js';
import type { ExecRecord } from './exec-store.js';
import type { LogKeeper } from './log-rotation.js';

/** First restart delay of a restart policy; doubled on each restart, reset after a long run. */
export const RESTART_BACKOFF_START_MS = 100;

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  /**
   * The value, unless `signal` aborts first. Unlike a race on `promise`, a wait given up (a
   * client that left `docker wait`) leaves nothing attached to a container that may run for days.
   */
  wait(signal?: AbortSignal): Promise<T>;
  /** Waits given a signal and not yet over. */
  readonly waiting: number;
}

export function deferred<T>(): Deferred<T> {
  let resolvePromise!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolvePromise = r));
  const waiters = new Set<(v: T) => void>();
  let settled: { value: T } | undefined;
  return {
    promise,
    resolve(v: T) {
      settled ??= { value: v };
      resolvePromise(v);
      for (const w of waiters) w(v);
      waiters.clear();
    },
    wait(signal?: AbortSignal): Promise<T> {
      if (!signal) return promise;
      if (settled) return Promise.resolve(settled.value);
      return new Promise<T>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = () => {
          waiters.delete(done);
          reject(signal.reason);
        };
        const done = (v: T) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        };
        waiters.add(done);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    get waiting() {
      return waiters.size;
    },
  };
}

export interface ExitInfo {
  exitCode: number;
  error?: string;
}

export interface CreateResult {
  id: string;
  warnings: string[];
}

/** The container record kept in memory; disk (config.json + state.json) is the truth. */
export class Container {
  exitWatcher: FSWatcher | undefined;
  /** Keeps the files conmon replaces (`--log-opt max-file`), while the container runs. */
  logKeeper: LogKeeper | undefined;
  /** The last keeper's closing (its final step), awaited before the container's files go. */
  logKeeperClosed: Promise<void> = Promise.resolve();
  nextExit: Deferred<ExitInfo> = deferred();
  /** Resolves once conmon runs the next start (its attach socket exists). */
  nextStart: Deferred<void> = deferred();
  removed: Deferred<ExitInfo> = deferred();
  /**
   * What the last run held that is let go after its exit is recorded (cgroups and runc state,
   * network endpoints: the kernel takes 10-20 ms to delete a veth). The next start waits for it.
   */
  released: Promise<void> = Promise.resolve();
  releasing = false;
  /** create made the network namespace file for the first start (see container-create.ts). */
  netnsPremade = false;
  /** What create readied for the first start: a pending conmon, the rootfs lookups (container-prestart.ts). */
  prestart: Prestart = {};
  restartTimer: NodeJS.Timeout | undefined;
  healthTimer: NodeJS.Timeout | undefined;
  restartBackoffMs = RESTART_BACKOFF_START_MS;
  removing = false;
  /** Running exec sessions (inspect's ExecIDs). */
  readonly execIds = new Set<string>();
  /** Exec sessions read back (and settled) at daemon start, until the ExecManager takes them. */
  restoredExecs: ExecRecord[] = [];
  constructor(
    public config: ContainerConfigFile,
    public state: ContainerStateFile,
    readonly dir: string,
  ) {}
  get id(): string {
    return this.config.id;
  }
  get name(): string {
    return this.config.name;
  }
  get bundle(): string {
    return join(this.dir, 'bundle');
  }
  get rootfs(): string {
    return join(this.dir, 'rootfs');
  }
  get exitDir(): string {
    return join(this.dir, 'exits');
  }
  get logPath(): string {
    return join(this.dir, 'ctr.log');
  }
  get userdata(): string {
    return join(this.dir, 'userdata');
  }
  get isRunning(): boolean {
    return this.state.status === 'running' || this.state.status === 'paused';
  }
}

/**
 * A removal failed (the container stays): its current waiters (`wait?condition=removed`,
 * `docker run --rm`) learn why, as dockerd's SetRemovalError tells them, and later ones wait
 * for the next removal.
 */
export function failRemoval(c: Container, error: string): void {
  const d = c.removed;
  c.removed = deferred();
  d.resolve({ exitCode: c.state.exitCode, error });
}

/** Resolves the current waiters of `c.nextExit` and arms a fresh one for the next run. */
export function settleNextExit(c: Container, info: ExitInfo): void {
  const d = c.nextExit;
  c.nextExit = deferred();
  d.resolve(info);
}
