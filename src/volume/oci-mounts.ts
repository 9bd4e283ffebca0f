// From mount specs to what runc and `docker inspect` need: OCI mount entries with
// Docker's options, and the `Mounts` list of a container.
import { mkdir, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { invalidArgument } from '../util/index.js';
import type { BindMountSpec, MountSpec } from './mount-spec.js';
import { DEFAULT_TMPFS_OPTIONS, mergeTmpfsOptions } from './tmpfs-options.js';

/** One entry of the OCI runtime spec's `mounts`. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** A container's mount as `docker inspect` lists it (camelCase; the API spells it Docker's way). */
export interface MountPointInfo {
  type: 'bind' | 'volume' | 'tmpfs';
  /** The volume name (volumes only). */
  name?: string;
  source: string;
  destination: string;
  driver?: string;
  mode: string;
  rw: boolean;
  propagation: string;
}

function depth(p: string): number {
  return posix.normalize(p).split('/').filter((s) => s !== '').length;
}

/** Parents before children, otherwise in the given order (stable), as Docker sorts them. */
export function sortByDestinationDepth<T extends { destination: string }>(specs: readonly T[]): T[] {
  return [...specs].sort((a, b) => depth(a.destination) - depth(b.destination));
}

/**
 * The host side of a bind at start: `-v /host:/ctr` creates a missing directory (Docker's
 * legacy behaviour); `--mount type=bind` needs it to exist (unless CreateMountpoint).
 */
export async function ensureBindSource(spec: BindMountSpec): Promise<void> {
  try {
    await stat(spec.source);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!spec.createHostPath) {
    throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${spec.source}`);
  }
  await mkdir(spec.source, { recursive: true, mode: 0o755 });
}

export function ociMountFor(spec: MountSpec, source: string): OciMount {
  switch (spec.type) {
    case 'bind': {
      const options = [spec.nonRecursive ? 'bind' : 'rbind', spec.propagation];
      if (spec.readOnly) options.push('ro');
      return { destination: spec.destination, type: 'bind', source, options };
    }
    case 'volume': {
      const options = ['rbind', 'rprivate'];
      if (spec.readOnly) options.push('ro');
      return { destination: spec.destination, type: 'bind', source, options };
    }
    case 'tmpfs': {
      const options = mergeTmpfsOptions([...DEFAULT_TMPFS_OPTIONS, ...spec.options]);
      return { destination: spec.destination, type: 'tmpfs', source: 'tmpfs', options };
    }
  }
}

/**
 * The `linux.rootfsPropagation` the spec needs: a shared or slave bind only works when
 * the container's root is shared (or slave) too, as dockerd sets it.
 */
export function rootfsPropagationFor(specs: readonly MountSpec[]): 'rshared' | 'rslave' | undefined {
  let out: 'rshared' | 'rslave' | undefined;
  for (const s of specs) {
    if (s.type !== 'bind') continue;
    if (s.propagation === 'shared' || s.propagation === 'rshared') return 'rshared';
    if (s.propagation === 'slave' || s.propagation === 'rslave') out = 'rslave';
  }
  return out;
}

/**
 * `Mounts` of `docker inspect`: binds, volumes (source = the volume's `_data`) and
 * `--mount type=tmpfs`; the `HostConfig.Tmpfs` map is not listed, as in Docker.
 */
export function describeMounts(specs: readonly MountSpec[], mountpointOf: (name: string) => string): MountPointInfo[] {
  const out: MountPointInfo[] = [];
  for (const s of specs) {
    if (s.type === 'bind') {
      out.push({ type: 'bind', source: s.source, destination: s.destination, mode: s.mode, rw: !s.readOnly, propagation: s.propagation });
    } else if (s.type === 'volume') {
      out.push({
        type: 'volume',
        name: s.name,
        source: mountpointOf(s.name),
        destination: s.destination,
        driver: s.driver ?? 'local',
        mode: s.mode,
        rw: !s.readOnly,
        propagation: '',
      });
    } else if (!s.fromTmpfsMap) {
      out.push({ type: 'tmpfs', source: '', destination: s.destination, mode: '', rw: !s.readOnly, propagation: '' });
    }
  }
  return out;
}
