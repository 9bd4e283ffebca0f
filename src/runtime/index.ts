// Public surface of runtime/ (STYLE.md §1).
export { ContainerService, Container, normalizeSignal, signalNumber, parseSize } from './container-service.js';
export type { ContainerServiceOptions, CreateResult, ExitInfo } from './container-service.js';
export { defaultContainerSpec, defaultHostSpec } from './container-spec.js';
export type { ContainerSpec, HostSpec, HealthcheckSpec, MountSpec, MountType, Ulimit, RestartPolicy, PortBinding, ImageRuntimeConfig } from './container-spec.js';
export type { ContainerStatus } from './container-state.js';
export { humanStatus, checkTransition } from './container-state.js';
export type { ContainerConfigFile, ContainerStateFile, HealthState, HealthLogEntry, MountPoint } from './container-store.js';
export { ZERO_TIME } from './container-store.js';
export type { LogRecord, LogStream } from './logs.js';
export { parseUnixTimestamp, formatLogTime } from './logs.js';
export type { ImageLookup, ResolvedImage, RootfsSnapshotter, NetworkAttacher, NetworkPlan, NetworkContainerInfo, VolumeMounter } from './ports.js';
export type { NamespaceSource, OciMount } from './oci-spec.js';
export { BasicNetworkAttacher } from './basic-network.js';
export { BasicVolumeMounter, parseBind, ociMountFor } from './basic-mounts.js';
export { resolveInRoot } from './rootfs-path.js';
export { ExecManager } from './exec.js';
export type { ExecSpec, ExecSession, ExecRun } from './exec.js';
