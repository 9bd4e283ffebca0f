// Public surface of storage/ (STYLE.md §1).
export type { BlobInfo, ContentStore } from './content-store.js';
export type { ChainId, LayerInfo, LayerStore, Mount, SnapshotMountOptions, SnapshotPrepareOptions, SnapshotRemoveOptions, Snapshotter, StagedLayer } from './layer-store.js';
export { LocalContentStore } from './local-content-store.js';
export { LocalLayerStore } from './local-layer-store.js';
export { OverlaySnapshotter } from './overlay-snapshotter.js';
export { chainIdOf, childChainId } from './chain-id.js';
export type { Lease, Leases } from './leases.js';
export { openStorage, type GcResult, type GcRoots, type Storage } from './storage.js';
export { extractLayer, type ExtractResult } from './tar/extract.js';
export { extractArchive } from './tar/archive-extract.js';
export { diffDirectory } from './tar/diff.js';
export { detectCompression, type Compression } from './tar/compression.js';
export { isMountPoint, readMounts, type MountEntry } from './mountinfo.js';
