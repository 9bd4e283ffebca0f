// The container runtime's view of mounts (runtime's `VolumeMounter` port), implemented
// on the VolumeService. volume/ cannot import runtime/, so the shapes below are the
// structural subset of runtime's ContainerSpec/MountPoint this needs; api/daemon.ts
// plugs a `ContainerVolumeMounter` in where runtime asks for a VolumeMounter.
import type { ContainerMountConfig, MountRequest, MountSpec } from './mount-spec.js';
import { MountSpecSchema, parseMountConfig, parseTmpfsEntry } from './mount-spec.js';
import { describeMounts, type MountPointInfo, type OciMount } from './oci-mounts.js';
import type { VolumeService } from './volume-service.js';

/** One `--mount` as runtime's ContainerSpec carries it. */
export interface RuntimeMountLike {
  type: string;
  source: string;
  target: string;
  readOnly: boolean;
  options?: {
    propagation?: string;
    tmpfsSizeBytes?: number;
    tmpfsMode?: number;
    noCopy?: boolean;
    volumeLabels?: Record<string, string>;
    /** Optional extras a richer HostConfig conversion may fill. */
    createMountpoint?: boolean;
    nonRecursive?: boolean;
    driver?: string;
    driverOpts?: Record<string, string>;
    subpath?: string;
    tmpfsOptions?: string[][];
  };
}

/** The parts of runtime's ContainerSpec that ask for mounts. */
export interface ContainerMountSource {
  volumes?: readonly string[];
  host: {
    binds: readonly string[];
    mounts: readonly RuntimeMountLike[];
    tmpfs: Readonly<Record<string, string>>;
    volumeDriver?: string;
  };
}

/** What runtime stores per mount (its MountPoint) plus the full spec, kept for the start. */
export interface StoredMountPoint extends MountPointInfo {
  anonymous?: boolean;
  /** The parsed spec; runtime's store keeps unknown fields (passthrough). */
  volumeSpec?: unknown;
}

export function toMountRequest(m: RuntimeMountLike): MountRequest {
  const o = m.options ?? {};
  const req: MountRequest = { type: m.type, target: m.target, readOnly: m.readOnly };
  if (m.source !== '') req.source = m.source;
  if (m.type === 'bind' && (o.propagation || o.createMountpoint || o.nonRecursive)) {
    req.bindOptions = { propagation: o.propagation, createMountpoint: o.createMountpoint, nonRecursive: o.nonRecursive };
  }
  if (m.type === 'volume' && (o.noCopy || o.volumeLabels || o.driver || o.driverOpts || o.subpath)) {
    req.volumeOptions = {
      noCopy: o.noCopy,
      labels: o.volumeLabels,
      subpath: o.subpath,
      ...(o.driver || o.driverOpts ? { driverConfig: { name: o.driver, options: o.driverOpts } } : {}),
    };
  }
  if (m.type === 'tmpfs' && (o.tmpfsSizeBytes || o.tmpfsMode || o.tmpfsOptions)) {
    req.tmpfsOptions = { sizeBytes: o.tmpfsSizeBytes, mode: o.tmpfsMode, options: o.tmpfsOptions };
  }
  return req;
}

export function mountConfigOf(spec: ContainerMountSource, imageVolumes: readonly string[]): ContainerMountConfig {
  return {
    binds: spec.host.binds,
    mounts: spec.host.mounts.map(toMountRequest),
    tmpfs: spec.host.tmpfs,
    volumes: [...new Set([...imageVolumes, ...(spec.volumes ?? [])])],
    volumeDriver: spec.host.volumeDriver,
  };
}

/** A stored mount point back to its spec: the saved spec when present, else rebuilt from the inspect fields. */
function specOf(mp: StoredMountPoint): MountSpec {
  const saved = MountSpecSchema.safeParse(mp.volumeSpec);
  if (saved.success) return saved.data;
  if (mp.type === 'volume') {
    return { type: 'volume', name: mp.name ?? '', anonymous: mp.anonymous ?? false, destination: mp.destination, readOnly: !mp.rw, noCopy: false, mode: mp.mode };
  }
  if (mp.type === 'tmpfs') return { ...parseTmpfsEntry(mp.destination, mp.mode), readOnly: !mp.rw, fromTmpfsMap: false };
  const propagation = (['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'] as const).find((p) => p === mp.propagation) ?? 'rprivate';
  return { type: 'bind', source: mp.source, destination: mp.destination, readOnly: !mp.rw, propagation, createHostPath: false, nonRecursive: false, mode: mp.mode };
}

/**
 * `--volumes-from` as dockerd's registerMountPoints orders it: the other containers' mounts
 * first (a later one wins a destination), then the container's own binds and mounts override
 * them, and its anonymous volumes (`-v /data`, the image's VOLUMEs) only go where nothing is.
 * A volume taken from another container is not this one's: `rm -v` leaves it, and it is never
 * filled from this container's image.
 */
function withInherited(own: MountSpec[], inherited: readonly StoredMountPoint[]): MountSpec[] {
  if (!inherited.length) return own;
  const isAnonymous = (s: MountSpec) => s.type === 'volume' && s.anonymous;
  const explicit = new Set(own.filter((s) => !isAnonymous(s)).map((s) => s.destination));
  const byDestination = new Map<string, MountSpec>();
  for (const mp of inherited) {
    if (explicit.has(mp.destination)) continue;
    const spec = specOf(mp);
    byDestination.set(mp.destination, spec.type === 'volume' ? { ...spec, readOnly: !mp.rw, anonymous: false, noCopy: true } : { ...spec, readOnly: !mp.rw });
  }
  return [...byDestination.values(), ...own.filter((s) => !(isAnonymous(s) && byDestination.has(s.destination)))];
}

export class ContainerVolumeMounter {
  constructor(private readonly volumes: VolumeService) {}

  /**
   * At container create: parses Binds, Mounts, Tmpfs and the image's VOLUMEs, creates the
   * volumes and records the container's references. If the create fails later, call
   * `release({ id, removeVolumes: true })`.
   */
  async prepare(c: { id: string; spec: ContainerMountSource; imageVolumes: string[]; inherited?: readonly StoredMountPoint[] }): Promise<StoredMountPoint[]> {
    const own = (await parseMountConfig(mountConfigOf(c.spec, c.imageVolumes))).filter(
      (s) => !(s.type === 'tmpfs' && s.fromTmpfsMap),
    );
    const specs = withInherited(own, c.inherited ?? []);
    try {
      await this.volumes.prepareMounts(specs, { containerId: c.id });
    } catch (err) {
      await this.volumes.releaseMounts(c.id, { removeAnonymous: true });
      throw err;
    }
    // Tmpfs-map entries are left out above, so describeMounts yields one entry per spec.
    const infos = describeMounts(specs, (n) => this.volumes.mountpointOf(n));
    return infos.map((info, i) => {
      const spec = specs[i]!;
      return { ...info, ...(spec.type === 'volume' && spec.anonymous ? { anonymous: true } : {}), volumeSpec: spec };
    });
  }

  /** At start (rootfs mounted): OCI mounts, with fresh volumes copied up from the image. */
  async ociMounts(c: { id: string; mountPoints: readonly StoredMountPoint[]; rootfs: string; spec: ContainerMountSource }): Promise<OciMount[]> {
    const specs: MountSpec[] = c.mountPoints.map(specOf);
    const taken = new Set(specs.map((s) => s.destination));
    for (const [dest, data] of Object.entries(c.spec.host.tmpfs)) {
      const t = parseTmpfsEntry(dest, data);
      if (!taken.has(t.destination)) specs.push(t);
    }
    return this.volumes.resolveMounts(specs, { containerId: c.id, rootfs: c.rootfs });
  }

  /** After the container stopped: volumes mounted only for it are unmounted. */
  async deactivate(c: { id: string }): Promise<void> {
    await this.volumes.deactivateMounts(c.id);
  }

  /** At removal: drops references; `removeVolumes` (`rm -v`) removes its anonymous volumes. */
  async release(c: { id: string; removeVolumes: boolean }): Promise<void> {
    await this.volumes.releaseMounts(c.id, { removeAnonymous: c.removeVolumes });
  }
}
