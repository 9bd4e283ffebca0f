// Engine API stream formats, here and nowhere else (STYLE.md §7):
//  - progress streams: one JSON object per line from a single serialized writer, an in-band
//    error as the last line;
//  - non-TTY attach/logs/exec: multiplexed frames (8-byte header: stream, 3 zero bytes,
//    big-endian payload length); TTY: raw bytes;
//  - hijack: `101 UPGRADED` with `Upgrade: tcp` when the client asked for it, else 200.
import { Writable, type Duplex } from 'node:stream';
import { apiVersionAtLeast } from './api-version.js';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

/** Content type of an attach/logs/exec stream; API ≥ 1.42 names the multiplexed form. */
export function streamContentType(apiVersion: string, multiplexed: boolean): string {
  return multiplexed && apiVersionAtLeast(apiVersion, '1.42') ? MULTIPLEXED_STREAM : RAW_STREAM;
}

async function writeRespectingBackpressure(out: Writable, chunk: string | Uint8Array): Promise<void> {
  if (out.destroyed || out.writableEnded) return;
  if (!out.write(chunk)) await writableAgain(out);
}

/**
 * Resolves on 'drain', or when the client went away ('close'/'error'): a reader that hangs up
 * mid-stream (`docker logs | head -1`) ends the stream for the producer, it is not a daemon
 * error, and later writes see a destroyed socket and are dropped.
 */
function writableAgain(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
  });
}

/**
 * Writes one JSON object per line. Calls are applied in call order (each `write` is
 * queued synchronously), so concurrent producers cannot interleave partial lines.
 */
export class JsonLineWriter {
  private ended = false;
  constructor(private readonly out: Writable) {}

  get isEnded(): boolean {
    return this.ended || this.out.destroyed;
  }

  write(value: unknown): Promise<void> {
    if (this.isEnded) return Promise.resolve();
    return writeRespectingBackpressure(this.out, JSON.stringify(value) + '\n');
  }

  /** Writes one already serialized JSON line (without the newline). */
  writeSerialized(json: string): Promise<void> {
    if (this.isEnded) return Promise.resolve();
    return writeRespectingBackpressure(this.out, json + '\n');
  }

  /** Docker's in-band error: the last line of the stream, after which it ends. */
  async error(message: string): Promise<void> {
    if (this.isEnded) return;
    await this.write({ errorDetail: { message }, error: message });
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.out.destroyed) this.out.end();
  }
}

export type StdStreamId = 0 | 1 | 2;

/** The 8-byte frame header of a multiplexed stream. */
export function muxHeader(stream: StdStreamId, length: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(length, 4);
  return h;
}

/** Largest payload per frame: few large frames cost fewer writes (clients buffer one frame at most). */
const MAX_FRAME = 1 << 20;

/** stdout/stderr writers over one connection: framed when multiplexed, raw for a TTY. */
export interface StdioWriter {
  stdout: Writable;
  stderr: Writable;
  /** Ends the underlying connection once pending frames are written. */
  end(): void;
}

/** Header and payload written back to back, corked into one writev: no copy of the payload. */
function writeFrame(out: Writable, stream: StdStreamId, part: Buffer): boolean {
  out.cork();
  out.write(muxHeader(stream, part.length));
  const ok = out.write(part);
  out.uncork();
  return ok;
}

function frameWriter(out: Writable, stream: StdStreamId, multiplexed: boolean): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const send = async () => {
        if (!multiplexed) return writeRespectingBackpressure(out, chunk);
        for (let off = 0; off < chunk.length; off += MAX_FRAME) {
          if (out.destroyed || out.writableEnded) return;
          // Synchronous from header to payload, so frames of two streams never interleave.
          if (!writeFrame(out, stream, chunk.subarray(off, Math.min(off + MAX_FRAME, chunk.length)))) await writableAgain(out);
        }
      };
      send().then(() => cb(), cb);
    },
  });
}

export function stdioWriter(out: Writable, opts: { multiplexed: boolean }): StdioWriter {
  return {
    stdout: frameWriter(out, 1, opts.multiplexed),
    stderr: frameWriter(out, 2, opts.multiplexed),
    end: () => {
      if (!out.destroyed && !out.writableEnded) out.end();
    },
  };
}

export interface MuxFrame {
  stream: StdStreamId;
  payload: Buffer;
}

/** Splits a complete multiplexed buffer into frames (tests and clients). */
export function parseMuxFrames(buf: Buffer): { frames: MuxFrame[]; rest: Buffer } {
  const frames: MuxFrame[] = [];
  let off = 0;
  while (buf.length - off >= 8) {
    const len = buf.readUInt32BE(off + 4);
    if (buf.length - off - 8 < len) break;
    frames.push({ stream: buf[off] as StdStreamId, payload: buf.subarray(off + 8, off + 8 + len) });
    off += 8 + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/** The raw status line and headers a hijacked connection starts with. */
export function hijackResponseHead(opts: {
  upgrade: boolean;
  contentType: string;
  extraHeaders: Record<string, string>;
}): string {
  const lines = opts.upgrade
    ? ['HTTP/1.1 101 UPGRADED', `Content-Type: ${opts.contentType}`, 'Connection: Upgrade', 'Upgrade: tcp']
    : ['HTTP/1.1 200 OK', `Content-Type: ${opts.contentType}`, 'Connection: close'];
  for (const [k, v] of Object.entries(opts.extraHeaders)) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** A hijacked connection: read stdin from `conn`, write output through `output`. */
export interface HijackedConnection {
  /** The raw connection (stdin arrives here; writes go straight to the client). */
  conn: Duplex;
  /** stdout/stderr framed for non-TTY, raw for TTY. */
  output: StdioWriter;
  /** Closes the connection (flushes first). */
  close(): void;
}
