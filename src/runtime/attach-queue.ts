// The queue between conmon's attach socket and an attached client.
//
// conmon writes every chunk of output to each attach socket with a blocking write, and
// node-unix-socket reads its socket as soon as data arrives (it has no way to stop reading).
// So the client's pace cannot be passed back to conmon: what the client has not taken yet
// waits here. Up to `highWaterBytes` it waits in memory; beyond that, in a spool file on disk
// (the container's directory), read back in order once the client catches up. Nothing is
// dropped and memory stays bounded whatever the burst; the container is never slowed down
// by a slow client.
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogStream } from './logs.js';

/** One piece of output as conmon sent it. */
export interface OutputChunk {
  stream: LogStream;
  data: Buffer;
}

export const ATTACH_HIGH_WATER_BYTES = 1024 * 1024;
/** Consecutive chunks of one stream waiting in memory come out joined, up to this size. */
const JOIN_BYTES = 64 * 1024;

/** A spool frame: 1 byte stream (1 stdout, 2 stderr), 4 bytes big-endian length, the data. */
const FRAME_HEADER = 5;
/** How much of the spool is read back at once (bounded: this is the memory it may take). */
const SPOOL_READ_BYTES = 256 * 1024;

/** Spool files of this process's attaches; any other in a container's directory is a crash's leftover. */
const liveSpools = new Set<string>();
const SPOOL_NAME = /^attach-[0-9a-f]{12}\.spool$/;

/** Removes spool files a killed berthd left beside the one being created. */
async function removeLeftoverSpools(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => SPOOL_NAME.test(n) && !liveSpools.has(join(dir, n))).map((n) => rm(join(dir, n), { force: true })));
}

interface Spool {
  path: string;
  fh: Promise<FileHandle>;
  /** Bytes written to the file so far (readable up to here). */
  written: number;
  /** Bytes read back from the file so far. */
  read: number;
  /** Frames not yet written (the next write takes them all). */
  pending: Buffer[];
  writing: boolean;
  /** Read back from the file, not yet parsed into chunks. */
  carry: Buffer;
}

export class AttachQueue {
  private readonly memory: OutputChunk[] = [];
  private memoryBytes = 0;
  private spool: Spool | undefined;
  /** Spools that were drained and are being closed and removed. */
  private readonly retiring = new Set<Promise<void>>();
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly spoolDir: string,
    private readonly highWaterBytes = ATTACH_HIGH_WATER_BYTES,
  ) {}

  /** Bytes held in memory right now (what the high-water mark bounds). */
  get bufferedBytes(): number {
    return this.memoryBytes + (this.spool ? this.spool.carry.length + this.spool.pending.reduce((n, b) => n + b.length, 0) : 0);
  }

  /** Whether output is currently going to disk. */
  get isSpooling(): boolean {
    return this.spool !== undefined;
  }

  push(chunk: OutputChunk): void {
    if (this.ended || this.closed || chunk.data.length === 0) return;
    if (!this.spool && this.memoryBytes + chunk.data.length <= this.highWaterBytes) {
      this.memory.push(chunk);
      this.memoryBytes += chunk.data.length;
      this.notify();
      return;
    }
    const spool = (this.spool ??= this.openSpool());
    const frame = Buffer.allocUnsafe(FRAME_HEADER + chunk.data.length);
    frame[0] = chunk.stream === 'stderr' ? 2 : 1;
    frame.writeUInt32BE(chunk.data.length, 1);
    chunk.data.copy(frame, FRAME_HEADER);
    spool.pending.push(frame);
    // Held in memory until written: bounded by the disk's pace, not the client's.
    void this.writeSpool(spool);
  }

  /** No more output will come (conmon closed the socket); `err` if that was a failure. */
  end(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    this.notify();
  }

  /** The next chunk in order, or undefined at the end. One consumer at a time. */
  async next(): Promise<OutputChunk | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const m = this.takeMemory();
      if (m) return m;
      const spool = this.spool;
      if (spool) {
        const c = await this.readSpool(spool);
        if (c) return c;
        if (spool.read === spool.written && !spool.writing && spool.pending.length === 0 && spool.carry.length === 0) {
          // Caught up: back to memory; the drained file goes.
          this.spool = undefined;
          this.retire(spool);
          continue;
        }
      } else if (this.ended) {
        if (this.failure) throw this.failure;
        return undefined;
      }
      if (this.failure && !this.ended) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Drops what is queued and removes the spool file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.memory.length = 0;
    this.memoryBytes = 0;
    this.notify();
    const spool = this.spool;
    this.spool = undefined;
    if (spool) this.retire(spool);
    await Promise.all(this.retiring);
  }

  /**
   * The oldest chunk in memory, joined with those after it of the same stream (a reader that
   * fell behind catches up in fewer, larger writes; one record per 8 KiB packet is costly).
   */
  private takeMemory(): OutputChunk | undefined {
    const first = this.memory[0];
    if (!first) return undefined;
    let n = 1;
    let bytes = first.data.length;
    while (n < this.memory.length) {
      const c = this.memory[n]!;
      if (c.stream !== first.stream || bytes + c.data.length > JOIN_BYTES) break;
      bytes += c.data.length;
      n++;
    }
    const taken = this.memory.splice(0, n);
    this.memoryBytes -= bytes;
    return n === 1 ? first : { stream: first.stream, data: Buffer.concat(taken.map((c) => c.data), bytes) };
  }

  private retire(spool: Spool): void {
    // A spool that cannot be removed stays a leftover: the next spool made there removes it.
    const done: Promise<void> = this.removeSpool(spool)
      .catch(() => undefined)
      .finally(() => this.retiring.delete(done));
    this.retiring.add(done);
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private openSpool(): Spool {
    const path = join(this.spoolDir, `attach-${randomBytes(6).toString('hex')}.spool`);
    liveSpools.add(path);
    const fh = removeLeftoverSpools(this.spoolDir).then(() => open(path, 'wx+', 0o600));
    // A failure is reported by the first write or read that awaits it.
    fh.catch(() => undefined);
    return { path, fh, written: 0, read: 0, pending: [], writing: false, carry: Buffer.alloc(0) };
  }

  private async writeSpool(spool: Spool): Promise<void> {
    if (spool.writing) return;
    spool.writing = true;
    try {
      while (spool.pending.length && !this.closed) {
        const data = spool.pending.length === 1 ? spool.pending[0]! : Buffer.concat(spool.pending);
        spool.pending = [];
        const fh = await spool.fh;
        for (let off = 0; off < data.length; ) {
          const { bytesWritten } = await fh.write(data, off, data.length - off, spool.written + off);
          off += bytesWritten;
        }
        spool.written += data.length;
        this.notify();
      }
    } catch (err) {
      // The disk is full or the container's directory went: the attach cannot go on intact.
      this.failure = err instanceof Error ? err : new Error(String(err));
      spool.pending = [];
    } finally {
      spool.writing = false;
      this.notify();
    }
  }

  /** The next whole frame from the spool, reading more of the file when needed. */
  private async readSpool(spool: Spool): Promise<OutputChunk | undefined> {
    for (;;) {
      const c = takeFrame(spool);
      if (c) return c;
      if (spool.read >= spool.written) return undefined;
      const fh = await spool.fh;
      const want = Math.min(SPOOL_READ_BYTES, spool.written - spool.read);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, spool.read);
      if (bytesRead === 0) return undefined;
      spool.read += bytesRead;
      spool.carry = spool.carry.length ? Buffer.concat([spool.carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    }
  }

  private async removeSpool(spool: Spool): Promise<void> {
    // Wait for a write in flight: closing under it would fail it.
    while (spool.writing) await new Promise((r) => setImmediate(r));
    await spool.fh.then((fh) => fh.close()).catch(() => undefined);
    await rm(spool.path, { force: true });
    liveSpools.delete(spool.path);
  }
}

/** The whole frames at the start of what was read back, joined while of one stream (see takeMemory). */
function takeFrame(spool: Spool): OutputChunk | undefined {
  const b = spool.carry;
  const parts: Buffer[] = [];
  let at = 0;
  let bytes = 0;
  let stream: number | undefined;
  while (b.length - at >= FRAME_HEADER) {
    const len = b.readUInt32BE(at + 1);
    if (b.length - at < FRAME_HEADER + len) break;
    if (stream !== undefined && (b[at] !== stream || bytes + len > JOIN_BYTES)) break;
    stream = b[at];
    parts.push(b.subarray(at + FRAME_HEADER, at + FRAME_HEADER + len));
    bytes += len;
    at += FRAME_HEADER + len;
  }
  if (stream === undefined) return undefined;
  spool.carry = b.subarray(at);
  return { stream: stream === 2 ? 'stderr' : 'stdout', data: Buffer.concat(parts, bytes) };
}
