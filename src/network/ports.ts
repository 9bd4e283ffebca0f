// Published ports: Docker's PortBindings/ExposedPorts → requests → concrete bindings with
// host ports checked free (random ones from the kernel's ephemeral range), and the
// NetworkSettings.Ports map for inspect and `docker port`.
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { BerthError, conflict, invalidArgument } from '../util/index.js';
import { isIpv4 } from './ipv4.js';
import type { PortBinding, PortProtocol } from './types.js';

export interface PortRequest {
  hostIp: string;
  /** Inclusive host port range; `undefined` = any free ephemeral port. A single port is [p, p]. */
  hostPorts?: [number, number];
  containerPort: number;
  protocol: PortProtocol;
}

/** Docker's `HostConfig.PortBindings`: `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`. */
export type PortBindingMap = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

/** Docker's `NetworkSettings.Ports`. */
export type PortMap = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

const MAX_RANGE = 10_000;

function parsePortNumber(s: string, what: string): number {
  if (!/^\d{1,5}$/.test(s)) throw invalidArgument(`invalid ${what}: ${s}`);
  const n = Number(s);
  if (n < 1 || n > 65535) throw invalidArgument(`invalid ${what}: ${s}`);
  return n;
}

function parseRange(s: string, what: string): [number, number] {
  const [a, b, extra] = s.split('-');
  if (a === undefined || extra !== undefined) throw invalidArgument(`invalid ${what}: ${s}`);
  const lo = parsePortNumber(a, what);
  const hi = b === undefined ? lo : parsePortNumber(b, what);
  if (hi < lo || hi - lo >= MAX_RANGE) throw invalidArgument(`invalid ${what}: ${s}`);
  return [lo, hi];
}

/** `80/tcp`, `53/udp`, `8000-8005/tcp` → ports and protocol. */
export function parsePortKey(key: string): { ports: [number, number]; protocol: PortProtocol } {
  const [port, proto = 'tcp', extra] = key.split('/');
  if (port === undefined || extra !== undefined) throw invalidArgument(`invalid port: ${key}`);
  if (proto !== 'tcp' && proto !== 'udp') throw invalidArgument(`invalid protocol in port ${key}: only tcp and udp are supported`);
  return { ports: parseRange(port, 'containerPort'), protocol: proto };
}

function normalizeHostIp(ip: string | undefined): string {
  if (!ip || ip === '0.0.0.0' || ip === '::') return '0.0.0.0';
  if (!isIpv4(ip)) throw invalidArgument(`invalid host IP ${ip}: only IPv4 is supported`);
  return ip;
}

/**
 * Requests from the API's PortBindings, plus every exposed port not bound explicitly when
 * `publishAll` (`-P`) is set.
 */
export function portRequestsFrom(
  bindings: PortBindingMap | undefined,
  opts: { exposedPorts?: Iterable<string>; publishAll?: boolean } = {},
): PortRequest[] {
  const out: PortRequest[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { ports, protocol } = parsePortKey(key);
    for (let cp = ports[0]; cp <= ports[1]; cp++) seen.add(`${cp}/${protocol}`);
    for (const b of list ?? [{}]) {
      const hostIp = normalizeHostIp(b.HostIp);
      const hostPorts = b.HostPort ? parseRange(b.HostPort, 'hostPort') : undefined;
      const count = ports[1] - ports[0] + 1;
      if (hostPorts && count > 1 && hostPorts[1] - hostPorts[0] + 1 !== count) {
        throw invalidArgument(`invalid ranges specified for container and host ports: ${key} and ${b.HostPort}`);
      }
      for (let i = 0; i < count; i++) {
        const containerPort = ports[0] + i;
        const hp: [number, number] | undefined =
          hostPorts && count > 1 ? [hostPorts[0] + i, hostPorts[0] + i] : hostPorts;
        out.push({ hostIp, hostPorts: hp, containerPort, protocol });
      }
    }
  }
  if (opts.publishAll) {
    for (const key of opts.exposedPorts ?? []) {
      const { ports, protocol } = parsePortKey(key);
      for (let cp = ports[0]; cp <= ports[1]; cp++) {
        if (seen.has(`${cp}/${protocol}`)) continue;
        seen.add(`${cp}/${protocol}`);
        out.push({ hostIp: '0.0.0.0', containerPort: cp, protocol });
      }
    }
  }
  return out;
}

export function bindingsOverlap(a: { hostIp: string; hostPort: number; protocol: string }, b: typeof a): boolean {
  return (
    a.protocol === b.protocol &&
    a.hostPort === b.hostPort &&
    (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0')
  );
}

export function portAllocatedError(hostIp: string, hostPort: number): BerthError {
  return conflict(`Bind for ${hostIp}:${hostPort} failed: port is already allocated`);
}

export type PortProbe = (hostIp: string, port: number, protocol: PortProtocol) => Promise<boolean>;

export interface PortAllocatorOptions {
  /** Tells whether nothing on the host holds the port (default: try to bind it). */
  isFree?: PortProbe;
  /** Ephemeral range for random host ports (default: the kernel's ip_local_port_range). */
  ephemeralRange?: () => Promise<[number, number]>;
  random?: () => number;
}

/**
 * Turns requests into concrete bindings, or fails as a whole: a port held by berth (`inUse`)
 * or by another process is `Bind for <ip>:<port> failed: port is already allocated`.
 */
export async function allocatePorts(
  requests: readonly PortRequest[],
  inUse: readonly PortBinding[],
  opts: PortAllocatorOptions = {},
): Promise<PortBinding[]> {
  const isFree = opts.isFree ?? probePortFree;
  const taken: PortBinding[] = [...inUse];
  const out: PortBinding[] = [];
  const usable = async (hostIp: string, hostPort: number, protocol: PortProtocol) =>
    !taken.some((t) => bindingsOverlap(t, { hostIp, hostPort, protocol })) && (await isFree(hostIp, hostPort, protocol));
  for (const r of requests) {
    let hostPort: number | undefined;
    if (r.hostPorts && r.hostPorts[0] === r.hostPorts[1]) {
      if (!(await usable(r.hostIp, r.hostPorts[0], r.protocol))) throw portAllocatedError(r.hostIp, r.hostPorts[0]);
      hostPort = r.hostPorts[0];
    } else {
      const [lo, hi] = r.hostPorts ?? (await (opts.ephemeralRange ?? readEphemeralRange)());
      const span = hi - lo + 1;
      const start = Math.floor((opts.random ?? Math.random)() * span);
      for (let i = 0; i < span && hostPort === undefined; i++) {
        const p = lo + ((start + i) % span);
        if (await usable(r.hostIp, p, r.protocol)) hostPort = p;
      }
      if (hostPort === undefined) {
        throw r.hostPorts
          ? portAllocatedError(r.hostIp, r.hostPorts[0])
          : new BerthError('unavailable', `no free host port for ${r.containerPort}/${r.protocol}`);
      }
    }
    const b: PortBinding = { hostIp: r.hostIp, hostPort, containerPort: r.containerPort, protocol: r.protocol };
    taken.push(b);
    out.push(b);
  }
  return out;
}

export async function readEphemeralRange(): Promise<[number, number]> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  const [lo, hi] = text.trim().split(/\s+/).map(Number);
  if (!lo || !hi || hi < lo) throw new BerthError('internal', `unexpected ip_local_port_range: ${text}`);
  return [lo, hi];
}

/** Binds the port for a moment: the only reliable test that no other process holds it. */
export function probePortFree(hostIp: string, port: number, protocol: PortProtocol): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => {
        s.close();
        resolve(false);
      });
      s.bind({ address: hostIp, port, exclusive: true }, () => s.close(() => resolve(true)));
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: hostIp, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** NetworkSettings.Ports: every exposed port, with its host bindings or `null`. */
export function portMapOf(bindings: readonly PortBinding[], exposedPorts: Iterable<string> = []): PortMap {
  const out: PortMap = {};
  for (const key of exposedPorts) {
    const { ports, protocol } = parsePortKey(key);
    for (let p = ports[0]; p <= ports[1]; p++) out[`${p}/${protocol}`] = null;
  }
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.protocol}`;
    const list = out[key] ?? [];
    list.push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
    out[key] = list;
  }
  return out;
}
