// Bind and tmpfs mounts, which need no volume store. The volume service replaces this with
// one that also handles named and anonymous volumes; until then a volume mount is refused.
import { stat } from 'node:fs/promises';
import { BerthError, invalidArgument } from '../util/index.js';
import type { ContainerSpec } from './container-spec.js';
import type { MountPoint } from './container-store.js';
import type { OciMount } from './oci-spec.js';
import type { VolumeMounter } from './ports.js';

/** Splits `-v src:dst[:opts]`; a source without a slash is a volume name. */
export function parseBind(bind: string): { source: string; target: string; readOnly: boolean; isVolume: boolean; propagation: string } {
  const parts = bind.split(':');
  if (parts.length < 1 || parts.length > 3 || !parts[0]) throw invalidArgument(`invalid volume specification: '${bind}'`);
  let source = '';
  let target: string;
  let opts = '';
  if (parts.length === 1) target = parts[0]!;
  else if (parts.length === 2 && !parts[1]!.startsWith('/')) {
    target = parts[0]!;
    opts = parts[1]!;
  } else {
    source = parts[0]!;
    target = parts[1]!;
    opts = parts[2] ?? '';
  }
  if (!target.startsWith('/')) throw invalidArgument(`invalid volume specification: '${bind}': invalid mount config for type "bind": invalid mount path: '${target}' mount path must be absolute`);
  const flags = opts.split(',').filter(Boolean);
  const propagation = flags.find((f) => /^r?(shared|slave|private)$/.test(f)) ?? 'rprivate';
  return { source, target, readOnly: flags.includes('ro'), isVolume: !source.startsWith('/'), propagation };
}

export class BasicVolumeMounter implements VolumeMounter {
  async prepare(c: { id: string; spec: ContainerSpec; imageVolumes: string[] }): Promise<MountPoint[]> {
    const out: MountPoint[] = [];
    for (const b of c.spec.host.binds) {
      const p = parseBind(b);
      if (p.isVolume) throw new BerthError('not-implemented', `volume mounts need the volume service: "${b}"`);
      await stat(p.source).catch((e: unknown) => {
        throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${p.source}`, e);
      });
      out.push({ type: 'bind', source: p.source, destination: p.target, mode: p.readOnly ? 'ro' : '', rw: !p.readOnly, propagation: p.propagation });
    }
    for (const m of c.spec.host.mounts) {
      if (m.type === 'volume') throw new BerthError('not-implemented', `volume mounts need the volume service: "${m.target}"`);
      if (m.type === 'bind') {
        await stat(m.source).catch((e: unknown) => {
          throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`, e);
        });
      }
      out.push({ type: m.type, source: m.source, destination: m.target, mode: '', rw: !m.readOnly, propagation: m.type === 'bind' ? m.options?.propagation ?? 'rprivate' : '' });
    }
    for (const target of Object.keys(c.spec.host.tmpfs)) {
      out.push({ type: 'tmpfs', source: '', destination: target, mode: c.spec.host.tmpfs[target] ?? '', rw: true, propagation: '' });
    }
    // Image VOLUMEs without the volume service: left in the container's own rootfs.
    return out;
  }

  async ociMounts(c: { mountPoints: MountPoint[]; spec: ContainerSpec }): Promise<OciMount[]> {
    return c.mountPoints.map((m) => ociMountFor(m, c.spec));
  }

  async release(): Promise<void> {}
}

/** One mount point as an OCI mount. */
export function ociMountFor(m: MountPoint, spec: ContainerSpec): OciMount {
  if (m.type === 'tmpfs') {
    const fromMounts = spec.host.mounts.find((x) => x.type === 'tmpfs' && x.target === m.destination);
    const opts = ['nosuid', 'nodev', 'noexec'];
    if (fromMounts?.options?.tmpfsSizeBytes) opts.push(`size=${fromMounts.options.tmpfsSizeBytes}`);
    if (fromMounts?.options?.tmpfsMode) opts.push(`mode=${fromMounts.options.tmpfsMode.toString(8)}`);
    if (m.mode) opts.push(...m.mode.split(',').filter(Boolean).filter((o) => !opts.includes(o)));
    if (!m.rw) opts.push('ro');
    return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: opts };
  }
  return { destination: m.destination, type: 'bind', source: m.source, options: ['rbind', m.propagation || 'rprivate', m.rw ? 'rw' : 'ro'] };
}
