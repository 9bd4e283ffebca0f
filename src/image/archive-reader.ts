// Reads an image archive (docker-archive or OCI layout tar, optionally gzip-compressed) as a
// stream: blobs go into the content store as they arrive; only small metadata files are kept
// in memory (capped). The caller interprets the result once the whole tar has been read,
// because docker-archive puts manifest.json after the layers. So that a layer is not written,
// then read back to be unpacked, each large blob is also unpacked as it passes into a staged
// layer (parent-independent); load.ts commits the staged layers it verifies and the rest go.
import { posix } from 'node:path';
import { Duplex, PassThrough, Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { detectCompression, type BlobInfo, type ContentStore, type LayerStore, type StagedLayer } from '../storage/index.js';
import { BerthError, ExecError, errorKind, invalidArgument, isDigest, spawnStreaming, type Digest, type StreamingChild } from '../util/index.js';

/** Metadata files up to this size are held in memory; larger files always go to the content store. */
const SMALL_FILE_LIMIT = 4 * 1024 * 1024;
/** How long an xz/bzip2/zstd child may run for one archive. */
const DECOMPRESS_TIMEOUT_MS = 30 * 60_000;
/** Total bytes of metadata kept in memory for one archive. */
const SMALL_FILES_TOTAL_LIMIT = 64 * 1024 * 1024;
/** Bytes sniffed to tell a layer (tar, gzip, zstd) from other blobs. */
const SNIFF_BYTES = 512;

export type ArchiveFile =
  | { kind: 'memory'; data: Buffer }
  | {
      kind: 'blob';
      digest: Digest;
      size: number;
      /** The blob unpacked as a layer, when it is one (its diffID was computed on the way). */
      staged?: StagedLayer | undefined;
    }
  | { kind: 'link'; target: string };

export interface ArchiveContents {
  files: Map<string, ArchiveFile>;
}

export interface ReadArchiveOptions {
  signal?: AbortSignal | undefined;
  /** Called with the bytes read so far from the (possibly compressed) input. */
  onBytes?: ((bytes: number) => void) | undefined;
  /** Where to stage large blobs as layers while they are stored; the caller commits or discards them. */
  layers?: LayerStore | undefined;
}

/** Discards every staged layer of `contents` that was not committed. */
export async function discardStaged(contents: ArchiveContents, layers: LayerStore): Promise<void> {
  for (const f of contents.files.values()) if (f.kind === 'blob' && f.staged) await layers.discardStaged(f.staged);
}

/** Uncompressed sizes of the layers `layers` holds. */
async function sizesOf(layers: LayerStore): Promise<Set<number>> {
  return new Set((await layers.list()).map((l) => l.size));
}

/** Resolves once `s` may be written again (or will never be: destroyed). */
function drained(s: Writable): Promise<void> {
  if (s.destroyed || !s.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}

/** A tar (ustar/GNU/PAX magic) or a gzip or zstd stream: worth unpacking while it is stored. */
function looksLikeLayer(head: Buffer): boolean {
  const c = detectCompression(head);
  if (c === 'gzip' || c === 'zstd') return true;
  return c === 'none' && head.length >= SNIFF_BYTES && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/**
 * Stores one member as a blob and, at the same time, unpacks it as a staged layer (the slower
 * side sets the pace). A member that is not a valid layer just has no staged layer: when it is
 * used as a layer after all, applying it from the content store reports why.
 */
async function ingestAndStage(
  entry: AsyncIterable<Buffer>,
  content: ContentStore,
  layers: LayerStore,
  expected: { digest?: Digest | undefined; size: number },
  signal: AbortSignal | undefined,
): Promise<{ info: BlobInfo; staged: StagedLayer | undefined }> {
  const it = entry[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  while (headLen < SNIFF_BYTES) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    headLen += r.value.length;
  }
  const rest = (async function* () {
    yield* head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  if (!looksLikeLayer(Buffer.concat(head))) {
    return { info: await content.ingest(Readable.from(rest), expected, { signal }), staged: undefined };
  }
  const toBlob = new PassThrough({ highWaterMark: 1 << 20 });
  const toLayer = new PassThrough({ highWaterMark: 1 << 20 });
  // The blob's digest is the diffID of an uncompressed layer: hashed once, by the content store.
  // A blob reused without hashing gives no digest, and staging fails (load.ts then unpacks it
  // from the store as usual).
  let hashed: (d: Digest) => void = () => undefined;
  let notHashed: (e: Error) => void = () => undefined;
  const inputDigest = new Promise<Digest>((resolve, reject) => {
    hashed = resolve;
    notHashed = reject;
  });
  inputDigest.catch(() => undefined);
  const ingesting = content.ingest(toBlob, expected, { signal, onHashed: hashed });
  ingesting.then(
    () => notHashed(new Error('the blob was not hashed')),
    (e: Error) => notHashed(e),
  );
  const staging = layers.stage(toLayer, { signal, inputDigest }).catch(() => {
    toLayer.destroy();
    return undefined;
  });
  const cleanup = async () => {
    toBlob.destroy();
    toLayer.destroy();
    const [, s] = await Promise.allSettled([ingesting, staging]);
    if (s.status === 'fulfilled' && s.value) await layers.discardStaged(s.value);
  };
  try {
    for await (const c of rest) {
      if (toBlob.destroyed) break; // the ingest failed: its error is reported below
      const a = toBlob.write(c);
      const b = toLayer.destroyed || toLayer.write(c);
      if (!a) await drained(toBlob);
      if (!b) await drained(toLayer);
    }
    toBlob.end();
    if (!toLayer.destroyed) toLayer.end();
  } catch (e) {
    await cleanup();
    throw e;
  }
  let info: BlobInfo;
  try {
    info = await ingesting;
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { info, staged: await staging };
}

/** `./a/../b` → `b`; rejects paths that leave the archive root. */
export function normalizeArchivePath(name: string): string {
  const p = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (p === '..' || p.startsWith('../')) throw invalidArgument(`invalid archive member "${name}": path leaves the archive`);
  return p === '.' ? '' : p;
}

function isMetadataName(p: string): boolean {
  const base = posix.basename(p);
  return (
    !p.startsWith('blobs/') &&
    (base.endsWith('.json') || base === 'json' || base === 'repositories' || base === 'oci-layout' || base === 'VERSION')
  );
}

/** Reads at least `n` bytes (fewer at end of input) and puts them back, to sniff compression. */
export async function peekBytes(input: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const c = input.read() as Buffer | null;
    if (c !== null) {
      chunks.push(c);
      len += c.length;
      continue;
    }
    if (input.readableEnded || input.destroyed) break;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        input.off('readable', done);
        input.off('end', done);
        input.off('close', done);
        input.off('error', fail);
        resolve();
      };
      const fail = (e: Error) => {
        done();
        reject(e);
      };
      input.on('readable', done);
      input.on('end', done);
      input.on('close', done);
      input.on('error', fail);
    });
    if (input.readableEnded && input.readableLength === 0) break;
  }
  const buf = Buffer.concat(chunks);
  if (buf.length > 0) input.unshift(buf);
  // Removing the 'readable' listener takes effect on the next tick; a pipe started before
  // that would never make the stream flow.
  await new Promise<void>((resolve) => setImmediate(resolve));
  return buf;
}

/** Counts bytes passing through (progress of the upload). */
class ByteCounter extends Transform {
  bytes = 0;
  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    cb(null, chunk);
  }
}

function tarError(err: unknown): unknown {
  if (err instanceof ExecError) return invalidArgument(`invalid image archive: cannot decompress it: ${err.message}`, err);
  if (err instanceof BerthError) return err;
  const kind = errorKind(err);
  if (kind === 'cancelled') return err;
  const msg = err instanceof Error ? err.message : String(err);
  return invalidArgument(`invalid image archive: ${msg}`, err);
}

/** Reads the archive, ingesting every non-metadata member into `content`. */
export async function readArchive(input: Readable, content: ContentStore, opts: ReadArchiveOptions = {}): Promise<ArchiveContents> {
  const files = new Map<string, ArchiveFile>();
  let memoryBytes = 0;
  let layerSizes: Promise<Set<number>> | undefined;
  let head: Buffer;
  try {
    head = await peekBytes(input, 6);
  } catch (e) {
    throw tarError(e);
  }
  const extractor = tarExtract();
  const stages: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream> = opts.onBytes ? [input, new ByteCounter(opts.onBytes)] : [input];
  // docker load takes gzip, bzip2, xz and zstd archives; Node has gzip, the rest are streamed
  // through their standard binaries.
  const compression = detectCompression(head);
  let child: StreamingChild | undefined;
  if (compression === 'gzip') stages.push(createGunzip({ chunkSize: 1 << 17 }));
  else if (compression !== 'none') {
    child = spawnStreaming(compression, ['-dc', '-q'], { timeoutMs: DECOMPRESS_TIMEOUT_MS, signal: opts.signal });
    // The tool exits early on corrupt input; its exit status carries the error, not EPIPE.
    child.stdin.on('error', () => undefined);
    stages.push(Duplex.from({ writable: child.stdin, readable: child.stdout }));
  }

  const consume = (async () => {
    let sawEntry = false;
    for await (const entry of extractor) {
      sawEntry = true;
      const header: Header = entry.header;
      const name = normalizeArchivePath(header.name);
      try {
        if (header.type === 'directory' || name === '') {
          entry.resume();
          continue;
        }
        if (header.type === 'symlink' || header.type === 'link') {
          const target =
            header.type === 'symlink' ? normalizeArchivePath(posix.join(posix.dirname(name), header.linkname ?? '')) : normalizeArchivePath(header.linkname ?? '');
          files.set(name, { kind: 'link', target });
          entry.resume();
          continue;
        }
        if (header.type !== 'file' && header.type !== 'contiguous-file') {
          entry.resume();
          continue;
        }
        const size = header.size ?? 0;
        if (isMetadataName(name) && size <= SMALL_FILE_LIMIT) {
          memoryBytes += size;
          if (memoryBytes > SMALL_FILES_TOTAL_LIMIT) throw invalidArgument('invalid image archive: too much metadata');
          const chunks: Buffer[] = [];
          for await (const c of entry) chunks.push(c as Buffer);
          files.set(name, { kind: 'memory', data: Buffer.concat(chunks) });
          continue;
        }
        let expected: Digest | undefined;
        const bm = /^blobs\/sha256\/([^/]+)$/.exec(name);
        if (bm) {
          const d = `sha256:${bm[1]}`;
          if (!isDigest(d)) throw invalidArgument(`invalid image archive: blob name "${name}" is not a sha256 digest`);
          expected = d;
        }
        let info: BlobInfo;
        let staged: StagedLayer | undefined;
        try {
          // A blob the store holds already came with an earlier load, which unpacked it or
          // found its layer: load.ts does what is still needed from the store. A member not
          // named by digest (legacy `<id>/layer.tar`) is not staged when a layer of exactly its
          // size exists: most likely it is that layer, and unpacking it again would be waste.
          // Either way load.ts verifies whatever it uses.
          let known: boolean;
          if (expected) known = (await content.info(expected)) !== undefined;
          else known = opts.layers !== undefined && (await (layerSizes ??= sizesOf(opts.layers))).has(size);
          if (opts.layers && !known) {
            ({ info, staged } = await ingestAndStage(entry as AsyncIterable<Buffer>, content, opts.layers, { digest: expected, size }, opts.signal));
          } else {
            info = await content.ingest(Readable.from(entry), { digest: expected, size }, { signal: opts.signal });
          }
        } catch (e) {
          if (errorKind(e) === 'invalid-argument') {
            throw invalidArgument(`invalid image archive: member "${name}": ${(e as Error).message}`, e);
          }
          throw e;
        }
        const old = files.get(name);
        if (old?.kind === 'blob' && old.staged && opts.layers) await opts.layers.discardStaged(old.staged);
        files.set(name, { kind: 'blob', digest: info.digest, size: info.size, staged });
      } finally {
        // A member the loop did not read fully must be drained before the next one (STYLE.md §7).
        entry.resume();
      }
    }
    if (!sawEntry) throw invalidArgument('invalid image archive: the archive is empty');
  })();

  const feed = (pipeline as (...args: unknown[]) => Promise<void>)(...stages, extractor, { signal: opts.signal });
  try {
    await Promise.all([feed, consume, child?.done]);
  } catch (e) {
    extractor.destroy();
    input.destroy();
    child?.kill();
    child?.done.catch(() => undefined);
    // Whichever of the two did not fail first fails now because of the destroy; that error is noise.
    feed.catch(() => undefined);
    await consume.catch(() => undefined);
    if (opts.layers) await discardStaged({ files }, opts.layers);
    throw tarError(e);
  }
  return { files };
}

/** Follows links (docker-archive uses symlinks for repeated layers). */
export function resolveArchiveFile(contents: ArchiveContents, path: string): ArchiveFile | undefined {
  let p = normalizeArchivePath(path);
  for (let hops = 0; hops < 16; hops++) {
    const f = contents.files.get(p);
    if (!f || f.kind !== 'link') return f;
    p = f.target;
  }
  throw invalidArgument(`invalid image archive: too many levels of links at "${path}"`);
}
