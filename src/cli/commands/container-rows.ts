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

/** docker's DisplayablePorts: `0.0.0.0:8000-8001->80-81/tcp, 53/udp`, consecutive ports merged. */
export function displayablePorts(ports: Port[]): string {
  const groups = new Map<string, { first: Port; last: Port }[]>();
  const sorted = [...ports].sort((a, b) => a.PrivatePort - b.PrivatePort || (a.PublicPort ?? 0) - (b.PublicPort ?? 0));
  const order: string[] = [];
  for (const p of sorted) {
    const key = `${p.IP ?? ''}/${p.Type}/${p.PublicPort === undefined ? 'u' : 'p'}`;
    let list = groups.get(key);
    if (!list) {
      list = [];
      groups.set(key, list);
      order.push(key);
    }
    const prev = list[list.length - 1];
    const contiguous = prev
      && p.PrivatePort === prev.last.PrivatePort + 1
      && (p.PublicPort === undefined || (prev.last.PublicPort !== undefined && p.PublicPort === prev.last.PublicPort + 1));
    if (contiguous) prev.last = p;
    else if (!(prev && p.PrivatePort === prev.last.PrivatePort && p.PublicPort === prev.last.PublicPort)) list.push({ first: p, last: p });
  }
  const out: string[] = [];
  for (const key of order) {
    for (const { first, last } of groups.get(key)!) {
      const priv = first.PrivatePort === last.PrivatePort ? `${first.PrivatePort}` : `${first.PrivatePort}-${last.PrivatePort}`;
      if (first.PublicPort === undefined) {
        out.push(`${priv}/${first.Type}`);
        continue;
      }
      const pub = first.PublicPort === last.PublicPort ? `${first.PublicPort}` : `${first.PublicPort}-${last.PublicPort}`;
      const ip = first.IP ? (first.IP.includes(':') ? `[${first.IP}]:` : `${first.IP}:`) : '';
      out.push(`${ip}${pub}->${priv}/${first.Type}`);
    }
  }
  return out.join(', ');
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
