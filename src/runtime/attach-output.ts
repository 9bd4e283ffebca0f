// Live output for attach, read from conmon's attach socket.
//
// conmon (2.1.6, src/ctr_stdio.c + conn_sock.c) copies every chunk it reads from the
// container's stdout/stderr (at most 8192 bytes) first to the log, then to each connected
// attach socket as one SOCK_SEQPACKET packet: one byte naming the pipe (its stdpipe_t: 2
// stdout, 3 stderr; everything is stdout with a TTY) followed by the bytes. The accepted
// sockets are blocking: a reader that stops reading stops conmon (and with it the container's
// output), it never drops. We read eagerly and let AttachQueue absorb a slow client, so the container does not
// wait for it and nothing is lost, even when conmon replaces the log (`--log-size-max`) many
// times during a burst. When conmon exits (after the container, having drained its pipes)
// the socket ends: that is the end of the attach.
//
// Seams with the log:
// - a container that is not running yet (docker run, start -a): the socket is connected in
//   the same microtask turn as its start is announced (Container.nextStart), before the
//   process is let go (runc's exec.fifo), and conmon registered its attach socket before the
//   container's pipes, so it accepts us before it reads the first byte. With `logs`, the
//   log as it was (earlier runs) is replayed first: nothing of the new run is in it.
// - a running container without `logs`: output from the moment of the attach.
// - a running container with `logs` (history, then live): the log is the only source with a
//   defined position, so that case follows the log as before (see docs/runtime.md).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errorMessage } from '../util/index.js';
import { AttachQueue } from './attach-queue.js';
import { connectableSocketPath, loadSeqpacket } from './attach-socket.js';
import { openLog, type LogRecord } from './logs.js';

/** conmon's stdpipe_t (src/utils.h): NO_PIPE 0, STDIN_PIPE 1, STDOUT_PIPE 2, STDERR_PIPE 3. */
const CONMON_STDERR_PIPE = 3;
/** conmon's packets are at most 8193 bytes; room for a bigger STDIO_BUF_SIZE. */
const READ_BUFFER_BYTES = 64 * 1024;

/** What attach needs of a container (the runtime's Container record has all of it). */
export interface AttachTarget {
  readonly id: string;
  /** The container's directory (the spool for a slow client goes there). */
  readonly dir: string;
  /** Where conmon writes the exit file `<exitDir>/<id>` of a run. */
  readonly exitDir: string;
  readonly logPath: string;
  readonly isRunning: boolean;
  readonly nextStart: { readonly promise: Promise<void> };
  readonly nextExit: { readonly promise: Promise<unknown> };
  readonly removed: { readonly promise: Promise<unknown> };
  readonly config: { readonly spec: { readonly tty: boolean; readonly openStdin: boolean; readonly stdinOnce: boolean } };
}

export interface AttachOutputOptions {
  /** Replay the log first. */
  logs: boolean;
  /** Go on with live output (until the container's run ends). */
  stream: boolean;
  /** This attach also carries the container's stdin (its own socket, see attach.ts). */
  withStdin?: boolean;
  /** Ends the output (client gone, detach keys). */
  signal?: AbortSignal;
}

type SeqpacketModule = Awaited<ReturnType<typeof loadSeqpacket>>;

/**
 * Output for `attach`: the record stream to send to the client. See the top of this file for
 * where each part comes from. Resources are held from now on (the socket is connected or armed
 * to connect at the next start); `return()` releases them even before the first read.
 */
export async function openAttachOutput(c: AttachTarget, socketDir: string, opts: AttachOutputOptions): Promise<AsyncGenerator<LogRecord>> {
  const { signal } = opts;
  if (!opts.stream) return openLog(c.logPath, { follow: false, fromEnd: !opts.logs, signal });
  const spec = c.config.spec;
  // Closing an attach socket makes conmon close the container's stdin when it was created with
  // StdinOnce (no --leave-stdin-open): an output-only attach must not do that behind the
  // back of the client that owns the stdin, so it reads the log instead.
  const closingShutsStdin = spec.openStdin && spec.stdinOnce && !spec.tty && !opts.withStdin;
  if (closingShutsStdin || (c.isRunning && opts.logs)) {
    return openLog(c.logPath, { follow: true, fromEnd: !opts.logs, done: c.nextExit.promise, signal });
  }
  const [mod, path] = await Promise.all([loadSeqpacket(), connectableSocketPath(socketDir, c.id)]);
  const queue = new AttachQueue(c.dir);
  const live = c.isRunning ? connectNow(mod, path, queue) : connectAtNextStart(mod, path, c, queue, signal);
  let replay: AsyncGenerator<LogRecord> | undefined;
  try {
    if (opts.logs) {
      // Only what is in the log now: the coming run's output arrives through the socket.
      const until = BigInt(Date.now()) * 1_000_000n;
      replay = await openLog(c.logPath, { follow: false, until, signal });
    }
  } catch (err) {
    live.close();
    await queue.close();
    throw err;
  }
  return releasingUnstarted(liveRecords(replay, queue, live, signal), async () => {
    live.close();
    await replay?.return(undefined);
    await queue.close();
  });
}

/** An exec session's output, read from its conmon's socket (see prepareSessionOutput). */
export interface SessionOutput {
  /** Connects to the socket: call it once conmon reports the socket ready, before the process runs. */
  connect(): void;
  /** The session's output until conmon exits; `return()` releases everything, read or not. */
  records: AsyncGenerator<LogRecord>;
}

/**
 * The output of an exec session run by `conmon --exec-attach`, which holds the process back
 * until we are connected, so nothing of it is missed and nothing goes to a log file. Made
 * before conmon starts: naming the socket may need the socket dir held open.
 */
export async function prepareSessionOutput(socketDir: string, session: string, spoolDir: string, signal?: AbortSignal): Promise<SessionOutput> {
  const [mod, path] = await Promise.all([loadSeqpacket(), connectableSocketPath(socketDir, session)]);
  const queue = new AttachQueue(spoolDir);
  let current: LiveSocket | undefined;
  const live: LiveSocket = { close: () => current?.close() };
  return {
    connect: () => {
      current ??= connectNow(mod, path, queue);
    },
    records: releasingUnstarted(liveRecords(undefined, queue, live, signal), async () => {
      live.close();
      await queue.close();
    }),
  };
}

interface LiveSocket {
  close(): void;
}

/**
 * Connects to conmon's socket; undefined when nobody listens there (conmon has exited, or not
 * started yet). The kernel connects a unix socket synchronously: conmon accepts the connection
 * in its own time, but before it reads any more of the container's pipes.
 */
function tryConnect(mod: SeqpacketModule, path: string, queue: AttachQueue): LiveSocket | undefined {
  const sock = new mod.SeqpacketSocket();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    sock.destroy();
  };
  sock.setInternalReadBufferSize(READ_BUFFER_BYTES);
  sock.on('data', (packet: Buffer) => {
    // A packet with nothing after the pipe byte carries no output.
    if (packet.length < 2) return;
    queue.push({ stream: packet[0] === CONMON_STDERR_PIPE ? 'stderr' : 'stdout', data: packet.subarray(1) });
  });
  // conmon closes its end when it exits, after the container and its last output.
  const ended = () => {
    queue.end();
    close();
  };
  sock.on('end', ended);
  sock.on('error', ended);
  try {
    sock.connect(path);
  } catch {
    // No socket there, or nobody listening on it: no run to attach to at the moment.
    close();
    return undefined;
  }
  return { close };
}

/** A running container: connect now; a conmon already gone means its output is over. */
function connectNow(mod: SeqpacketModule, path: string, queue: AttachQueue): LiveSocket {
  const live = tryConnect(mod, path, queue);
  if (!live) queue.end();
  return live ?? { close: () => undefined };
}

/**
 * A container that is not running: connect at its next start (or end at its removal or the
 * signal). The connect happens inside the nextStart reaction itself, with no await before it:
 * the starter announces the start before it lets the process run, and a reaction queued by
 * that announcement runs before the starter's own next step.
 *
 * A start already under way (announced, state not yet "running") is found by connecting at
 * once — but only when the container has no exit file: with one, whoever answers on the socket
 * is the previous run's conmon finishing, and the attach is for the next run.
 */
function connectAtNextStart(mod: SeqpacketModule, path: string, c: AttachTarget, queue: AttachQueue, signal?: AbortSignal): LiveSocket {
  let current: LiveSocket | undefined;
  let over = false;
  const onAbort = () => {
    over = true;
    queue.end();
    current?.close();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  c.nextStart.promise.then(
    () => {
      if (!over && !current) current = connectNow(mod, path, queue);
    },
    () => undefined,
  );
  c.removed.promise.then(
    () => {
      if (!current) onAbort();
    },
    () => undefined,
  );
  void stat(join(c.exitDir, c.id)).then(
    () => undefined,
    () => {
      // No exit file: never run, or a start is under way.
      if (!over && !current) current = tryConnect(mod, path, queue);
    },
  );
  return {
    close: () => {
      over = true;
      signal?.removeEventListener('abort', onAbort);
      current?.close();
    },
  };
}

async function* liveRecords(replay: AsyncGenerator<LogRecord> | undefined, queue: AttachQueue, live: LiveSocket, signal?: AbortSignal): AsyncGenerator<LogRecord> {
  const onAbort = () => {
    live.close();
    void queue.close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (replay) yield* replay;
    for (;;) {
      let chunk;
      try {
        chunk = await queue.next();
      } catch (err) {
        throw new BerthError('internal', `attach output failed: ${errorMessage(err)}`, { cause: err });
      }
      if (!chunk) return;
      yield { stream: chunk.stream, data: chunk.data, time: new Date().toISOString() };
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    live.close();
    await replay?.return(undefined);
    await queue.close();
  }
}

/**
 * `return()` on a generator that never started skips its `finally`; this one then releases
 * the socket and the queue anyway (the route gives up before reading when hijacking fails).
 */
function releasingUnstarted(gen: AsyncGenerator<LogRecord>, release: () => Promise<void>): AsyncGenerator<LogRecord> {
  let started = false;
  const unstarted = async () => {
    if (started) return;
    started = true;
    await release();
  };
  return {
    next: (...args) => {
      started = true;
      return gen.next(...args);
    },
    return: async (value) => {
      await unstarted();
      return gen.return(value);
    },
    throw: async (err) => {
      await unstarted();
      return gen.throw(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
