// Docker's multiplexed stdio framing (non-TTY attach, logs, exec): an 8-byte header —
// stream (0 stdin, 1 stdout, 2 stderr), three zero bytes, a big-endian uint32 length —
// then the payload. A TTY stream is raw and is not framed.
import { BerthError } from '../util/index.js';

export type StdStream = 0 | 1 | 2;

export interface StdioFrame {
  stream: StdStream;
  data: Buffer;
}

/** Splits a framed stream into frames; a stream cut inside a frame is an error. */
export async function* demultiplex(source: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<StdioFrame> {
  let buf = Buffer.alloc(0);
  for await (const chunk of source) {
    buf = buf.length ? Buffer.concat([buf, Buffer.from(chunk)]) : Buffer.from(chunk);
    while (buf.length >= 8) {
      const stream = buf[0]!;
      if (stream > 2) throw new BerthError('internal', `read a multiplexed stream: invalid stream id ${stream}`);
      const len = buf.readUInt32BE(4);
      if (buf.length < 8 + len) break;
      yield { stream: stream as StdStream, data: buf.subarray(8, 8 + len) };
      buf = buf.subarray(8 + len);
    }
  }
  if (buf.length) throw new BerthError('internal', `read a multiplexed stream: truncated frame (${buf.length} bytes left)`);
}

/** One frame, as the daemon writes it (tests and fakes). */
export function frame(stream: StdStream, data: Buffer | string): Buffer {
  const payload = Buffer.from(data);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
