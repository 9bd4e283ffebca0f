// What load, import and commit share: applying layer blobs in order, storing configs and
// manifests, and turning the result into an ImageRecord.
import { PassThrough, Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { childChainId, type BlobInfo, type ChainId, type LayerInfo, type LayerStore, type Lease, type StagedLayer, type Storage } from '../storage/index.js';
import { DigestingStream, digestMismatch, invalidArgument, spawnStreaming, type Digest } from '../util/index.js';
import type { ImageRecord } from './image-store.js';
import { MediaType, compressionOf, ociLayerMediaType } from './media-types.js';
import type { ImageConfig, Manifest } from './schemas.js';

export interface LayerBlob {
  digest: Digest;
  size: number;
  mediaType: string;
}

export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** First bytes of a blob (to detect its compression). */
export async function blobHead(storage: Storage, digest: Digest, n = 4): Promise<Buffer> {
  const s = storage.content.read(digest);
  const chunks: Buffer[] = [];
  let len = 0;
  try {
    for await (const c of s) {
      chunks.push(c as Buffer);
      len += (c as Buffer).length;
      if (len >= n) break;
    }
  } finally {
    s.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** A layer descriptor for a blob whose media type must be read from its bytes. */
export async function describeLayerBlob(storage: Storage, digest: Digest, size: number): Promise<LayerBlob> {
  return { digest, size, mediaType: ociLayerMediaType(compressionOf(await blobHead(storage, digest))) };
}

class ProgressCounter extends Transform {
  private bytes = 0;
  private lastReport = 0;
  constructor(private readonly report: (bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes - this.lastReport >= 512 * 1024) {
      this.lastReport = this.bytes;
      this.report(this.bytes);
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.report(this.bytes);
    cb();
  }
}

/**
 * Applies `layers` bottom-up on `base`, each checked against its diffID. Returns the chainIDs
 * (one per layer) and the summed unpacked size of the whole chain.
 */
export async function applyLayers(
  storage: Storage,
  base: ChainId | undefined,
  layers: readonly LayerBlob[],
  diffIds: readonly Digest[],
  opts: {
    signal?: AbortSignal | undefined;
    onLayer?: ((diffId: Digest, current: number, total: number) => void) | undefined;
    /** The caller's lease, to pin layers it reuses without applying them. */
    lease?: Lease | undefined;
    /** True when an image already recorded `blob` as the layer with `diffId`. */
    isVerifiedPair?: ((blob: Digest, diffId: Digest) => boolean) | undefined;
    /**
     * Layers already unpacked from these blobs (by blob digest), with the diffID computed as
     * they were: committed in place of unpacking the blob again, each at most once (taken out
     * of the map). The caller discards those left.
     */
    staged?: Map<Digest, StagedLayer> | undefined;
  },
): Promise<{ chains: ChainId[] }> {
  if (layers.length !== diffIds.length) {
    throw invalidArgument(`image config lists ${diffIds.length} diff_ids but the manifest has ${layers.length} layers`);
  }
  const chains: ChainId[] = [];
  let parent = base;
  for (let i = 0; i < layers.length; i++) {
    const blob = layers[i]!;
    const diffId = diffIds[i]!;
    // A layer that is already unpacked need not be unpacked again when this blob is known to
    // hold exactly that diffID: an uncompressed tar is its own diffID, and a compressed blob
    // counts when an image already recorded the same blob → diffID pair (checked when it loaded).
    const chain = childChainId(parent, diffId);
    const staged = opts.staged?.get(blob.digest);
    if (staged && staged.diffId !== diffId) throw digestMismatch('layer', diffId, staged.diffId);
    if (await storage.layers.get(chain)) {
      // The layer store returns an existing chain without reading the input, so a blob that
      // is not known to hold this diffID is checked here (decompress + hash, no unpack).
      if (blob.digest !== diffId && !staged && !opts.isVerifiedPair?.(blob.digest, diffId)) {
        const actual = await diffIdOfBlob(storage, blob.digest, opts.signal);
        if (actual !== diffId) throw digestMismatch('layer', diffId, actual);
      }
      // Pinned: an rmi running meanwhile must not collect it before the new image is recorded.
      opts.lease?.add({ chain, blob: blob.digest });
      opts.onLayer?.(diffId, blob.size, blob.size);
      chains.push(chain);
      parent = chain;
      continue;
    }
    if (staged) {
      opts.staged!.delete(blob.digest);
      const info = await storage.layers.commitStaged(parent, staged);
      opts.onLayer?.(diffId, blob.size, blob.size);
      chains.push(info.chainId);
      parent = info.chainId;
      continue;
    }
    let input: Readable = storage.content.read(blob.digest);
    const onLayer = opts.onLayer;
    if (onLayer) {
      const src = input;
      const counter = new ProgressCounter((n) => onLayer(diffId, n, blob.size));
      src.on('error', (e) => counter.destroy(e));
      counter.on('close', () => src.destroy());
      input = src.pipe(counter);
    }
    const info = await storage.layers.apply(parent, input, { expectedDiffId: diffId, signal: opts.signal });
    chains.push(info.chainId);
    parent = info.chainId;
  }
  return { chains };
}

/** What a whole layer chain's files take (each layer's contentSize once), as dockerd counts an image's size. */
export async function chainSize(layers: LayerStore, top: ChainId | undefined): Promise<number> {
  let size = 0;
  for (let c = top; c; ) {
    const info = await layers.get(c);
    if (!info) break;
    size += info.contentSize;
    c = info.parent;
  }
  return size;
}

/** Every chainID of a chain, top first. */
export async function chainOf(layers: LayerStore, top: ChainId | undefined): Promise<ChainId[]> {
  const out: ChainId[] = [];
  for (let c = top; c; ) {
    out.push(c);
    const info = await layers.get(c);
    c = info?.parent;
  }
  return out;
}

export function buildManifest(configDigest: Digest, configSize: number, layers: readonly LayerBlob[]): Manifest {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configSize },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
}

export async function makeRecord(
  storage: Storage,
  args: {
    id: Digest;
    config: ImageConfig;
    manifestDigest: Digest;
    manifestMediaType: string;
    layers: LayerBlob[];
    topChainId: ChainId | undefined;
    parent?: Digest | undefined;
  },
): Promise<ImageRecord> {
  return {
    id: args.id,
    manifestDigest: args.manifestDigest,
    manifestMediaType: args.manifestMediaType,
    layers: args.layers,
    diffIds: [...args.config.rootfs.diff_ids],
    topChainId: args.topChainId,
    created: args.config.created ?? '',
    size: await chainSize(storage.layers, args.topChainId),
    parent: args.parent,
    labels: args.config.config?.Labels ?? {},
  };
}

/**
 * Stores a new layer tar as a blob and applies it on `parent` at the same time (one read of the
 * input, the slower side sets the pace), for import and commit where the parent is known.
 */
export async function ingestAndApply(
  storage: Storage,
  input: Readable,
  parent: ChainId | undefined,
  opts: { signal?: AbortSignal | undefined },
): Promise<{ blob: BlobInfo; layer: LayerInfo }> {
  const toBlob = new PassThrough({ highWaterMark: 1 << 20 });
  const toLayer = new PassThrough({ highWaterMark: 1 << 20 });
  let waiting = 0;
  const resume = () => {
    if (--waiting === 0) input.resume();
  };
  input.on('data', (chunk: Buffer) => {
    const a = toBlob.write(chunk);
    const b = toLayer.write(chunk);
    if (!a || !b) {
      input.pause();
      if (!a) {
        waiting++;
        toBlob.once('drain', resume);
      }
      if (!b) {
        waiting++;
        toLayer.once('drain', resume);
      }
    }
  });
  input.once('end', () => {
    toBlob.end();
    toLayer.end();
  });
  input.once('error', (e) => {
    toBlob.destroy(e);
    toLayer.destroy(e);
  });
  const ingesting = storage.content.ingest(toBlob, {}, { signal: opts.signal });
  const applying = storage.layers.apply(parent, toLayer, { signal: opts.signal });
  try {
    const [blob, layer] = await Promise.all([ingesting, applying]);
    return { blob, layer };
  } catch (e) {
    // One side failed: stop the input and the other side, and wait for it so nothing is left writing.
    input.destroy();
    toBlob.destroy();
    toLayer.destroy();
    await Promise.allSettled([ingesting, applying]);
    throw e;
  }
}

/** `isVerifiedPair` over the images in `records`. */
export function verifiedPairs(records: Iterable<ImageRecord>): (blob: Digest, diffId: Digest) => boolean {
  const pairs = new Set<string>();
  for (const r of records) r.layers.forEach((l, i) => pairs.add(`${l.digest} ${r.diffIds[i] ?? ''}`));
  return (blob, diffId) => pairs.has(`${blob} ${diffId}`);
}

/** How long a `zstd -dc` child may run while a layer blob is hashed. */
const ZSTD_TIMEOUT_MS = 30 * 60_000;

/** The diffID (sha256 of the uncompressed tar) of a layer blob in the content store. */
export async function diffIdOfBlob(storage: Storage, digest: Digest, signal: AbortSignal | undefined): Promise<Digest> {
  const compression = compressionOf(await blobHead(storage, digest));
  const hasher = new DigestingStream();
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  if (compression === 'none') {
    await pipeline(storage.content.read(digest), hasher, sink, { signal });
  } else if (compression === 'gzip') {
    await pipeline(storage.content.read(digest), createGunzip(), hasher, sink, { signal });
  } else {
    const child = spawnStreaming('zstd', ['-dc', '-q'], { timeoutMs: ZSTD_TIMEOUT_MS, signal });
    child.stdin.on('error', () => undefined); // zstd's exit status carries the error
    try {
      await Promise.all([
        pipeline(storage.content.read(digest), child.stdin, { signal }),
        pipeline(child.stdout, hasher, sink, { signal }),
        child.done,
      ]);
    } catch (e) {
      child.kill();
      throw invalidArgument(`cannot decompress zstd layer ${digest}: ${(e as Error).message}`, e);
    }
  }
  return hasher.digest();
}
