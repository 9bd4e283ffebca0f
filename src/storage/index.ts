// Public surface of storage/ (STYLE.md §1).
export type { BlobInfo, ContentStore } from './content-store.js';
export type { ChainId, LayerInfo, LayerStore, Mount, Snapshotter } from './layer-store.js';
export { LocalContentStore } from './local-content-store.js';
export { chainIdOf, childChainId } from './chain-id.js';
export type { Lease, Leases } from './leases.js';
export { openStorage, type GcResult, type GcRoots, type Storage } from './storage.js';
