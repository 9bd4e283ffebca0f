// Debian's runc, always with the daemon's own state root (`--root <execRoot>/runc`).
// Every call has a timeout; stderr ends up in the ExecError.
import { constants, open as openCb, unlink } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError, ExecError, run, type RunResult } from '../util/index.js';

const openFd = promisify(openCb);
/** How long a created container may take to pick up the start signal. */
const FIFO_START_TIMEOUT_MS = 10_000;

const SHORT_TIMEOUT_MS = 10_000;
const LONG_TIMEOUT_MS = 30_000;

export interface RuncState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
  created: string;
}

export class RuncRuntime {
  private cgroupRoots: Promise<string[]> | undefined;

  constructor(
    readonly binary: string,
    readonly root: string,
    /** The monitor that runs `runc create` and `exec` for us (conmon.ts), by absolute path once restored. */
    readonly conmon = 'conmon',
  ) {}

  /** Global args conmon passes before the sub-command. */
  globalArgs(): string[] {
    return ['--root', this.root];
  }

  private call(args: string[], opts: { timeoutMs?: number; signal?: AbortSignal; input?: string } = {}): Promise<RunResult> {
    return run(this.binary, [...this.globalArgs(), ...args], {
      timeoutMs: opts.timeoutMs ?? SHORT_TIMEOUT_MS,
      signal: opts.signal,
      input: opts.input,
    });
  }

  async state(id: string, opts: { signal?: AbortSignal } = {}): Promise<RuncState | undefined> {
    try {
      const r = await this.call(['state', id], opts);
      const s = JSON.parse(r.stdout) as RuncState;
      return s;
    } catch (err) {
      if (err instanceof ExecError && /does not exist|not exist/.test(err.stderrTail)) return undefined;
      throw err;
    }
  }

  async list(opts: { signal?: AbortSignal } = {}): Promise<RuncState[]> {
    const r = await this.call(['list', '--format', 'json'], opts);
    const parsed: unknown = JSON.parse(r.stdout || 'null');
    return Array.isArray(parsed) ? (parsed as RuncState[]) : [];
  }

  async start(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.call(['start', id], { ...opts, timeoutMs: LONG_TIMEOUT_MS });
  }

  /**
   * What `runc start` does, without spawning runc (a Go binary costs 5-20 ms on the hot
   * path): runc 1.1's init waits to open `<root>/<id>/exec.fifo` for writing; reading its one
   * byte lets it exec the process, and removing the fifo marks the container running. Falls
   * back to `runc start` when the fifo is not where runc 1.1 keeps it.
   */
  async startViaFifo(id: string, initPid: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const fifo = join(this.root, id, 'exec.fifo');
    let fd: number;
    try {
      // O_RDWR never blocks on a fifo and keeps it from reporting EOF before init writes.
      fd = await openFd(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    } catch {
      // Not runc 1.1's layout (or already started): let runc decide.
      return this.start(id, opts);
    }
    const sock = new Socket({ fd, readable: true, writable: false });
    try {
      await new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + FIFO_START_TIMEOUT_MS;
        const timer = setInterval(() => {
          let alive = true;
          try {
            process.kill(initPid, 0);
          } catch {
            alive = false;
          }
          if (!alive || Date.now() > deadline) {
            clearInterval(timer);
            reject(new BerthError('internal', alive ? `container ${id.slice(0, 12)} did not start in time` : 'container process is already dead'));
          }
        }, 100);
        sock.once('data', () => {
          clearInterval(timer);
          resolve();
        });
        sock.once('error', (err) => {
          clearInterval(timer);
          reject(err);
        });
        opts.signal?.addEventListener('abort', () => {
          clearInterval(timer);
          reject(opts.signal!.reason);
        }, { once: true });
      });
    } finally {
      sock.destroy();
    }
    await promisify(unlink)(fifo).catch(() => undefined);
  }

  /**
   * What `runc delete` does for a container whose init has exited, without spawning runc:
   * remove its cgroup directories and its state directory. Processes left in the cgroup
   * (a shared pid namespace) make rmdir fail; then runc does it, killing them.
   */
  async deleteStopped(id: string, cgroupPath: string): Promise<void> {
    // The cgroup hierarchies do not change while berthd runs: listed once.
    this.cgroupRoots ??= readdir('/sys/fs/cgroup').catch(() => [] as string[]);
    const ctrls = await this.cgroupRoots;
    const results = await Promise.all(
      ctrls.map((ctrl) =>
        rmdir(join('/sys/fs/cgroup', ctrl, cgroupPath)).then(
          () => true,
          (err: NodeJS.ErrnoException) => err.code === 'ENOENT' || err.code === 'ENOTDIR',
        ),
      ),
    );
    if (results.some((ok) => !ok)) return this.delete(id, { force: true });
    await rm(join(this.root, id), { recursive: true, force: true });
  }

  /** Sends a signal; `all` signals every process of the container (needed for paused/pid-host). */
  async kill(id: string, signal: string, opts: { all?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.call(['kill', ...(opts.all ? ['--all'] : []), id, signal], opts);
    } catch (err) {
      if (err instanceof ExecError && /not running|process already finished|container not running/.test(err.stderrTail)) {
        throw new BerthError('conflict', `container ${id.slice(0, 12)} is not running`, { cause: err });
      }
      throw err;
    }
  }

  async delete(id: string, opts: { force?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.call(['delete', ...(opts.force ? ['--force'] : []), id], opts);
    } catch (err) {
      if (err instanceof ExecError && /does not exist|not exist/.test(err.stderrTail)) return;
      throw err;
    }
  }

  async pause(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.call(['pause', id], opts);
  }

  async resume(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.call(['resume', id], opts);
  }

  /** `runc update` with a LinuxResources JSON on stdin. */
  async update(id: string, resources: Record<string, unknown>, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.call(['update', '--resources', '-', id], { ...opts, input: JSON.stringify(resources) });
  }

  /** Pids of every process in the container (host pid namespace). */
  async ps(id: string, opts: { signal?: AbortSignal } = {}): Promise<number[]> {
    const r = await this.call(['ps', '--format', 'json', id], opts);
    const parsed: unknown = JSON.parse(r.stdout || '[]');
    return Array.isArray(parsed) ? parsed.filter((p): p is number => typeof p === 'number') : [];
  }
}
