// Domain objects image/ hands to the layers above (the API maps them to Docker's wire JSON).
import type { ChainId } from '../storage/index.js';
import type { Digest } from '../util/index.js';
import type { ContainerConfig, ImageConfig } from './schemas.js';

export interface ImageSummary {
  id: Digest;
  parentId: string;
  /** Familiar `name:tag` strings. */
  repoTags: string[];
  /** Familiar `name@sha256:…` strings. */
  repoDigests: string[];
  /** Unix seconds. */
  created: number;
  size: number;
  /** -1 when not computed. */
  sharedSize: number;
  labels: Record<string, string>;
  /** Containers using the image; -1 when not computed. */
  containers: number;
}

export interface ImageDetails {
  id: Digest;
  repoTags: string[];
  repoDigests: string[];
  parent: string;
  comment: string;
  /** RFC 3339 (the config's `created`), empty when the image has none. */
  created: string;
  dockerVersion: string;
  author: string;
  config: ContainerConfig;
  architecture: string;
  variant: string | undefined;
  os: string;
  osVersion: string | undefined;
  size: number;
  graphDriver: { name: string; data: Record<string, string> };
  rootFs: { type: 'layers'; layers: Digest[] };
  lastTagTime: string | undefined;
  manifestDigest: Digest | undefined;
}

export interface HistoryItem {
  /** The image id for the entries the image itself owns, `<missing>` for the rest. */
  id: string;
  created: number;
  createdBy: string;
  tags: string[];
  size: number;
  comment: string;
}

export type DeleteItem = { untagged: string } | { deleted: string };

export interface ResolvedImage {
  id: Digest;
  config: ImageConfig;
  topChainId: ChainId | undefined;
  repoTags: string[];
}

/** A user of an image (a container); strings are container ids of running containers. */
export type ImageUser = string | { id: string; running: boolean };
export type UsageCheck = (imageId: Digest) => Promise<ImageUser[]>;

export type LoadProgress =
  | { kind: 'layer'; id: string; action: 'Loading layer'; current: number; total: number }
  | { kind: 'message'; text: string };

export interface LoadResult {
  images: Array<{ id: Digest; tags: string[] }>;
  /** What dockerd streams: `Loaded image: busybox:latest`, `Loaded image ID: sha256:…`. */
  messages: string[];
}

export interface ListFilters {
  dangling?: boolean | undefined;
  /** Glob patterns as in `docker images --filter reference=`. */
  reference?: string[] | undefined;
  /** `key`, `key=value`, `key!=value` */
  label?: string[] | undefined;
  before?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export interface PruneFilters {
  /** Timestamp or Go duration (`24h`) relative to now. */
  until?: string | undefined;
  label?: string[] | undefined;
  /** `label!=…` filters. */
  labelNot?: string[] | undefined;
}

export interface PruneResult {
  imagesDeleted: DeleteItem[];
  spaceReclaimed: number;
}

export interface ImageDiskUsage {
  layersSize: number;
  images: ImageSummary[];
}

export interface CommitOptions {
  /** The base image (name or id); none for a first layer. */
  parent?: string | undefined;
  /** A layer tar (any compression the layer store reads); omitted for config-only commits. */
  layer?: import('node:stream').Readable | undefined;
  /** Config to start from instead of the parent's (docker commit sends the container's). */
  config?: ContainerConfig | undefined;
  changes?: string[] | undefined;
  repo?: string | undefined;
  tag?: string | undefined;
  comment?: string | undefined;
  author?: string | undefined;
  /** The history entry's created_by (builder: the instruction). */
  createdBy?: string | undefined;
  /** `os/arch[/variant]` of an image without a parent (the host's when absent); a parent's wins. */
  platform?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface ImportOptions {
  repo?: string | undefined;
  tag?: string | undefined;
  changes?: string[] | undefined;
  message?: string | undefined;
  /** `os/arch[/variant]`; the host's when empty. */
  platform?: string | undefined;
  signal?: AbortSignal | undefined;
}
