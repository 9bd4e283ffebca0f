// The only importer of node:child_process (STYLE.md §8). Every child has a timeout,
// runs in its own process group and is killed as a group on timeout or abort.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { PassThrough, type Duplex, type Readable, type Writable } from 'node:stream';
import { BerthError } from './errors.js';

const STDERR_TAIL_BYTES = 4096;

export class ExecError extends BerthError {
  readonly cmd: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;
  constructor(cmd: string, exitCode: number | null, signal: NodeJS.Signals | null, stderrTail: string, timedOut = false) {
    const why = timedOut ? 'timed out' : signal ? `killed by ${signal}` : `exited with status ${exitCode}`;
    const tail = stderrTail.trim();
    super(timedOut ? 'unavailable' : 'internal', `${cmd} ${why}${tail ? `: ${tail}` : ''}`);
    this.name = 'ExecError';
    this.cmd = cmd;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
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
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    // The group is already gone: nothing left to kill.
  }
}

function appendTail(tail: string, chunk: Buffer): string {
  const s = tail + chunk.toString('utf8');
  return s.length > STDERR_TAIL_BYTES ? s.slice(-STDERR_TAIL_BYTES) : s;
}

/**
 * Watches a spawned child: kills its group on timeout or abort, keeps a bounded stderr tail,
 * and settles with the exit code (0 or an ok code) or an ExecError (or the abort reason).
 */
function supervise(child: ChildProcess, cmd: string, args: readonly string[], opts: RunOptions): Promise<{ exitCode: number; stderr: string }> {
  let stderr = '';
  let timedOut = false;
  child.stderr!.on('data', (c: Buffer) => {
    stderr = appendTail(stderr, c);
  });
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, opts.timeoutMs);
  const onAbort = () => killGroup(child, 'SIGKILL');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (err) => {
      settle();
      reject(new BerthError('internal', `cannot run ${cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, sig) => {
      settle();
      if (opts.signal?.aborted) return reject(opts.signal.reason ?? new DOMException('aborted', 'AbortError'));
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) return resolve({ exitCode: code, stderr });
      reject(new ExecError([cmd, ...args].join(' ').slice(0, 200), code, sig, stderr, timedOut));
    });
  });
}

/** Runs a command to completion and collects its output (stderr bounded to a tail). */
export async function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const child = spawn(cmd, args, {
    detached: true,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stdin!.on('error', () => {
    // The child may exit without reading its input; its exit status tells the story.
  });
  child.stdin!.end(opts.input ?? '');
  const { exitCode, stderr } = await supervise(child, cmd, args, opts);
  return { stdout, stderr, exitCode };
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
  opts: RunOptions & { stdout?: 'pipe' | 'ignore' },
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
    kill: (sig: NodeJS.Signals = 'SIGKILL') => killGroup(child, sig),
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
export function spawnDetachedWithPipes(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdio: ['ignore' | number, 'ignore' | number, 'ignore' | number]; pipes: number },
): { pid: number; pipes: Duplex[] } {
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
