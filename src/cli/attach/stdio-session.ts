// The terminal side of a hijacked attach/exec connection, as the docker CLI drives it:
// output is written raw (TTY) or demultiplexed into our stdout/stderr; stdin is forwarded
// (in raw mode when it is a terminal and the container has a TTY) and its end is sent as a
// half-close, so `echo x | berth run -i …` sees EOF; the terminal size follows SIGWINCH.
import { finished, type Duplex, type Readable, type Writable } from 'node:stream';
import { demultiplex, type HijackedConnection } from '../../client/index.js';
import { run } from '../../util/index.js';

const STTY_TIMEOUT_MS = 2_000;

export interface StdioSessionOptions {
  conn: HijackedConnection;
  tty: boolean;
  /** Forward this stream to the container (undefined: stdin is not attached). */
  stdin?: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable;
  stderr: Writable;
  /** Called with the terminal size at start and on every SIGWINCH (TTY sessions only). */
  resize?: (rows: number, cols: number) => Promise<void>;
  /** Bytes that detach from the session without stopping the container (TTY stdin only). */
  detachKeys?: Buffer;
}

/** docker's default `ctrl-p,ctrl-q`; `ctrl-<x>`, single characters, comma separated. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^ctrl-(.)$/i.exec(part);
    if (m) {
      const c = m[1]!.toLowerCase();
      const code = c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : ({ '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 } as Record<string, number>)[c];
      if (code === undefined) throw new Error(`invalid detach keys: ${spec}`);
      out.push(code);
    } else if (part.length === 1) out.push(part.charCodeAt(0));
    else throw new Error(`invalid detach keys: ${spec}`);
  }
  return Buffer.from(out);
}

/**
 * `head`, then the socket's bytes until its end. What `for await (const c of socket)` does
 * (node's createAsyncIterator: end-of-stream decides the end or the error, a destroyed socket
 * yields nothing more, the socket is destroyed when the reading stops), read from 'data'
 * events: the stream async iterator's first use is ~1 ms of CPU of every `berth run`.
 */
async function* withHead(head: Buffer, socket: Duplex): AsyncGenerator<Buffer> {
  if (head.length) yield head;
  const chunks: Buffer[] = [];
  // undefined while open, null once ended, the error it failed with.
  let outcome: Error | null | undefined;
  let wake = () => {};
  const onData = (c: Buffer) => {
    chunks.push(c);
    // Read on only when the reader has taken what came (backpressure, as read() on demand).
    socket.pause();
    wake();
  };
  socket.on('data', onData);
  const stopWatching = finished(socket, { writable: false }, (err) => {
    outcome = err ?? null;
    wake();
  });
  try {
    for (;;) {
      const c = socket.destroyed ? undefined : chunks.shift();
      if (c) {
        yield c;
        continue;
      }
      if (outcome) throw outcome;
      if (outcome === null) return;
      const next = new Promise<void>((r) => (wake = r));
      socket.resume();
      await next;
      wake = () => {};
    }
  } finally {
    stopWatching();
    socket.off('data', onData);
    socket.destroy();
  }
}

/** Writes a chunk, waiting for `drain` when the destination is full. */
export function writeChunk(out: NodeJS.WritableStream, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (out.write(data)) resolve();
    else out.once('drain', resolve);
  });
}

export interface SessionResult {
  /** The user typed the detach keys: the container keeps running. */
  detached: boolean;
}

/**
 * Node's raw mode keeps output post-processing (libuv leaves OPOST/ONLCR on), so the
 * container's own `\r\n` would reach the screen as `\r\r\n`. docker's raw mode clears OPOST;
 * so does this, on the device our stdin is (stty needs no controlling terminal with -F).
 * Failing to do so only costs the cosmetic difference.
 */
async function disableOutputProcessing(): Promise<void> {
  // node:fs/promises is loaded here, not with the module: it brings node:readline, ~1 ms of
  // every `berth run` otherwise (the hot-run bundle holds this module).
  const { readlink } = await import('node:fs/promises');
  const dev = await readlink('/proc/self/fd/0').catch(() => undefined);
  if (!dev?.startsWith('/dev/')) return;
  await run('stty', ['-F', dev, '-opost'], { timeoutMs: STTY_TIMEOUT_MS }).catch(() => undefined);
}

/** Runs the session until the daemon ends the output (the process exited) or the user detaches. */
export async function runStdioSession(opts: StdioSessionOptions): Promise<SessionResult> {
  const { socket, head } = opts.conn;
  let detached = false;
  const cleanups: (() => void)[] = [];
  // A reset connection ends the output loop below, which reports it; no second report here.
  socket.on('error', () => undefined);

  if (opts.tty && opts.resize) {
    const term = opts.stdout as Writable & { rows?: number; columns?: number; isTTY?: boolean };
    const sendSize = () => {
      // A resize racing the container's exit fails harmlessly.
      if (term.isTTY && term.rows && term.columns) opts.resize!(term.rows, term.columns).catch(() => undefined);
    };
    sendSize();
    process.on('SIGWINCH', sendSize);
    cleanups.push(() => process.off('SIGWINCH', sendSize));
  }

  const stdin = opts.stdin;
  if (stdin) {
    const raw = opts.tty && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
    if (raw) {
      stdin.setRawMode!(true);
      // Leaving raw mode restores the terminal as it was, OPOST included.
      cleanups.push(() => stdin.setRawMode!(false));
      await disableOutputProcessing();
    }
    const keys = raw ? (opts.detachKeys ?? Buffer.from([16, 17])) : undefined;
    let matched = 0;
    const onData = (chunk: Buffer) => {
      if (keys) {
        for (const byte of chunk) {
          matched = byte === keys[matched] ? matched + 1 : byte === keys[0] ? 1 : 0;
          if (matched === keys.length) {
            detached = true;
            socket.destroy();
            return;
          }
        }
      }
      if (!socket.write(chunk)) {
        stdin.pause();
        socket.once('drain', () => stdin.resume());
      }
    };
    // The end of our input is the container's EOF: half-close, keep reading its output.
    const onEnd = () => {
      if (!socket.destroyed) socket.end();
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    cleanups.push(() => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    });
    stdin.resume();
  }

  try {
    const source = withHead(head, socket);
    if (opts.tty) {
      for await (const chunk of source) await writeChunk(opts.stdout, chunk);
    } else {
      for await (const f of demultiplex(source)) await writeChunk(f.stream === 2 ? opts.stderr : opts.stdout, f.data);
    }
  } catch (err) {
    // A destroyed socket after the detach keys is how the session ends, not a failure.
    if (!detached) throw err;
  } finally {
    for (const c of cleanups.reverse()) c();
  }
  return { detached };
}

const BOOL_WORDS = ['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False', 'T', 'F'];

/** `--sig-proxy` is on unless given as false. */
export function isSigProxy(v: unknown): boolean {
  return v !== false && !['false', '0', 'f', 'F', 'FALSE', 'False'].includes(String(v));
}

/**
 * A docker bool flag written bare (`--sig-proxy IMAGE`) lets commander's optional value take
 * the next word; a value that is not a bool was really the first positional argument.
 */
export function reclaimBoolValue(value: unknown, args: string[]): string[] {
  return typeof value === 'string' && !BOOL_WORDS.includes(value) ? [value, ...args] : args;
}

/** Forwards the signals a user sends us to the container (docker's --sig-proxy). */
export function proxySignals(kill: (signal: string) => Promise<void>): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const handlers = signals.map((s) => {
    const h = () => {
      // The container may already be gone; the session's end reports its status.
      kill(s).catch(() => undefined);
    };
    process.on(s, h);
    return [s, h] as const;
  });
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}

export interface TerminalSessionOptions {
  conn: HijackedConnection;
  tty: boolean;
  /** Forward our stdin. */
  withStdin: boolean;
  stdout: Writable;
  stderr: Writable;
  resize: (rows: number, cols: number) => Promise<void>;
  /** `--detach-keys` as typed (docker notation), or undefined for the default. */
  detachKeys: string | undefined;
  /** Forward our signals with this kill (docker's --sig-proxy; never for a TTY). */
  kill?: (signal: string) => Promise<void>;
}

/** A session on our own terminal/stdio: what run, start -a, attach and exec share. */
export async function runTerminalSession(opts: TerminalSessionOptions): Promise<SessionResult> {
  const stopProxy = opts.kill && !opts.tty ? proxySignals(opts.kill) : () => undefined;
  try {
    return await runStdioSession({
      conn: opts.conn,
      tty: opts.tty,
      stdin: opts.withStdin ? process.stdin : undefined,
      // Read when first written to: process.stdout is made on first use, and a container that
      // prints nothing never needs it (main.ts).
      get stdout() {
        return opts.stdout;
      },
      get stderr() {
        return opts.stderr;
      },
      resize: opts.resize,
      detachKeys: opts.detachKeys ? parseDetachKeys(opts.detachKeys) : undefined,
    });
  } finally {
    stopProxy();
  }
}
