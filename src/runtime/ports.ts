// What runtime needs from the services around it. Declared here, by the user of the
// interface (STYLE.md §1); api/daemon.ts plugs in the image, volume and network services.
import type { Readable } from 'node:stream';
import type { ImageRuntimeConfig, ContainerSpec } from './container-spec.js';
import type { MountPoint } from './container-store.js';
import type { NamespaceSource, OciMount } from './oci-spec.js';

export interface ResolvedImage {
  id: string;
  config: ImageRuntimeConfig;
  /** Top layer of the image (undefined for an empty image). */
  topChainId?: string;
  repoTags: string[];
  /** The image config's os/architecture/variant (`--platform` is checked against it). */
  platform?: { os: string; architecture: string; variant?: string };
}

export interface CommitRequest {
  parent: string;
  layer: Readable;
  config: ImageRuntimeConfig;
  changes: string[];
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
}

export interface ImageLookup {
  /** Throws not-found with Docker's "No such image: <name>" when absent. */
  resolve(nameOrId: string, opts?: { signal?: AbortSignal }): Promise<ResolvedImage>;
  /** Stores a new image from a container's changes (`docker commit`); returns its id. */
  commit?(req: CommitRequest, opts?: { signal?: AbortSignal }): Promise<string>;
}

/** Container root filesystems (the storage snapshotter satisfies this). */
export interface RootfsSnapshotter {
  /** `deferSync`: written without waiting for the disk; gets the function that makes it durable. */
  prepare(key: string, parent: string | undefined, opts?: { signal?: AbortSignal; deferSync?: (sync: () => Promise<void>) => void }): Promise<unknown>;
  /** `volatile`: no sync of the upper filesystem at unmount (see the storage SnapshotMountOptions). */
  mount(key: string, target: string, opts?: { signal?: AbortSignal; volatile?: boolean }): Promise<void>;
  unmount(target: string, opts?: { signal?: AbortSignal }): Promise<void>;
  upperPath(key: string): string;
  diff(key: string, opts?: { signal?: AbortSignal }): Readable;
  /** `unmounted`: known to be mounted nowhere; `track`: gets the deletion of the files, which then runs after. */
  remove(key: string, opts?: { unmounted?: boolean; track?: (deletion: Promise<void>) => void }): Promise<void>;
  /** The overlay mount (its lowerdir option names the image layers, for `docker diff`). */
  mounts?(key: string): Promise<Array<{ options: string[] }>>;
}

export interface NetworkPlan {
  namespace: NamespaceSource;
  /** Extra `/etc/hosts` lines (`<ip>\t<names>`), e.g. the container's own address. */
  hostsEntries: string[];
  /** Content of /etc/resolv.conf; undefined = derived from the host's. */
  resolvConf?: string;
  /** What `--add-host name:host-gateway` stands for: the default bridge's gateway, as dockerd's. */
  hostGateway?: string;
  /**
   * `attach` puts links into the new namespace (bridge networks): the runtime makes the
   * namespace first, as a file, so that attach runs beside `runc create` instead of after it.
   */
  plumbed?: boolean;
}

export interface NetworkContainerInfo {
  id: string;
  name: string;
  spec: ContainerSpec;
}

/**
 * Connects a container to its networks. `plan` runs before `runc create`, `attach` once the
 * network namespace exists (a file made beside `runc create` when the plan is `plumbed`, else
 * the created process's) and before the process starts, `detach` after it exited.
 * The network service implements this for bridges; runtime has a basic one for none/host.
 */
export interface NetworkAttacher {
  plan(c: NetworkContainerInfo): Promise<NetworkPlan>;
  attach(c: NetworkContainerInfo & { netnsPath: string }): Promise<Record<string, unknown>>;
  /** `namespaceGone`: after the exit, once the namespace file was let go (its links go with it). */
  detach(c: NetworkContainerInfo, opts?: { namespaceGone?: boolean }): Promise<void>;
  /** The networks of a container as they are now (after connect/disconnect), in `attach`'s `networks` shape. */
  networksOf?(containerId: string): Record<string, unknown>;
}

/** Volume, bind and tmpfs mounts (the volume service implements this). */
export interface VolumeMounter {
  /**
   * At create: resolves every mount of the spec (and the image's VOLUMEs), creating volumes;
   * `inherited` are the mount points of `--volumes-from` containers, the container's own win.
   */
  prepare(c: { id: string; spec: ContainerSpec; imageVolumes: string[]; inherited?: MountPoint[] }): Promise<MountPoint[]>;
  /** At start: OCI mounts for the mount points; `rootfs` is mounted (copy-up of new volumes). */
  ociMounts(c: { id: string; mountPoints: MountPoint[]; rootfs: string; spec: ContainerSpec }): Promise<OciMount[]>;
  /** At removal; anonymous volumes go when `removeVolumes`. */
  release(c: { id: string; mountPoints: MountPoint[]; removeVolumes: boolean }): Promise<void>;
}
