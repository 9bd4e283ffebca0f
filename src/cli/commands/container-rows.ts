// The rows `berth ps` prints, computed as docker's container formatter does: quoted and
// shortened commands, "Up 2 minutes" statuses from the daemon, merged port ranges.
import type { ContainerSummary } from '../../client/index.js';
import { createdSince, goTimeString, humanSizeWithPrecision } from '../format/units.js';
import { truncateId } from './image-rows.js';

export interface ContainerRow {
  Command: string;
  CreatedAt: string;
  ID: string;
  Image: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Names: string;
  Networks: string;
  Ports: string;
  RunningFor: string;
  Size: string;
  State: string;
  Status: string;
}

export const CONTAINER_HEADERS: Record<string, string> = {
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Labels: 'LABELS',
  LocalVolumes: 'LOCAL VOLUMES',
  Mounts: 'MOUNTS',
  Names: 'NAMES',
  Networks: 'NETWORKS',
  Ports: 'PORTS',
  RunningFor: 'CREATED',
  Size: 'SIZE',
  State: 'STATE',
  Status: 'STATUS',
};

/** go-units/docker `Ellipsis`: at most `max` characters, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

type Port = ContainerSummary['Ports'][number];

function comparePorts(a: Port, b: Port): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
  if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

function formGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf('/');
  const ip = slash >= 0 ? key.slice(0, slash) : '';
  const type = slash >= 0 ? key.slice(slash + 1) : key;
  let group = first === last ? `${first}` : `${first}-${last}`;
  if (ip) group = `${ip}:${group}->${group}`;
  return `${group}/${type}`;
}

/**
 * docker's DisplayablePorts: unpublished ports and ports published on the same number are
 * merged into ranges per address and protocol; other mappings follow one by one.
 */
export function displayablePorts(ports: Port[]): string {
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const p of [...ports].sort(comparePorts)) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if (p.PublicPort !== current) {
        const host = p.IP.includes(':') ? `[${p.IP}]` : p.IP;
        hostMappings.push(`${host}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

export function containerRow(c: ContainerSummary, opts: { noTrunc: boolean; now?: number }): ContainerRow {
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  const shownNames = opts.noTrunc ? names : names.filter((n) => !n.includes('/'));
  const command = opts.noTrunc ? c.Command : ellipsis(c.Command ?? '', 20);
  const mounts = (c.Mounts ?? []).map((m) => {
    const name = m.Name || m.Source;
    return opts.noTrunc ? name : ellipsis(name, 15);
  });
  let size = '0B';
  if (c.SizeRw !== undefined || c.SizeRootFs !== undefined) {
    size = humanSizeWithPrecision(c.SizeRw ?? 0, 3);
    if (c.SizeRootFs) size += ` (virtual ${humanSizeWithPrecision(c.SizeRootFs, 3)})`;
  }
  return {
    Command: JSON.stringify(command),
    CreatedAt: goTimeString(c.Created),
    ID: opts.noTrunc ? c.Id : truncateId(c.Id),
    Image: opts.noTrunc || !c.Image.startsWith('sha256:') ? c.Image : truncateId(c.Image),
    Labels: Object.keys(c.Labels ?? {}).sort().map((k) => `${k}=${c.Labels[k]}`).join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume' && (m.Driver ?? 'local') === 'local').length),
    Mounts: mounts.join(','),
    Names: shownNames.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    Ports: displayablePorts(c.Ports ?? []),
    RunningFor: createdSince(c.Created, opts.now),
    Size: size,
    State: c.State,
    Status: c.Status,
  };
}
