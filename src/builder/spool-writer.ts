// Appends a stream of small chunks to a file in large positioned writes, with one write in
// flight while the next batch fills: the context intake wrote each socket-sized chunk and
// waited for it before reading on, which made the receive as slow as a thread-pool round
// trip per chunk. Memory stays bounded by two batches.
import type { FileHandle } from 'node:fs/promises';

const DEFAULT_BATCH_BYTES = 1 << 20;

export class SpoolWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private position = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: FileHandle,
    private readonly batchBytes = DEFAULT_BATCH_BYTES,
  ) {}

  /** Queues a chunk; waits only when a full batch must wait for the previous write. */
  async write(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= this.batchBytes) await this.flushBatch();
  }

  /** Writes what is queued and waits for every write; a failed write rejects here at the latest. */
  async end(): Promise<void> {
    if (this.pendingBytes > 0) await this.flushBatch();
    await this.inFlight;
  }

  private async flushBatch(): Promise<void> {
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const at = this.position;
    this.pending = [];
    this.position += this.pendingBytes;
    this.pendingBytes = 0;
    await this.inFlight;
    this.inFlight = writeFully(this.file, data, at);
    // Awaited by the next batch or end(); this only keeps a failure from being unhandled meanwhile.
    this.inFlight.catch(() => undefined);
  }
}

async function writeFully(file: FileHandle, data: Buffer, at: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await file.write(data, done, data.length - done, at + done);
    done += bytesWritten;
  }
}
