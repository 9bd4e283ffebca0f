// Engine API wire types for volumes, spelled exactly as Docker does (swagger v1.51
// Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse, VolumesDiskUsage).
// A container's Mounts/MountPoint live in types/containers.ts.

export interface VolumeUsageData {
  /** Bytes used, or -1 when not available. */
  Size: number;
  /** Containers referencing the volume, or -1 when not available. */
  RefCount: number;
}

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Status?: Record<string, unknown>;
  Labels: Record<string, string>;
  Scope: 'local' | 'global';
  Options: Record<string, string>;
  /** Only in `/system/df`. */
  UsageData?: VolumeUsageData | null;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface VolumeListResponse {
  Volumes: Volume[];
  Warnings: string[];
}

export interface VolumePruneResponse {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}

export interface VolumesDiskUsage {
  ActiveCount: number;
  TotalCount: number;
  Reclaimable: number;
  TotalSize: number;
  Items: Volume[];
}
