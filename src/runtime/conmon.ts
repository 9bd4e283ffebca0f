// conmon: one small monitor per container. It runs `runc create` for us, holds the
// container's stdio, writes the k8s-file log, and records the exit code in its exit file.
//
// It is spawned detached ON PURPOSE: the container must keep running (and logging) when
// berthd stops or is killed, so conmon may not be berthd's child in any way that ties
// their lifetimes together (own session/process group, no pipes that berthd holds).
import { constants } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { Duplex, Readable } from 'node:stream';
import { join } from 'node:path';
import { BerthError, spawnDetachedWithPipes } from '../util/index.js';
import { waitForEnd } from './proc.js';
import type { RuncRuntime } from './runc.js';

/** How long a SIGKILLed conmon may take to die before the caller goes on anyway. */
const KILL_WAIT_MS = 2_000;

/** conmon forks, runs `runc create` and reports the pid; a sane create never takes this long. */
const CREATE_TIMEOUT_MS = 30_000;

export interface ConmonStartOptions {
  id: string;
  /** Session id: the container id, or an exec id for `--exec`. Names the exit file. */
  uuid?: string;
  /** Run an exec session from this process.json instead of creating the container. */
  execProcessSpec?: string;
  name: string;
  bundle: string;
  /** Where the exit file `<exitDir>/<id>` is written. */
  exitDir: string;
  /** The k8s-file log; none when undefined (exec sessions: their output goes to the attach socket only). */
  logPath?: string;
  /** 0 or less = unlimited. */
  logSizeMax: number;
  /** Directory of the attach socket links (`--socket-dir-path`), short to fit sun_path. */
  socketDir: string;
  tty: boolean;
  stdin: boolean;
  /** Keep the container's stdin open when an attached client goes (not StdinOnce). */
  leaveStdinOpen?: boolean;
  /**
   * An exec session whose output is read from the attach socket (`--exec-attach`): conmon
   * reports its socket ready, `connect` is called, and only then does it run `runc exec`.
   */
  attach?: { connect(): void };
  signal?: AbortSignal;
}

export interface ConmonStarted {
  /** pid of the container's init process (host namespace). */
  pid: number;
  /** pid of conmon itself. */
  conmonPid: number;
}

export function conmonArgs(runc: RuncRuntime, o: ConmonStartOptions): string[] {
  const args = [
    '--api-version', '1',
    '-c', o.id,
    '-u', o.uuid ?? o.id,
    '-n', o.name,
    '-r', runc.binary,
    '-b', o.bundle,
    '-p', join(o.bundle, 'pidfile'),
    '--conmon-pidfile', join(o.bundle, 'conmon.pid'),
    '--exit-dir', o.exitDir,
    '-l', o.logPath ? `k8s-file:${o.logPath}` : 'none',
    '--log-level', 'warning',
    '--socket-dir-path', o.socketDir,
    // conmon records an OOM kill as an `oom` file here (OOMKilled in inspect).
    '--persist-dir', o.bundle,
    // Fork once: the process berthd starts is the monitor itself (one fork fewer on the hot path).
    '--sync',
    // No fsync of the log before the exit file is written (dockerd's json-file does not sync
    // either); it sits on the exit path of every container.
    '--no-sync-log',
  ];
  if (o.execProcessSpec) args.push('--exec', '--exec-process-spec', o.execProcessSpec);
  if (o.attach) args.push('--exec-attach');
  for (const a of runc.globalArgs()) args.push('--runtime-arg', a);
  if (o.logSizeMax > 0) args.push('--log-size-max', String(o.logSizeMax));
  if (o.tty) args.push('-t');
  if (o.stdin) args.push('-i');
  if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open');
  return args;
}

interface SyncMessage {
  data: number;
  message?: string;
}

async function readSyncMessage(sock: Readable, signal: AbortSignal): Promise<SyncMessage> {
  let buf = '';
  sock.setEncoding('utf8');
  const onAbort = () => sock.destroy(new BerthError('unavailable', 'conmon did not report the container pid in time'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of sock) {
      buf += chunk as string;
      const nl = buf.indexOf('}');
      if (nl >= 0) {
        const parsed: unknown = JSON.parse(buf.slice(0, nl + 1));
        if (typeof parsed === 'object' && parsed !== null && typeof (parsed as SyncMessage).data === 'number') {
          return parsed as SyncMessage;
        }
        throw new BerthError('internal', `unexpected message from conmon: ${buf.slice(0, 200)}`);
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  throw new BerthError('internal', `conmon exited without reporting the container pid${buf ? `: ${buf.slice(0, 200)}` : ''}`);
}

/** A conmon started and waiting on its start pipe: it does nothing until `run` or `abandon`. */
export interface PendingConmon {
  /**
   * Lets conmon go on: it runs `runc create` (or `runc exec`); resolves once that is done, with
   * the pids. `signal` (default: the spawn's) aborts the wait, for a conmon spawned ahead of its start.
   */
  run(signal?: AbortSignal): Promise<ConmonStarted>;
  /** Kills the waiting conmon (nothing was created); a no-op once `run` was called. */
  abandon(): Promise<void>;
}

/**
 * Starts conmon held on its start pipe, so that its exec and start-up overlap the caller's
 * preparations (config.json is written meanwhile) instead of following them. conmon reads the
 * start pipe before anything else and goes on at end-of-file too, so a pending conmon is killed
 * before its pipes close (`abandon`); after a crash of berthd meanwhile it finds no config.json
 * (the caller removes it before calling this) and runc create fails.
 */
export async function spawnConmon(runc: RuncRuntime, o: ConmonStartOptions): Promise<PendingConmon> {
  const errPath = join(o.bundle, 'conmon.err');
  const errFile = await open(errPath, 'w');
  // conmon writes {"data": pid} (or a negative value and a message) to the sync pipe, fd 3; it
  // waits for a word on the start pipe before it does anything; with --exec-attach it also
  // writes {"data": 0} to the attach pipe once its socket is ready and waits for a second word
  // on the start pipe before runc exec. LC_ALL=C: conmon calls setlocale(LC_ALL, ""), which
  // under a daemon's C.UTF-8 loads 13 locale files before it reads the start pipe (~0.5 ms of
  // its start-up, on a start's critical path); conmon and runc handle bytes, not text.
  const env = { ...process.env, LC_ALL: 'C', _OCI_SYNCPIPE: '3', ...(o.attach ? { _OCI_ATTACHPIPE: '4', _OCI_STARTPIPE: '5' } : { _OCI_STARTPIPE: '4' }) };
  let spawned: { pid: number; pipes: Duplex[] };
  try {
    spawned = await spawnDetachedWithPipes(runc.conmon, conmonArgs(runc, o), { env, cwd: o.bundle, stdio: ['ignore', 'ignore', errFile.fd], pipes: o.attach ? 3 : 2 });
  } finally {
    // The child holds its own copy of the descriptor now.
    await errFile.close();
  }
  const [sync, attachPipe, startPipe] = o.attach ? (spawned.pipes as [Duplex, Duplex, Duplex]) : [spawned.pipes[0]!, undefined, spawned.pipes[1]!];
  // A conmon that died early shows in what the sync pipe says (or does not); a write to its
  // start pipe failing then is no news.
  startPipe.on('error', () => undefined);
  const close = () => {
    for (const p of spawned.pipes) p.destroy();
  };
  const kill = async () => {
    await killConmon(spawned.pid);
    close();
  };
  let ran = false;
  return {
    async abandon() {
      // Once it runs, conmon is the container's monitor and goes with the container.
      if (!ran) await kill();
    },
    async run(aborted = o.signal) {
      ran = true;
      const signal = AbortSignal.any([AbortSignal.timeout(CREATE_TIMEOUT_MS), ...(aborted ? [aborted] : [])]);
      let msg: SyncMessage;
      try {
        startPipe.write('0');
        if (o.attach && attachPipe) {
          const ready = await readSyncMessage(attachPipe, signal);
          if (ready.data < 0) throw new BerthError('internal', runcFailureMessage(ready.message ?? '', await readFile(errPath, 'utf8').catch(() => '')));
          o.attach.connect();
          startPipe.write('1');
        }
        msg = await readSyncMessage(sync, signal);
      } catch (err) {
        await kill();
        if (!o.execProcessSpec) await runc.delete(o.id, { force: true }).catch(() => undefined);
        throw err;
      } finally {
        close();
      }
      if (msg.data < 0) {
        const conmonErr = await readFile(errPath, 'utf8').catch(() => '');
        throw new BerthError('internal', runcFailureMessage(msg.message ?? '', conmonErr));
      }
      // With --sync the process we started is the monitor (it writes no conmon pidfile then).
      return { pid: msg.data, conmonPid: spawned.pid };
    },
  };
}

/**
 * Starts conmon, which runs `runc create`; resolves once the container exists (status
 * "created") with its pid. On failure the error carries runc's message.
 */
export async function startConmon(runc: RuncRuntime, o: ConmonStartOptions): Promise<ConmonStarted> {
  return (await spawnConmon(runc, o)).run();
}

/** Keeps the useful part of runc's error text (the last `msg=` or the whole line). */
export function runcFailureMessage(syncMessage: string, stderr: string): string {
  const text = (syncMessage || stderr).trim();
  const msgs = [...text.matchAll(/msg="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\"/g, '"'));
  const best = msgs.length ? msgs[msgs.length - 1]! : text;
  return `OCI runtime create failed: ${best || 'runc create failed'}`;
}

/** Kills a conmon berthd started: with --sync that process is the monitor itself (no fork to look up). */
async function killConmon(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone: nothing to clean up.
    return;
  }
  // Gone before the caller goes on (a failed start answers only then): a loaded host can take a while.
  await waitForEnd(pid, KILL_WAIT_MS);
}

/** Reads conmon's exit file: the container's exit status, or undefined while it runs. */
export async function readExitFile(exitDir: string, id: string): Promise<{ exitCode: number; at: Date } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(join(exitDir, id), 'r');
  } catch {
    // No exit file yet: the container has not exited.
    return undefined;
  }
  try {
    // One open for both: the code, and the time conmon wrote it (the exit time).
    const [text, st] = await Promise.all([fh.readFile('utf8'), fh.stat()]);
    const n = Number(text.trim());
    return { exitCode: Number.isFinite(n) ? n : 255, at: st.mtime };
  } finally {
    await fh.close();
  }
}

/** Asks conmon to resize the container's TTY (the `ctl` fifo in the bundle). */
export async function resizeTerminal(bundle: string, height: number, width: number): Promise<void> {
  // Non-blocking: with conmon gone, opening a fifo without a reader would hang forever.
  const fh = await open(join(bundle, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    await fh.write(`1 ${height} ${width}\n`);
  } finally {
    await fh.close();
  }
}
