// Engine API wire types for images, spelled exactly as Docker does (swagger v1.51 ImageSummary,
// ImageInspect, ImageConfig, HistoryResponseItem, ImageDeleteResponseItem, ImagePruneResponse,
// SystemDataUsageResponse).
import type { ContainerSummary } from './containers.js';
import type { Volume } from './volumes.js';

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  /** Unix seconds. */
  Created: number;
  Size: number;
  /** -1 when not computed. */
  SharedSize: number;
  /** Only before API 1.44. */
  VirtualSize?: number;
  Labels: Record<string, string>;
  /** -1 when not computed. */
  Containers: number;
}

export interface ImageConfigWire {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: {
    Test?: string[] | null;
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  } | null;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[] | null;
}

export interface GraphDriverData {
  Name: string;
  Data: Record<string, string>;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ImageConfigWire;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  /** Only before API 1.44. */
  VirtualSize?: number;
  GraphDriver: GraphDriverData;
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime?: string };
  /** Only before API 1.45. */
  Container?: string;
  ContainerConfig?: ImageConfigWire;
  /** The index the name points to, for a multi-platform image (API 1.48+). */
  Descriptor?: OciDescriptorWire;
  /** With `?manifests=1`: every platform of the image (API 1.48+). */
  Manifests?: ImageManifestSummary[];
}

export interface OciPlatformWire {
  architecture: string;
  os: string;
  variant?: string;
}

export interface OciDescriptorWire {
  mediaType: string;
  digest: string;
  size: number;
  platform?: OciPlatformWire;
}

export interface ImageManifestSummary {
  /** The manifest digest. */
  ID: string;
  Descriptor: OciDescriptorWire;
  Available: boolean;
  Size: { Total: number; Content: number };
  Kind: 'image' | 'attestation' | 'unknown';
  ImageData?: { Platform: OciPlatformWire; Containers: string[]; Size: { Unpacked: number } };
  /** berth: the image id (config digest) of a locally stored manifest. */
  ImageID?: string;
}

export interface HistoryResponseItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface ImageDeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

export interface ImagePruneResponse {
  ImagesDeleted: ImageDeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

/** One JSON line of `POST /images/load`, `/images/create` (and pull/push) progress. */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { message: string; code?: number };
}

export interface BuildCacheRecord {
  ID: string;
  Parent?: string;
  Parents?: string[];
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}

export interface SystemDataUsageResponse {
  LayersSize: number;
  Images: ImageSummary[];
  Containers: ContainerSummary[];
  Volumes: Volume[];
  BuildCache: BuildCacheRecord[];
}
