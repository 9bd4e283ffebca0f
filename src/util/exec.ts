// The only importer of node:child_process (STYLE.md §8). Every child has a timeout,
// runs in its own process group and is killed as a group on timeout or abort.
// run() starts its command through the berth-sys addon when it is there (native/berth-spawn.c:
// a vfork-style child, so the daemon is not forked, which blocks the event loop 1-4.5 ms per
// spawn), else (no addon, BERTH_NATIVE=0) through child_process; both give the same results,
// errors and timeouts. spawnDetachedWithPipes (conmon) does the same; streaming children and
// spawnDetached (the CLI starting berthd) stay on child_process.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { PassThrough, type Duplex, type Readable, type Writable } from 'node:stream';
import { BerthError } from './errors.js';
import { nativeSys, type NativeSys } from './native-sys.js';

const STDERR_TAIL_BYTES = 4096;
/** run()'s default bound on what a command may write to stdout (iptables-save of a big host is a few MB). */
export const RUN_MAX_STDOUT_BYTES = 64 * 2 ** 20;

export class ExecError extends BerthError {
  readonly cmd: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;
  /** `timeout`: killed when its time was up; `overflow`: killed when its stdout passed the bound. */
  readonly reason: 'timeout' | 'overflow' | undefined;
  constructor(cmd: string, exitCode: number | null, signal: NodeJS.Signals | null, stderrTail: string, reason?: 'timeout' | 'overflow') {
    const what =
      reason === 'timeout' ? 'timed out' : reason === 'overflow' ? 'wrote too much output' : signal ? `killed by ${signal}` : `exited with status ${exitCode}`;
    const tail = stderrTail.trim();
    super(reason === 'timeout' ? 'unavailable' : 'internal', `${cmd} ${what}${tail ? `: ${tail}` : ''}`);
    this.name = 'ExecError';
    this.cmd = cmd;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
    this.reason = reason;
  }
}

export interface RunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Accept these exit codes besides 0. */
  okCodes?: number[];
  /**
   * Run the command in the network namespace of this file (a bind-mounted netns): the addon
   * setns()es its child before the exec; without it, `nsenter --net=<file>` runs the command.
   */
  netns?: string;
  /** Kill the command (ExecError, reason `overflow`) once its stdout passes this; RUN_MAX_STDOUT_BYTES by default. */
  maxStdoutBytes?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // The group is already gone: nothing left to kill.
  }
}

/** The last STDERR_TAIL_BYTES of what a command wrote to stderr. */
class StderrTail {
  private chunks: Buffer[] = [];
  private bytes = 0;
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes > 2 * STDERR_TAIL_BYTES) this.trim();
  }
  private trim(): void {
    const all = Buffer.concat(this.chunks);
    const tail = all.subarray(Math.max(0, all.length - STDERR_TAIL_BYTES));
    this.chunks = [tail];
    this.bytes = tail.length;
  }
  toString(): string {
    this.trim();
    return this.chunks[0]!.toString('utf8');
  }
}

/** The command as errors name it (without an nsenter in front), at most 200 characters. */
function label(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].join(' ').slice(0, 200);
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** What a finished command amounts to: its exit code when it is 0 or an ok code, else the error to throw. */
function outcome(
  cmd: string,
  args: readonly string[],
  opts: RunOptions,
  end: { code: number | null; signal: NodeJS.Signals | null; stderr: string; timedOut: boolean; overflowed: boolean },
): number {
  if (opts.signal?.aborted) throw opts.signal.reason ?? new DOMException('aborted', 'AbortError');
  const { code } = end;
  if (!end.overflowed && (code === 0 || (code !== null && opts.okCodes?.includes(code)))) return code;
  throw new ExecError(label(cmd, args), code, end.signal, end.stderr, end.timedOut ? 'timeout' : end.overflowed ? 'overflow' : undefined);
}

/** Kills the group of `pid()` when the timeout passes or the signal aborts; `stop` disarms both. */
function deadline(pid: () => number | undefined, opts: RunOptions): { timedOut: () => boolean; stop: () => void } {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(pid(), 'SIGKILL');
  }, opts.timeoutMs);
  const onAbort = () => killGroup(pid(), 'SIGKILL');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    timedOut: () => timedOut,
    stop: () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Watches a spawned child: kills its group on timeout or abort, keeps a bounded stderr tail,
 * and settles with the exit code (0 or an ok code) or an ExecError (or the abort reason).
 */
function supervise(
  child: ChildProcess,
  cmd: string,
  args: readonly string[],
  opts: RunOptions,
  overflowed: () => boolean = () => false,
): Promise<{ exitCode: number; stderr: string }> {
  const stderr = new StderrTail();
  child.stderr!.on('data', (c: Buffer) => stderr.push(c));
  const watch = deadline(() => child.pid, opts);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      watch.stop();
      reject(new BerthError('internal', `cannot run ${cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, sig) => {
      watch.stop();
      const tail = stderr.toString();
      try {
        resolve({ exitCode: outcome(cmd, args, opts, { code, signal: sig, stderr: tail, timedOut: watch.timedOut(), overflowed: overflowed() }), stderr: tail });
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Runs a command to completion and collects its output (stdout bounded, stderr to a tail). */
export async function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  opts.signal?.throwIfAborted();
  const sys = nativeSys();
  return sys ? runNative(sys, cmd, args, opts) : runForked(cmd, args, opts);
}

/** An environment as the addon takes it (KEY=VALUE strings); null: the daemon's own. */
function envStrings(env: NodeJS.ProcessEnv | undefined): string[] | null {
  return env ? Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])) : null;
}

/** run() through the addon: no fork of the daemon; the addon reaps the child, JS kills it on a deadline. */
async function runNative(sys: NativeSys, cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const input = opts.input === undefined ? null : typeof opts.input === 'string' ? Buffer.from(opts.input) : opts.input;
  const env = envStrings(opts.env);
  let child: ReturnType<NativeSys['spawn']>;
  try {
    child = sys.spawn([cmd, ...args], env, opts.cwd ?? null, opts.netns ?? null, input, opts.maxStdoutBytes ?? RUN_MAX_STDOUT_BYTES, STDERR_TAIL_BYTES);
  } catch (err) {
    throw new BerthError('internal', `cannot run ${cmd}: ${(err as Error).message}`, { cause: err });
  }
  const watch = deadline(() => child.pid, opts);
  const r = await child.done.finally(watch.stop);
  const stderr = r.stderr.toString('utf8');
  const signal = r.signal === null ? null : (SIGNAL_NAMES.get(r.signal) ?? null);
  const exitCode = outcome(cmd, args, opts, { code: r.exitCode, signal, stderr, timedOut: watch.timedOut(), overflowed: r.overflowed });
  return { stdout: r.stdout.toString('utf8'), stderr, exitCode };
}

/** run() through child_process (a fork of the daemon). */
async function runForked(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const [file, argv] = opts.netns ? ['nsenter', [`--net=${opts.netns}`, cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, {
    detached: true,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const max = opts.maxStdoutBytes ?? RUN_MAX_STDOUT_BYTES;
  const stdout: Buffer[] = [];
  let bytes = 0;
  let overflowed = false;
  child.stdout!.on('data', (c: Buffer) => {
    if (overflowed) return;
    if (bytes + c.length > max) {
      overflowed = true;
      killGroup(child.pid, 'SIGKILL');
      c = c.subarray(0, max - bytes);
    }
    stdout.push(c);
    bytes += c.length;
  });
  child.stdin!.on('error', () => {
    // The child may exit without reading its input; its exit status tells the story.
  });
  child.stdin!.end(opts.input ?? '');
  const { exitCode, stderr } = await supervise(child, cmd, args, opts, () => overflowed);
  return { stdout: Buffer.concat(stdout).toString('utf8'), stderr, exitCode };
}

export interface StreamingChild {
  stdin: Writable;
  stdout: Readable;
  /** Resolves when the child exits with 0 (or an ok code); rejects with ExecError otherwise. */
  done: Promise<number>;
  kill(sig?: NodeJS.Signals): void;
}

/**
 * The child's stdout, read from now on. Node resumes (and so drops) a child's stdout that
 * nothing reads when the child exits, so a caller that starts reading after an await would
 * lose a quick child's whole output. Backpressure still reaches the child through the pipe;
 * a consumer that destroys the stream closes the child's end, as destroying stdout would.
 */
function heldOutput(src: Readable): Readable {
  const out = new PassThrough();
  src.on('error', (err) => out.destroy(err));
  out.on('close', () => {
    if (!src.readableEnded) src.destroy();
  });
  return src.pipe(out);
}

/** Spawns a command whose stdin/stdout are streamed by the caller (e.g. tar, zstd). */
export function spawnStreaming(
  cmd: string,
  args: readonly string[],
  opts: Omit<RunOptions, 'netns' | 'maxStdoutBytes'> & { stdout?: 'pipe' | 'ignore' },
): StreamingChild {
  const child = spawn(cmd, args, {
    detached: true,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['pipe', opts.stdout ?? 'pipe', 'pipe'],
  });
  const done = supervise(child, cmd, args, opts).then((r) => r.exitCode);
  // A caller that only awaits `done` on success must not crash the process on failure.
  done.catch(() => undefined);
  return {
    stdin: child.stdin!,
    stdout: child.stdout ? heldOutput(child.stdout) : (null as unknown as Readable),
    done,
    kill: (sig: NodeJS.Signals = 'SIGKILL') => killGroup(child.pid, sig),
  };
}

/**
 * Starts a process that must outlive berth (conmon; berthd started by the CLI).
 * The caller explains why at the call site. Output goes to the given file descriptors.
 */
export function spawnDetached(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdio?: SpawnOptions['stdio'] },
): number {
  const child = spawn(cmd, args, {
    detached: true,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: opts.stdio ?? 'ignore',
  });
  child.unref();
  if (child.pid === undefined) throw new BerthError('internal', `cannot start ${cmd}`);
  return child.pid;
}

/**
 * spawnDetached with `pipes` more descriptors, the child's fds 3, 4, …: sockets whose other ends
 * come back in `pipes`, for a child that reports how its start goes and waits to be told to go
 * on (conmon's sync, attach and start pipes). No socket on disk and no extra event-loop turns;
 * the caller destroys them once the start is over, so nothing ties the child's lifetime to berth's.
 */
export async function spawnDetachedWithPipes(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdio: ['ignore' | number, 'ignore' | number, 'ignore' | number]; pipes: number },
): Promise<{ pid: number; pipes: Duplex[] }> {
  const sys = nativeSys();
  if (sys) {
    // Through the addon: no fork of the daemon on the container start path, the clone made on a
    // pool thread (the event loop never waits for it); the addon reaps the child. The stdio fds
    // stay the caller's: open until this resolves.
    let child: { pid: number; fds: number[] };
    try {
      const stdio = opts.stdio.map((s) => (s === 'ignore' ? -1 : s)) as [number, number, number];
      child = await sys.spawnDetached([cmd, ...args], envStrings(opts.env), opts.cwd ?? null, stdio, opts.pipes);
    } catch (err) {
      throw new BerthError('internal', `cannot start ${cmd}: ${(err as Error).message}`, { cause: err });
    }
    return { pid: child.pid, pipes: child.fds.map((fd) => new Socket({ fd, readable: true, writable: true })) };
  }
  const child = spawn(cmd, args, {
    detached: true,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: [...opts.stdio, ...Array.from({ length: opts.pipes }, () => 'pipe' as const)],
  });
  child.unref();
  const pipes = child.stdio.slice(3) as Duplex[];
  if (child.pid === undefined || pipes.length !== opts.pipes || pipes.some((p) => !p)) throw new BerthError('internal', `cannot start ${cmd}`);
  return { pid: child.pid, pipes };
}
