// Docker's multiplexed stdio framing (non-TTY attach, logs, exec): an 8-byte header —
// stream (0 stdin, 1 stdout, 2 stderr), three zero bytes, a big-endian uint32 length —
// then the payload. A TTY stream is raw and is not framed.
import { BerthError } from '../util/index.js';

export type StdStream = 0 | 1 | 2;

export interface StdioFrame {
  stream: StdStream;
  data: Buffer;
}

/**
 * Splits a framed stream into frames; a stream cut inside a frame is an error. The chunks of
 * a frame are joined once it is complete (never re-copied per chunk), and a frame that lies
 * inside one chunk is a view of it.
 */
export async function* demultiplex(source: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<StdioFrame> {
  // Bytes not yet taken: `head` plus `parts` (in order), `held` of them in all.
  let head: Buffer = Buffer.alloc(0);
  let parts: Buffer[] = [];
  let held = 0;
  const take = (n: number): Buffer => {
    if (parts.length) {
      head = Buffer.concat([head, ...parts], held);
      parts = [];
    }
    const out = head.subarray(0, n);
    head = head.subarray(n);
    held -= n;
    return out;
  };
  for await (const chunk of source) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (head.length === 0 && parts.length === 0) head = b;
    else parts.push(b);
    held += b.length;
    for (;;) {
      if (held < 8) break;
      if (head.length < 8) take(0);
      const stream = head[0]!;
      if (stream > 2) throw new BerthError('internal', `read a multiplexed stream: invalid stream id ${stream}`);
      const len = head.readUInt32BE(4);
      if (held < 8 + len) break;
      take(8);
      yield { stream: stream as StdStream, data: take(len) };
    }
  }
  if (held) throw new BerthError('internal', `read a multiplexed stream: truncated frame (${held} bytes left)`);
}

/** One frame, as the daemon writes it (tests and fakes). */
export function frame(stream: StdStream, data: Buffer | string): Buffer {
  const payload = Buffer.from(data);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
