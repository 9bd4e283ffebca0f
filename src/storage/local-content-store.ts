import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BerthError,
  DigestingStream,
  digestHex,
  digestMismatch,
  fsyncDir,
  invalidArgument,
  isDigest,
  notFound,
  type Digest,
} from '../util/index.js';
import type { BlobInfo, ContentStore } from './content-store.js';
import { isEnoent } from './metadata-file.js';

/** Notified after a blob is committed (or found already present); leases use it. */
export type BlobListener = (digest: Digest) => void;

const REF_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

function ignoreEarlyError(): void {
  // See ingest(): the error is reported by pipeline().
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Fails the stream as soon as more than `limit` bytes went through. */
class SizeLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number, private readonly what: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      cb(invalidArgument(`size mismatch for ${this.what}: expected ${this.limit} bytes, got more`));
      return;
    }
    cb(null, chunk);
  }
}

/**
 * Blobs under `<root>/content/blobs/sha256/<hex>`, written through `<root>/content/ingest/<ref>`
 * (STYLE.md §6): hashed while streaming, size and digest checked, renamed into place, directory
 * fsynced, file made read-only. As containerd's local content store.
 */
export class LocalContentStore implements ContentStore {
  readonly root: string;
  private readonly blobsDir: string;
  private readonly ingestDir: string;
  /** Refs being written, with the promise of their outcome. */
  private readonly activeRefs = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<BlobListener>();

  private constructor(root: string) {
    this.root = root;
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  /** Opens (creating) the store at `root` and sweeps ingests left by a crash. */
  static async open(root: string, _opts: { signal?: AbortSignal } = {}): Promise<LocalContentStore> {
    const store = new LocalContentStore(root);
    await mkdir(store.blobsDir, { recursive: true });
    await mkdir(store.ingestDir, { recursive: true });
    await store.sweepIngests();
    return store;
  }

  /** Removes every ingest not being written right now (at startup: all of them). */
  async sweepIngests(): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.ingestDir)) {
      if (this.activeRefs.has(name)) continue;
      await rm(join(this.ingestDir, name), { force: true, recursive: true });
      removed++;
    }
    return removed;
  }

  onCommit(listener: BlobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  blobPath(digest: Digest): string {
    return join(this.blobsDir, digestHex(digest));
  }

  private notify(digest: Digest): void {
    for (const l of this.listeners) l(digest);
  }

  async ingest(
    input: Readable,
    expected: { digest?: Digest; size?: number },
    opts: { signal?: AbortSignal; ref?: string; onHashed?: ((digest: Digest) => void) | undefined } = {},
  ): Promise<BlobInfo> {
    // An input that fails before the pipeline is attached (while we wait on another writer) must
    // not crash the process; the pipeline still sees the error through the stream's state.
    input.on('error', ignoreEarlyError);
    const ref = opts.ref ?? (expected.digest ? digestHex(expected.digest) : `anon-${randomUUID()}`);
    if (!REF_RE.test(ref)) throw invalidArgument(`invalid ingest ref "${ref}"`);
    if (expected.size !== undefined && (!Number.isSafeInteger(expected.size) || expected.size < 0)) {
      throw invalidArgument(`invalid expected size ${expected.size}`);
    }
    const running = this.activeRefs.get(ref);
    if (running) {
      if (opts.ref !== undefined || !expected.digest) {
        input.destroy();
        throw new BerthError('unavailable', `ref "${ref}" is already being written`);
      }
      // Two pulls of one blob (images sharing a layer): wait for the first writer, then reuse
      // its blob or, when it failed, write it ourselves.
      await running.catch(() => undefined);
      return this.ingest(input, expected, opts);
    }
    const work = this.write(ref, input, expected, opts.signal, opts.onHashed);
    this.activeRefs.set(ref, work);
    try {
      return await work;
    } finally {
      this.activeRefs.delete(ref);
    }
  }

  private async write(
    ref: string,
    input: Readable,
    expected: { digest?: Digest; size?: number },
    signal: AbortSignal | undefined,
    onHashed: ((digest: Digest) => void) | undefined,
  ): Promise<BlobInfo> {
    const opts = { signal };
    const tmp = join(this.ingestDir, ref);
    try {
      // Shortcut: a blob we already hold is success; the input is drained so the producer finishes.
      const held = expected.digest ? await this.info(expected.digest) : undefined;
      if (held && (expected.size === undefined || expected.size === held.size)) {
        await pipeline(input, async (src: AsyncIterable<Buffer>) => {
          for await (const _ of src) void _;
        }, { signal: opts.signal });
        this.notify(held.digest);
        return held;
      }
      const digester = new DigestingStream();
      const what = expected.digest ? `blob "${expected.digest}"` : 'blob';
      await pipeline(
        input,
        new SizeLimit(expected.size ?? Number.POSITIVE_INFINITY, what),
        digester,
        createWriteStream(tmp, { mode: 0o644, highWaterMark: 1 << 20 }),
        { signal: opts.signal },
      );
      const digest = digester.digest();
      onHashed?.(digest);
      await fsyncFile(tmp);
      if (expected.size !== undefined && digester.bytes !== expected.size) {
        throw invalidArgument(`size mismatch for ${what}: expected ${expected.size} bytes, got ${digester.bytes}`);
      }
      if (expected.digest && digest !== expected.digest) throw digestMismatch(what, expected.digest, digest);
      const target = this.blobPath(digest);
      const existing = await this.info(digest);
      if (!existing) {
        await chmod(tmp, 0o444);
        await rename(tmp, target);
        await fsyncDir(this.blobsDir);
      }
      this.notify(digest);
      return { digest, size: digester.bytes };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async put(data: Uint8Array | string, opts: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.ingest(Readable.from([buf]), { size: buf.length }, { signal: opts.signal, ref: `put-${randomUUID()}` });
  }

  async info(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (isEnoent(err)) return undefined;
      throw err;
    }
  }

  read(digest: Digest): Readable {
    const path = this.blobPath(digest);
    async function* chunks(): AsyncGenerator<Buffer> {
      let fh;
      try {
        fh = await open(path, 'r');
      } catch (err) {
        if (isEnoent(err)) throw notFound(`blob "${digest}" not found`, err);
        throw err;
      }
      // The stream owns the handle and closes it at end, error or destroy.
      yield* fh.createReadStream({ highWaterMark: 1 << 20 });
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async readBytes(digest: Digest, maxBytes: number): Promise<Buffer> {
    let fh;
    try {
      fh = await open(this.blobPath(digest), 'r');
    } catch (err) {
      if (isEnoent(err)) throw notFound(`blob "${digest}" not found`, err);
      throw err;
    }
    try {
      const { size } = await fh.stat();
      if (size > maxBytes) {
        throw invalidArgument(`blob "${digest}" is ${size} bytes, more than the ${maxBytes} allowed`);
      }
      const buf = Buffer.alloc(size);
      let off = 0;
      while (off < size) {
        const { bytesRead } = await fh.read(buf, off, size - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  }

  async delete(digest: Digest): Promise<void> {
    try {
      await rm(this.blobPath(digest));
    } catch (err) {
      if (isEnoent(err)) throw notFound(`blob "${digest}" not found`, err);
      throw err;
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    for (const name of await readdir(this.blobsDir)) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue; // foreign file, not a blob
      const info = await this.info(digest);
      if (info) yield info;
    }
  }
}
