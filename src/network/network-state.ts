// The in-memory view of every network record (loaded from the store by restore) and the
// queries and record builders that NetworkService and the embedded DNS share.
import { randomBytes } from 'node:crypto';
import { BerthError, invalidArgument, notFound } from '../util/index.js';
import { allocateAddress, planFromConfig } from './ipam.js';
import { formatIpv4, isIpv4, macForIpv4, parseCidr, parseIpv4, type Cidr } from './ipv4.js';
import type { DriverEndpoint, DriverNetwork, FirewallState, NetworkDriver, OpOptions } from './network-driver.js';
import { prefixLenOf } from './network-inspect.js';
import type { NetworkStore } from './network-store.js';
import type { EndpointRecord, NetworkRecord, PortBinding } from './types.js';

export interface ContainerRef {
  id: string;
  /** Without the leading slash. */
  name: string;
}

export interface EndpointRequest {
  aliases?: string[];
  /** `--ip` */
  ipv4Address?: string;
  /** `--dns`: upstreams of the embedded DNS for this container's queries. */
  dnsServers?: string[];
}

export class NetworkState {
  readonly networks = new Map<string, NetworkRecord>();
  loaded = false;

  constructor(
    readonly store: NetworkStore,
    readonly driver: NetworkDriver,
  ) {}

  assertLoaded(): void {
    if (!this.loaded) throw new BerthError('unavailable', 'network service is not restored yet');
  }

  /** Resolves a network reference the way Docker does: full id, name, then unique id prefix. */
  resolve(idOrName: string): NetworkRecord {
    this.assertLoaded();
    const byId = this.networks.get(idOrName);
    if (byId) return byId;
    const byName = this.findByName(idOrName);
    if (byName) return byName;
    const matches = idOrName.length > 0 ? [...this.networks.values()].filter((r) => r.id.startsWith(idOrName)) : [];
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw invalidArgument(`network ${idOrName} is ambiguous (${matches.length} matches found on id)`);
    throw notFound(`network ${idOrName} not found`);
  }

  findByName(name: string): NetworkRecord | undefined {
    for (const r of this.networks.values()) if (r.name === name) return r;
    return undefined;
  }

  memberships(containerId: string): Array<[NetworkRecord, EndpointRecord]> {
    const out: Array<[NetworkRecord, EndpointRecord]> = [];
    for (const rec of this.networks.values()) {
      const ep = rec.endpoints[containerId];
      if (ep) out.push([rec, ep]);
    }
    return out;
  }

  liveEndpoints(containerId: string): Array<[NetworkRecord, EndpointRecord]> {
    return this.memberships(containerId).filter(([, ep]) => ep.live);
  }

  boundPorts(): PortBinding[] {
    const out: PortBinding[] = [];
    for (const rec of this.networks.values()) for (const ep of Object.values(rec.endpoints)) out.push(...(ep.live?.ports ?? []));
    return out;
  }

  takenSubnets(): Cidr[] {
    return [...this.networks.values()].flatMap((r) => r.ipam.config.map((c) => parseCidr(c.subnet)));
  }

  newEndpoint(rec: NetworkRecord, container: ContainerRef, req: EndpointRequest): EndpointRecord {
    const aliases = uniq(req.aliases ?? []);
    if (rec.driver === 'bridge' && rec.predefined && (aliases.length || req.ipv4Address)) {
      throw new BerthError(
        'invalid-argument',
        aliases.length
          ? 'network-scoped alias is supported only for containers in user defined networks'
          : 'user specified IP address is supported on user defined networks only',
      );
    }
    if (req.ipv4Address && !rec.userSubnet) {
      throw invalidArgument('user specified IP address is supported only when connecting to networks with user configured subnets');
    }
    let ipv4 = '';
    let mac = '';
    if (rec.driver === 'bridge') {
      const used = new Set(Object.values(rec.endpoints).filter((e) => e.ipv4).map((e) => parseIpv4(e.ipv4)));
      const ip = allocateAddress(planFromConfig(rec.ipam.config[0]!), used, req.ipv4Address || undefined);
      ipv4 = formatIpv4(ip);
      mac = macForIpv4(ip);
    }
    return {
      endpointId: newId(),
      containerId: container.id,
      containerName: container.name,
      ipv4,
      mac,
      staticIp: !!req.ipv4Address,
      aliases,
      dnsNames: dnsNamesOf(container, aliases, rec),
      ...(req.dnsServers?.length ? { dnsServers: req.dnsServers } : {}),
    };
  }

  /**
   * Attaches an endpoint. A bridge that vanished behind the daemon's back (deleted by hand, a
   * host network reset) is made again once, instead of failing every container until a
   * restart as dockerd does.
   */
  async attachEndpoint(rec: NetworkRecord, ep: DriverEndpoint, opts: OpOptions = {}): Promise<void> {
    const net = this.driverNetwork(rec);
    try {
      await this.driver.attachEndpoint(net, ep, opts);
    } catch (err) {
      if (rec.driver !== 'bridge' || (await this.driver.listResources(opts)).bridges.includes(net.bridgeName)) throw err;
      await this.driver.ensureNetwork(net, opts);
      await this.driver.attachEndpoint(net, ep, opts);
    }
  }

  driverNetwork(rec: NetworkRecord): DriverNetwork {
    const c = rec.ipam.config[0]!;
    const o = bridgeOptionsOf(rec.options);
    return { id: rec.id, bridgeName: rec.bridgeName!, subnet: c.subnet, gateway: c.gateway, internal: rec.internal, ...o.driver };
  }

  driverEndpoint(rec: NetworkRecord, ep: EndpointRecord, netnsPath: string, ifName: string, withRoute: boolean): DriverEndpoint {
    return {
      endpointId: ep.endpointId,
      netnsPath,
      ifName,
      hostVeth: this.driver.hostVethNameFor(ep.endpointId),
      ipv4: ep.ipv4,
      prefixLen: prefixLenOf(rec),
      mac: ep.mac,
      defaultGateway: withRoute ? rec.ipam.config[0]!.gateway : undefined,
    };
  }

  firewallState(): FirewallState {
    const state: FirewallState = { networks: [], publications: [] };
    for (const rec of this.networks.values()) {
      if (rec.driver !== 'bridge') continue;
      state.networks.push(this.driverNetwork(rec));
      for (const ep of Object.values(rec.endpoints)) {
        if (ep.live?.ports.length) {
          state.publications.push({ endpointId: ep.endpointId, ipv4: ep.ipv4, bridgeName: rec.bridgeName!, bindings: ep.live.ports });
        }
      }
    }
    return state;
  }

}

export const OPT_MTU = 'com.docker.network.driver.mtu';
export const OPT_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';
export const OPT_ICC = 'com.docker.network.bridge.enable_icc';
export const OPT_HOST_BINDING = 'com.docker.network.bridge.host_binding_ipv4';

/** Docker's bridge driver options that berth honours, validated (`network create -o`). */
export function bridgeOptionsOf(options: Record<string, string>): {
  driver: { mtu?: number; masquerade?: boolean; icc?: boolean };
  hostBindingIpv4?: string;
} {
  const bool = (key: string): boolean | undefined => {
    const v = options[key];
    if (v === undefined) return undefined;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw invalidArgument(`invalid value "${v}" for option ${key}: expected true or false`);
  };
  const driver: { mtu?: number; masquerade?: boolean; icc?: boolean } = {};
  const mtu = options[OPT_MTU];
  if (mtu !== undefined && mtu !== '' && mtu !== '0') {
    if (!/^\d+$/.test(mtu) || Number(mtu) < 68 || Number(mtu) > 65535) throw invalidArgument(`invalid MTU "${mtu}": expected 68 to 65535`);
    driver.mtu = Number(mtu);
  }
  const masq = bool(OPT_MASQUERADE);
  if (masq !== undefined) driver.masquerade = masq;
  const icc = bool(OPT_ICC);
  if (icc !== undefined) driver.icc = icc;
  const hb = options[OPT_HOST_BINDING];
  if (hb !== undefined && hb !== '' && !isIpv4(hb)) throw invalidArgument(`invalid host binding address "${hb}" for option ${OPT_HOST_BINDING}`);
  return { driver, ...(hb ? { hostBindingIpv4: hb } : {}) };
}

/** User-defined bridges have the embedded DNS (the default bridge does not, as in Docker). */
export function hasDns(rec: NetworkRecord): boolean {
  return rec.driver === 'bridge' && !rec.predefined;
}

export function dnsNamesOf(container: ContainerRef, aliases: string[], rec: NetworkRecord): string[] {
  if (rec.predefined) return [];
  return uniq([container.name, ...aliases, container.id.slice(0, 12)].filter((n) => n));
}

export function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function rfc3339Nano(): string {
  const d = new Date();
  const ns = String(d.getUTCMilliseconds() * 1_000_000 + Number(process.hrtime.bigint() % 1_000_000n)).padStart(9, '0');
  return `${d.toISOString().slice(0, 19)}.${ns}Z`;
}

