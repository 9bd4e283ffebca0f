// stdin for attach and exec: conmon reads it from its attach socket, a SOCK_SEQPACKET
// unix socket (`<socket-dir>/<session>/attach`). Node's net module cannot open that
// socket type, hence node-unix-socket (loaded lazily, only when stdin is attached).
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, errorMessage } from '../util/index.js';

/** conmon's read buffer for one attach packet (STDIO_BUF_SIZE). */
const PACKET = 8192;
const CONNECT_TIMEOUT_MS = 5_000;

export interface StdinForwarder {
  /** Resolves when the input ended and was handed over (or the socket closed). */
  done: Promise<void>;
  close(): void;
}

/**
 * Connects to the attach socket of `session` (container or exec id) and copies `input`
 * into it. When the input ends, the socket is half-closed: conmon then closes the
 * container's stdin unless it was started with --leave-stdin-open.
 */
export async function forwardStdin(socketDir: string, session: string, input: Readable): Promise<StdinForwarder> {
  const { SeqpacketSocket } = await import('node-unix-socket');
  const sock = new SeqpacketSocket();
  const path = join(socketDir, session, 'attach');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BerthError('unavailable', `cannot attach to stdin of ${session.slice(0, 12)}: conmon did not answer`)), CONNECT_TIMEOUT_MS);
    sock.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(new BerthError('internal', `cannot attach to stdin of ${session.slice(0, 12)}: ${errorMessage(err)}`, { cause: err }));
    });
    try {
      sock.connect(path, () => {
        clearTimeout(timer);
        resolve();
      });
    } catch (err) {
      clearTimeout(timer);
      reject(new BerthError('internal', `cannot attach to stdin of ${session.slice(0, 12)}: ${errorMessage(err)}`, { cause: err }));
    }
  });
  // conmon also copies output to attached sockets; output is read from the log instead.
  sock.on('data', () => undefined);
  let closed = false;
  const closedP = new Promise<void>((resolve) => {
    sock.once('close', () => {
      closed = true;
      resolve();
    });
    sock.on('error', () => resolve());
  });
  // Events rather than `for await`: the async iterator destroys the stream when it ends,
  // and for a hijacked connection that would also close the output direction.
  const done = new Promise<void>((resolve) => {
    let writing = Promise.resolve();
    const finish = () => {
      input.off('data', onData);
      void writing.then(() => {
        if (closed) return resolve();
        sock.end(() => resolve());
      });
    };
    const onData = (chunk: Buffer) => {
      if (closed) return;
      input.pause();
      writing = writing.then(async () => {
        for (let off = 0; off < chunk.length && !closed; off += PACKET) {
          const part = Buffer.from(chunk.subarray(off, Math.min(off + PACKET, chunk.length)));
          await new Promise<void>((r) => sock.write(part, 0, part.length, r));
        }
        input.resume();
      });
    };
    input.on('data', onData);
    input.once('end', finish);
    // A client that goes away mid-stream ends its input.
    input.once('close', finish);
    input.once('error', finish);
    input.resume();
  });
  return {
    done: Promise.race([done, closedP]),
    close: () => {
      if (!closed) sock.destroy();
    },
  };
}
