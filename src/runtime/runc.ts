// Debian's runc, always with the daemon's own state root (`--root <execRoot>/runc`).
// Every call has a timeout; stderr ends up in the ExecError.
import { BerthError, ExecError, run, type RunResult } from '../util/index.js';

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
  constructor(
    readonly binary: string,
    readonly root: string,
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
