import type { Readable } from 'node:stream';
import type { Digest } from '../util/index.js';

declare const chainIdBrand: unique symbol;
/** OCI chainID: sha256 over the diffIDs of a layer and all its parents. */
export type ChainId = Digest & { readonly [chainIdBrand]: true };

export interface LayerInfo {
  chainId: ChainId;
  diffId: Digest;
  parent: ChainId | undefined;
  /** Bytes of the uncompressed layer tar. */
  size: number;
  /**
   * What its files take, as dockerd counts a layer's size (regular files' bytes, symlinks'
   * targets, hard links once): what `docker history` and `docker images` show.
   */
  contentSize: number;
}

/**
 * Unpacked, read-only layers under `layers/<chainid>/`, reference-counted by the images
 * (and later containers) that use them.
 */
/**
 * A layer unpacked under a temp name before its parent is known (an overlay diff dir does not
 * depend on its parent's contents; only the chainID does). Committed once, or discarded.
 */
export interface StagedLayer {
  /** sha256 of the uncompressed tar. */
  readonly diffId: Digest;
  /** Bytes of the uncompressed tar. */
  readonly size: number;
  /** What its files take (LayerInfo.contentSize). */
  readonly contentSize: number;
}

export interface LayerStore {
  /**
   * Unpacks a layer tar (gzip, zstd or uncompressed, detected from its magic bytes) on top of
   * `parent`. Computes the diffID on the way and rejects when `expectedDiffId` differs, or when a
   * member would write outside the layer. Idempotent: an existing chainID is returned as is
   * (the input is drained).
   */
  apply(parent: ChainId | undefined, input: Readable, opts?: { expectedDiffId?: Digest; signal?: AbortSignal }): Promise<LayerInfo>;
  /**
   * Unpacks a layer tar (checked as `apply` does) under a temp name, computing its diffID, for a
   * later `commitStaged` once the parent is known. The caller must commit or discard it.
   * `inputDigest`: the sha256 of the input bytes as the caller computed it while they passed
   * (the content store's, when the blob is stored at the same time); an uncompressed layer is
   * then not hashed twice.
   */
  stage(input: Readable, opts?: { signal?: AbortSignal; inputDigest?: Promise<Digest> | undefined }): Promise<StagedLayer>;
  /**
   * Moves a staged layer into place on `parent` (or returns the existing chainID and discards the
   * staged tree). A staged layer can be committed once; a second commit is a conflict.
   */
  commitStaged(parent: ChainId | undefined, staged: StagedLayer): Promise<LayerInfo>;
  /** Removes a staged layer that was not committed (no-op after a commit). */
  discardStaged(staged: StagedLayer): Promise<void>;
  get(chainId: ChainId): Promise<LayerInfo | undefined>;
  list(): Promise<LayerInfo[]>;
  /** The layer as an uncompressed tar with overlay whiteouts turned back into `.wh.` entries. */
  exportTar(chainId: ChainId, opts?: { signal?: AbortSignal }): Readable;
  /** Directory holding the unpacked files (overlay lower dir). */
  diffPath(chainId: ChainId): string;
  /** Removes a layer nobody references; conflict when a child layer or a snapshot still uses it. */
  remove(chainId: ChainId): Promise<void>;
}

export interface Mount {
  type: string;
  source: string;
  options: string[];
}

/**
 * Writable container root filesystems over read-only layers (overlayfs). `key` names an
 * active snapshot, `parent` the committed layer it sits on.
 */
export interface SnapshotPrepareOptions {
  signal?: AbortSignal;
  /**
   * The snapshot is written without waiting for the disk, and this receives the function that
   * makes it durable (its promise never rejects), for the caller to run once its answer is out,
   * or never for a snapshot that a power loss may take (one removed again right away).
   */
  deferSync?: (sync: () => Promise<void>) => void;
}

export interface SnapshotRemoveOptions {
  /** The caller knows the snapshot is mounted nowhere (it keeps that fact): the mount table is not read. */
  unmounted?: boolean;
  /**
   * Receives the deletion of the snapshot's files (it never rejects), which then runs after
   * remove() resolves instead of before; the caller keeps it (e.g. for close to wait on).
   */
  track?: (deletion: Promise<void>) => void;
}

export interface SnapshotMountOptions {
  signal?: AbortSignal;
  /**
   * Overlay's `volatile` (Linux 5.10+; ignored before): no sync of the upper filesystem at the
   * unmount, which with dirty data elsewhere on that filesystem took 40-60 ms here (4 ms quiet,
   * through umount(8)). For a rootfs whose contents do not outlive a crash: an `--rm` container's.
   */
  volatile?: boolean;
}

export interface Snapshotter {
  /** Creates the upper/work dirs for `key` over `parent` and returns the mount to make. */
  prepare(key: string, parent: ChainId | undefined, opts?: SnapshotPrepareOptions): Promise<Mount[]>;
  mounts(key: string): Promise<Mount[]>;
  /** Mounts the snapshot at `target` (creating it). */
  mount(key: string, target: string, opts?: SnapshotMountOptions): Promise<void>;
  unmount(target: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /** The changes of `key` against its parent as a layer tar stream (docker diff/commit/build). */
  diff(key: string, opts?: { signal?: AbortSignal }): Readable;
  /** Directory where the snapshot's writes land (overlay upper dir). */
  upperPath(key: string): string;
  /** The snapshot is gone (key free, not listed) once this resolves; see SnapshotRemoveOptions. */
  remove(key: string, opts?: SnapshotRemoveOptions): Promise<void>;
  list(): Promise<Array<{ key: string; parent: ChainId | undefined }>>;
}
