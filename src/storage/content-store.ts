import type { Readable } from 'node:stream';
import type { Digest } from '../util/index.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/**
 * Blobs by digest (compressed layers, manifests, configs) exactly as pulled or built.
 * Writes are verified while streaming and committed atomically; an existing digest is success.
 */
export interface ContentStore {
  /**
   * Streams `input` into the store; rejects (and keeps nothing) when `expected` digest/size do not match.
   * `ref` names the ingest (default: the expected digest). A second writer on an explicit `ref` gets
   * `unavailable`; a second writer of the same expected digest waits for the first and reuses its blob.
   * `onHashed` gets the sha256 of the bytes read, once they were all hashed (not called when a
   * blob already held is reused: those bytes are drained, not hashed).
   */
  ingest(
    input: Readable,
    expected: { digest?: Digest; size?: number },
    opts?: { signal?: AbortSignal; ref?: string; onHashed?: ((digest: Digest) => void) | undefined },
  ): Promise<BlobInfo>;
  /** Small blobs (manifests, configs) from memory. */
  put(data: Uint8Array | string, opts?: { signal?: AbortSignal }): Promise<BlobInfo>;
  info(digest: Digest): Promise<BlobInfo | undefined>;
  /** A stream of the blob; not-found error when absent. */
  read(digest: Digest): Readable;
  /** Reads a whole blob, refusing ones larger than `maxBytes` (manifests and configs only). */
  readBytes(digest: Digest, maxBytes: number): Promise<Buffer>;
  delete(digest: Digest): Promise<void>;
  list(): AsyncIterable<BlobInfo>;
}
