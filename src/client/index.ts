// Public surface of client/ (STYLE.md §1): the Engine API client and Docker's wire types.
export * from './host.js';
export * from './json-stream.js';
export * from './engine-client.js';
export * from './containers-api.js';
export * from './volumes-api.js';
export * from './networks-api.js';
export * from './stdio-frames.js';
export type { HijackedConnection } from './hijack.js';
export type { PreconnectedSocket } from './raw-http.js';
export type * from './types/system.js';
export type * from './types/events.js';
export type * from './types/containers.js';
export type * from './types/volumes.js';
export type * from './types/images.js';
export type * from './types/networks.js';
export type * from './types/build.js';
