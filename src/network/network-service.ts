// NetworkService: Docker's networks for the rest of berth. It owns the network records,
// IPAM, endpoint plumbing (through a NetworkDriver), published ports, the firewall rule set
// and one embedded DNS server per user-defined network. All mutations run under one lock;
// each is persisted before it returns, so a restarted berthd can restore() everything.
import { BerthError, KeyedMutex, conflict, invalidArgument, logger, notFound, type EventBus } from '../util/index.js';
import { BridgeDriver } from './bridge-driver.js';
import { ContainerEndpoints, type AttachResult, type DnsSettings } from './container-endpoints.js';
import { readResolvConfUpstreams, type Upstream } from './dns-server.js';
import { DEFAULT_ADDRESS_POOLS, allocateSubnet, configFromPlan, planAddresses, readHostRoutes, type AddressPool, type HostRoute } from './ipam.js';
import { cidrsOverlap, formatCidr, formatIpv4, parseCidr, type Cidr } from './ipv4.js';
import { isSameNetns } from './netns-identity.js';
import { EmbeddedDnsServers } from './network-dns.js';
import type { DetachOptions, NetworkDriver } from './network-driver.js';
import {
  LIST_FILTERS,
  PRUNE_FILTERS,
  matchesListFilters,
  matchesPruneFilters,
  validateFilters,
  type FilterMap,
} from './network-filters.js';
import { renderNetwork, type EndpointSettings, type NetworkInspect } from './network-inspect.js';
import { NetworkState, bridgeOptionsOf, hasDns, newId, rfc3339Nano, type ContainerRef, type EndpointRequest } from './network-state.js';
import { NetworkStore } from './network-store.js';
import type { PortAllocatorOptions, PortRequest } from './ports.js';
import { DEFAULT_BRIDGE_NETWORK, predefinedRecord } from './predefined-networks.js';
import { NETWORK_RECORD_VERSION, type NetworkRecord, type PortBinding } from './types.js';

const log = logger('network');

export { DEFAULT_BRIDGE_NETWORK } from './predefined-networks.js';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const STATE_LOCK = 'state';

export interface NetworkServiceOptions {
  dataRoot: string;
  events: EventBus;
  /** Name prefix of bridges, veths and chains (default `berth`). Ignored when `driver` is given. */
  namePrefix?: string;
  driver?: NetworkDriver;
  addressPools?: readonly AddressPool[];
  /** Routes already on the host (default: `ip -j route`); new subnets avoid them. */
  hostRoutes?: () => Promise<HostRoute[]>;
  /** Resolvers for names the embedded DNS does not know (default: the host's /etc/resolv.conf). */
  dnsUpstreams?: () => Promise<Upstream[]>;
  /** Port of the embedded DNS servers (default 53); `false` disables them (unit tests). */
  dnsPort?: number | false;
  ports?: PortAllocatorOptions;
}

export type { ContainerRef, EndpointRequest } from './network-state.js';

export interface NetworkCreateRequest {
  name: string;
  driver?: string;
  internal?: boolean;
  attachable?: boolean;
  ipam?: { driver?: string; options?: Record<string, string>; config?: Array<{ subnet?: string; gateway?: string; ipRange?: string }> };
  options?: Record<string, string>;
  labels?: Record<string, string>;
}

export type { AttachResult, DnsSettings } from './container-endpoints.js';

interface OpOpts {
  signal?: AbortSignal;
}

export class NetworkService {
  readonly driver: NetworkDriver;
  private readonly events: EventBus;
  private readonly pools: readonly AddressPool[];
  private readonly hostRoutes: () => Promise<HostRoute[]>;
  private readonly upstreams: () => Promise<Upstream[]>;
  private readonly mutex = new KeyedMutex();
  private readonly state: NetworkState;
  private readonly dns: EmbeddedDnsServers;
  private readonly endpoints: ContainerEndpoints;

  constructor(opts: NetworkServiceOptions) {
    this.driver = opts.driver ?? new BridgeDriver({ prefix: opts.namePrefix });
    this.events = opts.events;
    this.pools = opts.addressPools ?? DEFAULT_ADDRESS_POOLS;
    this.hostRoutes = opts.hostRoutes ?? (() => readHostRoutes());
    this.upstreams = opts.dnsUpstreams ?? (() => readResolvConfUpstreams());
    this.state = new NetworkState(new NetworkStore(opts.dataRoot), this.driver);
    this.dns = new EmbeddedDnsServers(this.state, opts.dnsPort ?? 53, this.upstreams);
    this.endpoints = new ContainerEndpoints(this.state, {
      events: this.events,
      portOpts: opts.ports ?? {},
      upstreams: this.upstreams,
      lock: (fn) => this.mutex.run(STATE_LOCK, fn),
      syncFirewall: (o) => this.syncFirewall(o),
    });
  }

  // ---------------------------------------------------------------- start / stop

  /**
   * Daemon start: loads the records, creates the predefined networks on first start,
   * re-creates bridges and rules (after a reboot), drops endpoints whose namespace is gone
   * (after a crash) and any device of the prefix nothing refers to, and starts DNS.
   */
  async restore(opts: OpOpts = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      await this.state.store.init();
      this.state.networks.clear();
      for (const rec of await this.state.store.loadAll()) this.state.networks.set(rec.id, rec);
      this.state.loaded = true;
      // The host's routes, read at most once for both (an `ip` spawn).
      let routes: Promise<HostRoute[]> | undefined;
      const hostRoutes = () => (routes ??= this.hostRoutes());
      await this.ensurePredefined(hostRoutes);
      await this.avoidRouteClashes(hostRoutes);
      const present = new Set((await this.driver.listResources(opts)).hostVeths);
      for (const rec of this.state.networks.values()) {
        const isBridge = rec.driver === 'bridge';
        if (isBridge) await this.driver.ensureNetwork(this.state.driverNetwork(rec), opts);
        let changed = false;
        for (const ep of Object.values(rec.endpoints)) {
          if (!ep.live) continue;
          if (await isSameNetns(ep.live.netnsPath, ep.live.netnsDev, ep.live.netnsIno)) {
            if (!isBridge || present.has(ep.live.hostVeth)) continue;
            // The namespace survived but lost its link (bridge removed by hand, cleanupAll): re-plumb.
            const route = !rec.internal && ep.live.ifName === 'eth0';
            const dep = this.state.driverEndpoint(rec, ep, ep.live.netnsPath, ep.live.ifName, route);
            await this.state.attachEndpoint(rec, dep, opts);
            continue;
          }
          if (isBridge) {
            await this.driver.detachEndpoint(this.state.driverNetwork(rec), this.state.driverEndpoint(rec, ep, '', ep.live.ifName, false), opts);
          }
          delete ep.live;
          changed = true;
        }
        if (changed) await this.state.store.save(rec);
      }
      await this.sweepOrphans(opts);
      await this.syncFirewall(opts);
      for (const rec of this.state.networks.values()) if (hasDns(rec)) await this.dns.start(rec);
    });
  }

  /**
   * Daemon shutdown: stops DNS listeners. While containers run, their bridges, endpoints and
   * rules stay (they outlive berthd); with none running, the host is left clean and the next
   * restore() re-creates bridges and rules.
   */
  async close(opts: OpOpts = {}): Promise<void> {
    await this.dns.stopAll();
    if (!this.state.loaded) return;
    await this.mutex.run(STATE_LOCK, async () => {
      const anyLive = [...this.state.networks.values()].some((r) => Object.values(r.endpoints).some((e) => e.live));
      if (!anyLive) await this.driver.cleanupAll(opts);
    });
  }

  /** Removes every device, rule and DNS listener of the prefix (tests, uninstall). Records stay. */
  async cleanupAll(opts: OpOpts = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      await this.dns.stopAll();
      await this.driver.cleanupAll(opts);
    });
  }

  // ---------------------------------------------------------------- networks

  async create(req: NetworkCreateRequest, opts: OpOpts = {}): Promise<{ id: string; warning: string }> {
    return this.mutex.run(STATE_LOCK, async () => {
      this.state.assertLoaded();
      if (!NAME_RE.test(req.name)) {
        throw invalidArgument(`invalid network name "${req.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      }
      const driver = req.driver || 'bridge';
      if (driver === 'host' || driver === 'null') {
        throw new BerthError('forbidden', `only one instance of "${driver}" network is allowed`);
      }
      if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
      if (this.state.findByName(req.name)) throw conflict(`network with name ${req.name} already exists`);
      bridgeOptionsOf(req.options ?? {});
      const ipamDriver = req.ipam?.driver || 'default';
      if (ipamDriver !== 'default') throw notFound(`plugin "${ipamDriver}" not found`);
      const userCfg = (req.ipam?.config ?? []).filter((c) => c.subnet || c.gateway || c.ipRange);
      if (userCfg.length > 1) throw invalidArgument('only one IPv4 subnet per network is supported');
      const taken = this.state.takenSubnets();
      const cfg = userCfg[0];
      let plan;
      if (cfg?.subnet) {
        plan = planAddresses({ subnet: cfg.subnet, gateway: cfg.gateway || undefined, ipRange: cfg.ipRange || undefined });
        const clash = taken.find((t) => cidrsOverlap(t, plan!.subnet));
        if (clash) throw new BerthError('forbidden', 'invalid pool request: Pool overlaps with other one on this address space');
      } else {
        if (cfg?.gateway || cfg?.ipRange) throw invalidArgument('a gateway or ip range needs a subnet');
        const subnet = allocateSubnet(this.pools, [...taken, ...(await this.hostRoutes()).map((r) => r.cidr)]);
        plan = planAddresses({ subnet: `${formatIpv4(subnet.base)}/${subnet.prefixLen}` });
      }
      const id = newId();
      const rec: NetworkRecord = {
        version: NETWORK_RECORD_VERSION,
        id,
        name: req.name,
        driver: 'bridge',
        created: rfc3339Nano(),
        internal: !!req.internal,
        attachable: !!req.attachable,
        predefined: false,
        userSubnet: !!cfg?.subnet,
        ipam: { driver: ipamDriver, options: req.ipam?.options ?? {}, config: [configFromPlan(plan, !!cfg?.ipRange)] },
        options: req.options ?? {},
        labels: req.labels ?? {},
        bridgeName: this.driver.bridgeNameFor(id, false),
        endpoints: {},
      };
      await this.driver.ensureNetwork(this.state.driverNetwork(rec), opts);
      try {
        this.state.networks.set(id, rec);
        await this.syncFirewall(opts);
        if (hasDns(rec)) await this.dns.start(rec);
        await this.state.store.save(rec);
      } catch (e) {
        this.state.networks.delete(id);
        await this.dns.stop(id);
        await this.driver.removeNetwork(this.state.driverNetwork(rec)).catch((e2: unknown) => log.warn('cannot undo network create', { error: String(e2) }));
        await this.syncFirewall().catch((e2: unknown) => log.warn('cannot undo network rules', { error: String(e2) }));
        throw e;
      }
      this.events.publish('network', 'create', id, { name: rec.name, type: rec.driver });
      return { id, warning: '' };
    });
  }

  async list(filters: FilterMap = {}): Promise<NetworkInspect[]> {
    this.state.assertLoaded();
    validateFilters(filters, LIST_FILTERS);
    return [...this.state.networks.values()]
      .filter((r) => matchesListFilters(r, filters))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((r) => renderNetwork(r, { withContainers: false }));
  }

  async inspect(idOrName: string): Promise<NetworkInspect> {
    return renderNetwork(this.state.resolve(idOrName), { withContainers: true });
  }

  async remove(idOrName: string, opts: OpOpts = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      const rec = this.state.resolve(idOrName);
      if (rec.predefined) throw new BerthError('forbidden', `${rec.name} is a pre-defined network and cannot be removed`);
      await this.removeLocked(rec, opts);
    });
  }

  async prune(filters: FilterMap = {}, opts: OpOpts = {}): Promise<{ NetworksDeleted: string[] }> {
    validateFilters(filters, PRUNE_FILTERS);
    return this.mutex.run(STATE_LOCK, async () => {
      this.state.assertLoaded();
      const deleted: string[] = [];
      for (const rec of [...this.state.networks.values()]) {
        if (rec.predefined || Object.keys(rec.endpoints).length > 0) continue;
        if (!matchesPruneFilters(rec, filters)) continue;
        await this.removeLocked(rec, opts);
        deleted.push(rec.name);
      }
      return { NetworksDeleted: deleted.sort() };
    });
  }

  private async removeLocked(rec: NetworkRecord, opts: OpOpts): Promise<void> {
    const active = Object.values(rec.endpoints).filter((e) => e.live);
    if (active.length) {
      const list = active.map((e) => `name:"${e.containerName}" id:"${e.containerId.slice(0, 12)}"`).join(', ');
      throw new BerthError('forbidden', `error while removing network: network ${rec.name} has active endpoints (${list})`);
    }
    await this.dns.stop(rec.id);
    this.state.networks.delete(rec.id);
    await this.syncFirewall(opts);
    if (rec.driver === 'bridge') await this.driver.removeNetwork(this.state.driverNetwork(rec), opts);
    await this.state.store.remove(rec.id);
    this.events.publish('network', 'destroy', rec.id, { name: rec.name, type: rec.driver });
  }

  // ---------------------------------------------------------------- containers (see container-endpoints.ts)

  reserve(container: ContainerRef, networks: ReadonlyArray<{ network: string; endpoint?: EndpointRequest }>) {
    return this.endpoints.reserve(container, networks);
  }
  attach(
    container: ContainerRef,
    netnsPath: string,
    networks: ReadonlyArray<{ network: string; endpoint?: EndpointRequest }>,
    ports: readonly PortRequest[] = [],
    opts: OpOpts = {},
  ): Promise<AttachResult> {
    return this.endpoints.attach(container, netnsPath, networks, ports, opts);
  }
  detach(containerId: string, opts: DetachOptions = {}): Promise<void> {
    return this.endpoints.detach(containerId, opts);
  }
  releaseContainer(containerId: string, opts: OpOpts = {}): Promise<void> {
    return this.endpoints.releaseContainer(containerId, opts);
  }
  connect(idOrName: string, container: ContainerRef, req: EndpointRequest = {}, opts: OpOpts = {}): Promise<void> {
    return this.endpoints.connect(idOrName, container, req, opts);
  }
  disconnect(idOrName: string, containerId: string, opts: OpOpts & { force?: boolean } = {}): Promise<void> {
    return this.endpoints.disconnect(idOrName, containerId, opts);
  }
  containerNetworks(containerId: string): Record<string, EndpointSettings> {
    return this.endpoints.containerNetworks(containerId);
  }
  containerPorts(containerId: string): PortBinding[] {
    return this.endpoints.containerPorts(containerId);
  }
  dnsSettings(containerId: string): Promise<DnsSettings> {
    return this.endpoints.dnsSettings(containerId);
  }

  /** The default bridge's gateway address: dockerd's default for `host-gateway` (`--host-gateway-ip`). */
  hostGateway(): string | undefined {
    return this.state.findByName(DEFAULT_BRIDGE_NETWORK)?.ipam.config[0]?.gateway;
  }

  /** Resolves a network reference the way Docker does: full id, name, then unique id prefix. */
  resolve(idOrName: string): NetworkRecord {
    return this.state.resolve(idOrName);
  }

  // ---------------------------------------------------------------- internals

  private async syncFirewall(opts: OpOpts = {}): Promise<void> {
    await this.driver.syncFirewall(this.state.firewallState(), opts);
  }

  private async ensurePredefined(hostRoutes: () => Promise<HostRoute[]>): Promise<void> {
    const add = async (rec: NetworkRecord) => {
      await this.state.store.save(rec);
      this.state.networks.set(rec.id, rec);
    };
    const bridgeName = (id: string) => this.driver.bridgeNameFor(id, true);
    if (!this.state.findByName('none')) await add(predefinedRecord('none', 'null', undefined, bridgeName));
    if (!this.state.findByName('host')) await add(predefinedRecord('host', 'host', undefined, bridgeName));
    if (!this.state.findByName(DEFAULT_BRIDGE_NETWORK)) {
      const subnet = allocateSubnet(this.pools, [...this.state.takenSubnets(), ...(await hostRoutes()).map((r) => r.cidr)]);
      await add(predefinedRecord(DEFAULT_BRIDGE_NETWORK, 'bridge', subnet, bridgeName));
    }
  }

  /**
   * A bridge network whose subnet another device routes now (made while this daemon was down
   * and, with no container running, had taken its bridges away: another engine's bridge, a
   * leaked test daemon's) would leave its containers unreachable. One whose subnet berth picked
   * and that nothing is connected to moves to a free subnet, as its first start would have
   * picked; any other stays and is reported.
   */
  private async avoidRouteClashes(hostRoutes: () => Promise<HostRoute[]>): Promise<void> {
    const bridges = [...this.state.networks.values()].filter((r) => r.driver === 'bridge' && r.ipam.config.length > 0);
    if (!bridges.length) return;
    const routes = await hostRoutes();
    for (const rec of bridges) {
      const subnet = parseCidr(rec.ipam.config[0]!.subnet);
      // A broader route (a VPN's 10.0.0.0/8) loses to the bridge's own, more specific one.
      const clash = routes.find((r) => r.dev !== rec.bridgeName && r.cidr.prefixLen >= subnet.prefixLen && cidrsOverlap(r.cidr, subnet));
      if (!clash) continue;
      const what = { network: rec.name, subnet: formatCidr(subnet), route: formatCidr(clash.cidr), device: clash.dev ?? '' };
      if (rec.userSubnet || Object.keys(rec.endpoints).length > 0) {
        log.warn('a host route overlaps this network\'s subnet: its containers may not be reachable', what);
        continue;
      }
      const others = this.state.takenSubnets().filter((s) => !cidrsOverlap(s, subnet));
      let moved: Cidr;
      try {
        moved = allocateSubnet(this.pools, [...others, ...routes.map((r) => r.cidr)]);
      } catch {
        log.warn('a host route overlaps this network\'s subnet and no free subnet is left: its containers may not be reachable', what);
        continue;
      }
      rec.ipam.config = [configFromPlan(planAddresses({ subnet: formatCidr(moved) }), false)];
      await this.state.store.save(rec);
      log.warn('a host route overlaps this network\'s subnet: moved to a free one', { ...what, movedTo: formatCidr(moved) });
    }
  }

  /** Devices with the prefix that no record refers to: leftovers of a crash or a lost record. */
  private async sweepOrphans(opts: OpOpts): Promise<void> {
    const res = await this.driver.listResources(opts);
    const bridges = new Set<string>();
    const veths = new Set<string>();
    for (const rec of this.state.networks.values()) {
      if (rec.bridgeName) bridges.add(rec.bridgeName);
      for (const ep of Object.values(rec.endpoints)) if (ep.live?.hostVeth) veths.add(ep.live.hostVeth);
    }
    for (const v of res.hostVeths) {
      if (veths.has(v)) continue;
      log.info('removing orphaned veth', { veth: v });
      await this.driver.detachEndpoint(
        { id: '', bridgeName: '', subnet: '0.0.0.0/0', gateway: '', internal: false },
        { endpointId: '', netnsPath: '', ifName: '', hostVeth: v, ipv4: '', prefixLen: 0, mac: '' },
        opts,
      );
    }
    for (const b of res.bridges) {
      if (bridges.has(b)) continue;
      log.info('removing orphaned bridge', { bridge: b });
      await this.driver.removeNetwork({ id: '', bridgeName: b, subnet: '0.0.0.0/0', gateway: '', internal: false }, opts);
    }
  }
}

