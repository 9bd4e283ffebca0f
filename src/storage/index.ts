// Public surface of storage/ (STYLE.md §1).
export type { BlobInfo, ContentStore } from './content-store.js';
export type { ChainId, LayerInfo, LayerStore, Mount, Snapshotter } from './layer-store.js';
