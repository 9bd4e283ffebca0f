// Public surface of volume/ (STYLE.md §1): the volume store and service, mount specs
// parsed from Docker's Binds/Mounts/Tmpfs/Volumes, and their OCI mounts.
export { ANONYMOUS_LABEL, LOCAL_DRIVER } from './constants.js';
export { validateVolumeName, isValidVolumeName, generateVolumeName } from './names.js';
export type { VolumeListFilters, VolumePruneFilters } from './filters.js';
export {
  VolumeService,
  type Volume,
  type CreateVolumeRequest,
  type VolumeServiceOptions,
  type ResolveMountsOptions,
} from './volume-service.js';
export {
  parseBind,
  parseMountRequest,
  parseTmpfsEntry,
  parseMountConfig,
  parseStoredMountSpecs,
  MountSpecSchema,
  PROPAGATIONS,
  type Propagation,
  type MountSpec,
  type BindMountSpec,
  type VolumeMountSpec,
  type TmpfsMountSpec,
  type MountRequest,
  type ContainerMountConfig,
} from './mount-spec.js';
export {
  describeMounts,
  rootfsPropagationFor,
  sortByDestinationDepth,
  type OciMount,
  type MountPointInfo,
} from './oci-mounts.js';
export { mergeTmpfsOptions, DEFAULT_TMPFS_OPTIONS } from './tmpfs-options.js';
export {
  ContainerVolumeMounter,
  toMountRequest,
  mountConfigOf,
  type ContainerMountSource,
  type RuntimeMountLike,
  type StoredMountPoint,
} from './container-mounts.js';
