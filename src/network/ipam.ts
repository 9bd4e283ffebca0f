// IP address management: picks subnets for new networks from a pool that stays clear of
// Docker's and Podman's defaults and of the host's routes, and hands out addresses inside
// a network (sequential lowest-free, fixed `--ip`, `--ip-range`).
import { BerthError, conflict, invalidArgument, run } from '../util/index.js';
import {
  cidrContains,
  cidrCovers,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  formatIpv4,
  lastAddress,
  parseCidr,
  parseIpv4,
  type Cidr,
} from './ipv4.js';
import type { IpamConfig } from './types.js';

export interface AddressPool {
  /** e.g. `10.210.0.0/16` */
  base: string;
  /** Prefix length of each network carved from `base`, e.g. 24. */
  size: number;
}

export const DEFAULT_ADDRESS_POOLS: readonly AddressPool[] = [{ base: '10.210.0.0/16', size: 24 }];

/**
 * Ranges other engines on the same host take by default: dockerd's `docker0` (172.17/16) and its
 * default pools (172.17–31/16 and 192.168/16 in /20s), Podman's `podman` network (10.88/16) and
 * its pool for further networks (10.89/16). A subnet from berth's pool never overlaps these.
 */
export const FOREIGN_ENGINE_SUBNETS: readonly string[] = [
  '172.16.0.0/12',
  '192.168.0.0/16',
  '10.88.0.0/16',
  '10.89.0.0/16',
];

const IP_TIMEOUT_MS = 5_000;

/** A host IPv4 route: its destination prefix and the device it goes out of (when it names one). */
export interface HostRoute {
  cidr: Cidr;
  dev: string | undefined;
}

/** The host's IPv4 routes (main table), default route excluded. */
export async function readHostRoutes(opts: { signal?: AbortSignal } = {}): Promise<HostRoute[]> {
  const { stdout } = await run('ip', ['-j', '-4', 'route', 'show'], { timeoutMs: IP_TIMEOUT_MS, signal: opts.signal });
  return parseIpRouteJson(stdout);
}

export function parseIpRouteJson(json: string): HostRoute[] {
  let rows: unknown;
  try {
    rows = JSON.parse(json || '[]');
  } catch (e) {
    throw new BerthError('internal', 'cannot parse `ip -j route` output', { cause: e });
  }
  if (!Array.isArray(rows)) return [];
  const out: HostRoute[] = [];
  for (const r of rows) {
    if (typeof r !== 'object' || r === null) continue;
    const { dst, dev } = r as { dst?: unknown; dev?: unknown };
    if (typeof dst !== 'string' || dst === 'default') continue;
    out.push({ cidr: parseCidr(dst.includes('/') ? dst : `${dst}/32`), dev: typeof dev === 'string' ? dev : undefined });
  }
  return out;
}

/** The first pool subnet that overlaps nothing in `taken` nor a foreign engine's default. */
export function allocateSubnet(pools: readonly AddressPool[], taken: readonly Cidr[]): Cidr {
  const avoid = [...taken, ...FOREIGN_ENGINE_SUBNETS.map((s) => parseCidr(s))];
  for (const pool of pools) {
    const base = parseCidr(pool.base, { strict: true });
    if (pool.size < base.prefixLen || pool.size > 30) {
      throw invalidArgument(`address pool ${pool.base}: size ${pool.size} must be between ${base.prefixLen} and 30`);
    }
    const step = 2 ** (32 - pool.size);
    for (let n = base.base; n <= lastAddress(base); n += step) {
      const candidate = { base: n, prefixLen: pool.size };
      if (!avoid.some((t) => cidrsOverlap(t, candidate))) return candidate;
    }
  }
  throw new BerthError(
    'unavailable',
    'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network',
  );
}

/** A network's address plan, parsed once. */
export interface AddressPlan {
  subnet: Cidr;
  gateway: number;
  range: Cidr;
}

/** Validates user IPAM input (`--subnet`, `--gateway`, `--ip-range`) and fills the gateway. */
export function planAddresses(input: { subnet: string; gateway?: string; ipRange?: string }): AddressPlan {
  const subnet = parseCidr(input.subnet, { strict: true });
  if (subnet.prefixLen > 30) throw invalidArgument(`subnet ${input.subnet} is too small for a bridge network`);
  const range = input.ipRange ? parseCidr(input.ipRange, { strict: true }) : subnet;
  if (!cidrCovers(subnet, range)) throw invalidArgument(`invalid pool request: no matching subnet for range ${input.ipRange}`);
  const gateway = input.gateway ? parseIpv4(input.gateway) : subnet.base + 1;
  if (!cidrContains(subnet, gateway)) throw invalidArgument(`invalid pool request: no matching subnet for gateway ${input.gateway}`);
  if (gateway === subnet.base || gateway === lastAddress(subnet)) {
    throw invalidArgument(`gateway ${formatIpv4(gateway)} is the network or broadcast address of ${input.subnet}`);
  }
  return { subnet, gateway, range };
}

export function planFromConfig(c: IpamConfig): AddressPlan {
  return planAddresses(c);
}

export function configFromPlan(p: AddressPlan, withRange: boolean): IpamConfig {
  const cfg: IpamConfig = { subnet: formatCidr(p.subnet), gateway: formatIpv4(p.gateway) };
  if (withRange) cfg.ipRange = formatCidr(p.range);
  return cfg;
}

/**
 * Picks an address for an endpoint. `requested` (from `--ip`) must be a free host address in
 * the subnet; otherwise the lowest free address of the range is taken.
 */
export function allocateAddress(plan: AddressPlan, used: ReadonlySet<number>, requested?: string): number {
  const { subnet } = plan;
  const isUsable = (ip: number) => ip !== subnet.base && ip !== lastAddress(subnet) && ip !== plan.gateway;
  if (requested !== undefined) {
    const ip = parseIpv4(requested);
    if (!cidrContains(subnet, ip)) {
      throw invalidArgument(`invalid address ${requested}: it does not belong to any of this network's subnets`);
    }
    if (!isUsable(ip) || used.has(ip)) throw conflict(`Address already in use: ${requested}`);
    return ip;
  }
  const first = plan.range.base;
  const count = cidrSize(plan.range);
  for (let i = 0; i < count; i++) {
    const ip = first + i;
    if (isUsable(ip) && !used.has(ip)) return ip;
  }
  throw new BerthError('unavailable', `no available IPv4 addresses on this network's address pools: ${formatCidr(subnet)}`);
}
