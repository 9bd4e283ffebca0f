// Public surface of image/ (STYLE.md §1).
export { ImageService, type ImageServiceOptions } from './image-service.js';
export type {
  CommitOptions,
  DeleteItem,
  HistoryItem,
  ImageDetails,
  ImageDiskUsage,
  ImageSummary,
  ImageUser,
  ImportOptions,
  ListFilters,
  LoadProgress,
  LoadResult,
  PruneFilters,
  PruneResult,
  ResolvedImage,
  UsageCheck,
} from './types.js';
export {
  familiarName,
  familiarString,
  isIdPrefix,
  parseImageRef,
  parseNormalizedNamed,
  refWithTag,
  repositoryOf,
  shortId,
  splitImageRef,
  tryParseImageRef,
  type ImageRef,
  type Reference,
} from './reference.js';
export type { PlatformImage, PlatformsView } from './image-index.js';
export { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformMatches, selectManifest } from './platform.js';
export { MediaType } from './media-types.js';
export type { ContainerConfig, Descriptor, ImageConfig, Manifest, Platform } from './schemas.js';
