// stdin for attach and exec: conmon reads it from its attach socket, a SOCK_SEQPACKET
// unix socket (`<socket-dir>/<session>/attach`, see attach-socket.ts). Node's net module
// cannot open that socket type, hence node-unix-socket (loaded lazily, on the first attach).
import type { Readable } from 'node:stream';
import { BerthError, errorMessage } from '../util/index.js';
import { connectableSocketPath, loadSeqpacket } from './attach-socket.js';

/** conmon's read buffer for one attach packet (STDIO_BUF_SIZE). */
const PACKET = 8192;
const CONNECT_TIMEOUT_MS = 5_000;

export interface StdinForwarder {
  /** How the input ended: its end (EOF passed on), the detach keys, or the socket closing. */
  done: Promise<'eof' | 'detached' | 'closed'>;
  close(): void;
}

/** Docker's `--detach-keys` syntax ("ctrl-p,ctrl-q", "a,ctrl-@") as bytes. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const key of spec.split(',').map((k) => k.trim()).filter(Boolean)) {
    const m = /^ctrl-(.)$/i.exec(key);
    if (m) {
      const ch = m[1]!.toLowerCase();
      const code = ch === '@' ? 0 : ch === '[' ? 27 : ch === '\\' ? 28 : ch === ']' ? 29 : ch === '^' ? 30 : ch === '_' ? 31 : ch.charCodeAt(0) - 96;
      if (code < 0 || code > 31) throw new BerthError('invalid-argument', `Unknown character: '${key}'`);
      out.push(code);
    } else if (key.length === 1) {
      out.push(key.charCodeAt(0));
    } else {
      throw new BerthError('invalid-argument', `Unknown character: '${key}'`);
    }
  }
  return Buffer.from(out);
}

export const DEFAULT_DETACH_KEYS = Buffer.from([16, 17]); // ctrl-p, ctrl-q

export async function forwardStdin(socketDir: string, session: string, input: Readable, opts: { detachKeys?: Buffer } = {}): Promise<StdinForwarder> {
  const [{ SeqpacketSocket }, path] = await Promise.all([loadSeqpacket(), connectableSocketPath(socketDir, session)]);
  const sock = new SeqpacketSocket();
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
  // conmon copies the container's output to every attach socket and blocks while one is not
  // read: this one is drained and its copy dropped (attach-output.ts has its own socket).
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
  const keys = opts.detachKeys && opts.detachKeys.length ? opts.detachKeys : undefined;
  let matched = 0;
  const done = new Promise<'eof' | 'detached' | 'closed'>((resolve) => {
    let writing = Promise.resolve();
    let over = false;
    const stop = () => {
      over = true;
      input.off('data', onData);
    };
    const finish = () => {
      if (over) return;
      stop();
      void writing.then(() => {
        if (closed) return resolve('closed');
        sock.end(() => resolve('eof'));
      });
    };
    const onData = (chunk: Buffer) => {
      if (closed || over) return;
      let data = chunk;
      if (keys) {
        // A prefix of the detach sequence is held back (it may span chunks) and passed on
        // only when the next byte shows it was not the sequence.
        const out: number[] = [];
        let detached = false;
        for (const b of chunk) {
          if (b === keys[matched]) {
            matched++;
            if (matched === keys.length) {
              detached = true;
              break;
            }
            continue;
          }
          out.push(...keys.subarray(0, matched));
          matched = b === keys[0] ? 1 : 0;
          if (matched === 0) out.push(b);
        }
        data = Buffer.from(out);
        if (detached) {
          stop();
          const last = data;
          writing = writing.then(async () => {
            if (last.length && !closed) await new Promise<void>((r) => sock.write(last, 0, last.length, r));
          });
          void writing.then(() => resolve('detached'));
          return;
        }
      }
      if (data.length === 0) return;
      input.pause();
      writing = writing.then(async () => {
        for (let off = 0; off < data.length && !closed; off += PACKET) {
          const part = Buffer.from(data.subarray(off, Math.min(off + PACKET, data.length)));
          await new Promise<void>((r) => sock.write(part, 0, part.length, r));
        }
        if (!over) input.resume();
      });
    };
    input.on('data', onData);
    input.once('end', finish);
    // A client that goes away mid-stream ends its input.
    input.once('close', finish);
    input.once('error', finish);
    // The client may have sent its input and half-closed before conmon's socket was connected:
    // then 'end' has already been emitted and will not come again.
    if (input.readableEnded || input.destroyed) finish();
    else input.resume();
  });
  return {
    done: Promise.race([done, closedP.then(() => 'closed' as const)]),
    close: () => {
      if (!closed) sock.destroy();
    },
  };
}
