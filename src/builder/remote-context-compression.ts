// Context tars that arrive compressed with bzip2, xz or zstd (the docker CLI sends `docker build
// - < ctx.tar.xz` as is, and a remote tarball may be any of them) are decompressed by the
// Debian binaries as they stream; gzip and plain tars go on untouched (the intake reads those).
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, isAbortError, spawnStreaming } from '../util/index.js';

/** A context stream may take this long to arrive; the caller's signal ends it sooner. */
const DECOMPRESS_TIMEOUT_MS = 60 * 60_000;

type Compression = 'bzip2' | 'xz' | 'zstd';

const DECOMPRESSORS: Record<Compression, string> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

export function sniffCompression(head: Buffer): Compression | undefined {
  // BZh, the block size digit, then a block's or the end-of-stream's magic (a tar whose first
  // member is named "BZh…" is not bzip2).
  if (/^BZh[1-9]$/.test(head.subarray(0, 4).toString('latin1')) && ['314159265359', '177245385090'].includes(head.subarray(4, 10).toString('hex'))) return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return undefined;
}

/** Reads at least `n` bytes from the front of `it` (fewer only at the end of the stream). */
export async function readHead(it: AsyncIterator<Buffer>, n: number): Promise<{ head: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const r = await it.next();
    if (r.done) return { head: Buffer.concat(parts), done: true };
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    parts.push(chunk);
    size += chunk.length;
  }
  return { head: Buffer.concat(parts), done: false };
}

/** The stream again: `head` first, then what `it` still has. */
export function withHead(head: Buffer, done: boolean, it: AsyncIterator<Buffer>): Readable {
  return Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    })(),
    { objectMode: false },
  );
}

/** `input` with its first bytes looked at: decompressed when bzip2/xz/zstd, else as it was. */
export async function decompressContext(input: Readable, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
  const it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const { head, done } = await readHead(it, 6);
  const whole = withHead(head, done, it);
  const compression = sniffCompression(head);
  if (!compression) return whole;
  const child = spawnStreaming(DECOMPRESSORS[compression], ['-dc'], { timeoutMs: DECOMPRESS_TIMEOUT_MS, ...(opts.signal ? { signal: opts.signal } : {}) });
  let feedError: unknown;
  let exited = false;
  child.done.then(
    () => (exited = true),
    () => (exited = true),
  );
  pipeline(whole, child.stdin).catch((err: unknown) => {
    // The sender went away or the decompressor stopped reading: its exit says which.
    feedError ??= err;
    if (!exited) child.kill();
  });
  // Read from now on: node resumes (and drops) a child's unread stdout when the child exits,
  // and a small input's decompressor can exit before the intake starts reading.
  const output = new PassThrough();
  child.stdout.pipe(output);
  const failure = (err: unknown): unknown => {
    const e = feedError ?? err;
    if (isAbortError(e) || e instanceof BerthError && e.kind !== 'internal') return e;
    return new BerthError('invalid-argument', `cannot decompress the build context (${compression}): ${(e as Error).message}`, { cause: e });
  };
  // The tar ends only when the decompressor exited 0: a truncated or corrupt input is an error,
  // never a shorter context.
  return Readable.from(
    (async function* () {
      try {
        for await (const c of output as AsyncIterable<Buffer>) yield c;
        await child.done;
      } catch (err) {
        throw failure(err);
      } finally {
        if (!exited) child.kill();
      }
    })(),
    { objectMode: false },
  );
}
