// NetworkService: Docker's networks for the rest of berth. It owns the network records,
// IPAM, endpoint plumbing (through a NetworkDriver), published ports, the firewall rule set
// and one embedded DNS server per user-defined network. All mutations run under one lock;
// each is persisted before it returns, so a restarted berthd can restore() everything.
import { BerthError, KeyedMutex, conflict, invalidArgument, logger, notFound, type EventBus } from '../util/index.js';
import { BridgeDriver } from './bridge-driver.js';
import { readResolvConfUpstreams, type Upstream } from './dns-server.js';
import { DEFAULT_ADDRESS_POOLS, allocateSubnet, configFromPlan, planAddresses, readHostRoutes, type AddressPool } from './ipam.js';
import { cidrsOverlap, formatIpv4, type Cidr } from './ipv4.js';
import { isSameNetns, netnsIdentity } from './netns-identity.js';
import { EmbeddedDnsServers } from './network-dns.js';
import type { NetworkDriver } from './network-driver.js';
import {
  LIST_FILTERS,
  PRUNE_FILTERS,
  matchesListFilters,
  matchesPruneFilters,
  validateFilters,
  type FilterMap,
} from './network-filters.js';
import { renderEndpoint, renderNetwork, type EndpointSettings, type NetworkInspect } from './network-inspect.js';
import { NetworkState, dnsNamesOf, hasDns, newId, rfc3339Nano, uniq, type ContainerRef, type EndpointRequest } from './network-state.js';
import { NetworkStore } from './network-store.js';
import { allocatePorts, type PortAllocatorOptions, type PortRequest } from './ports.js';
import { DEFAULT_BRIDGE_NETWORK, predefinedRecord } from './predefined-networks.js';
import { NETWORK_RECORD_VERSION, type EndpointRecord, type NetworkRecord, type PortBinding } from './types.js';

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
  hostRoutes?: () => Promise<Cidr[]>;
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

export interface DnsSettings {
  nameservers: string[];
}

export interface AttachResult {
  /** NetworkSettings.Networks, keyed by network name. */
  networks: Record<string, EndpointSettings>;
  /** Host ports actually bound (random ones resolved). */
  ports: PortBinding[];
  /** What the container's resolv.conf should name. */
  dns: DnsSettings;
}

interface OpOpts {
  signal?: AbortSignal;
}

/** Docker's fallback when the host has no usable resolver. */
const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

export class NetworkService {
  readonly driver: NetworkDriver;
  private readonly events: EventBus;
  private readonly pools: readonly AddressPool[];
  private readonly hostRoutes: () => Promise<Cidr[]>;
  private readonly upstreams: () => Promise<Upstream[]>;
  private readonly portOpts: PortAllocatorOptions;
  private readonly mutex = new KeyedMutex();
  private readonly state: NetworkState;
  private readonly dns: EmbeddedDnsServers;

  constructor(opts: NetworkServiceOptions) {
    this.driver = opts.driver ?? new BridgeDriver({ prefix: opts.namePrefix });
    this.events = opts.events;
    this.pools = opts.addressPools ?? DEFAULT_ADDRESS_POOLS;
    this.hostRoutes = opts.hostRoutes ?? (() => readHostRoutes());
    this.upstreams = opts.dnsUpstreams ?? (() => readResolvConfUpstreams());
    this.portOpts = opts.ports ?? {};
    this.state = new NetworkState(new NetworkStore(opts.dataRoot), this.driver);
    this.dns = new EmbeddedDnsServers(this.state, opts.dnsPort ?? 53, this.upstreams);
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
      await this.ensurePredefined();
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
            await this.driver.attachEndpoint(this.state.driverNetwork(rec), dep, opts);
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
        const subnet = allocateSubnet(this.pools, [...taken, ...(await this.hostRoutes())]);
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

  // ---------------------------------------------------------------- containers

  /**
   * Before a container starts: records its memberships of `networks` and reserves their
   * addresses, so /etc/hosts and resolv.conf can be written before the namespace exists.
   * `attach` then plumbs them. Returns the reserved address and DNS server per network.
   */
  async reserve(
    container: ContainerRef,
    networks: ReadonlyArray<{ network: string; endpoint?: EndpointRequest }>,
  ): Promise<Array<{ network: string; ipv4: string; gateway: string; dns: boolean }>> {
    return this.mutex.run(STATE_LOCK, async () => {
      this.state.assertLoaded();
      const added: NetworkRecord[] = [];
      try {
        for (const n of networks) {
          const rec = this.state.resolve(n.network);
          if (rec.endpoints[container.id]) continue;
          rec.endpoints[container.id] = this.state.newEndpoint(rec, container, n.endpoint ?? {});
          added.push(rec);
        }
        for (const rec of added) await this.state.store.save(rec);
      } catch (e) {
        for (const rec of added) delete rec.endpoints[container.id];
        throw e;
      }
      return networks.map((n) => {
        const rec = this.state.resolve(n.network);
        const ep = rec.endpoints[container.id]!;
        return { network: rec.name, ipv4: ep.ipv4, gateway: rec.ipam.config[0]?.gateway ?? '', dns: hasDns(rec) };
      });
    });
  }

  /**
   * Container start: joins `networks` (kept as memberships, with their addresses, until the
   * container is removed), plumbs every membership into the namespace at `netnsPath`, and
   * publishes `ports` on the first non-internal bridge network. All or nothing.
   */
  async attach(
    container: ContainerRef,
    netnsPath: string,
    networks: ReadonlyArray<{ network: string; endpoint?: EndpointRequest }>,
    ports: readonly PortRequest[] = [],
    opts: OpOpts = {},
  ): Promise<AttachResult> {
    return this.mutex.run(STATE_LOCK, async () => {
      this.state.assertLoaded();
      if (this.state.liveEndpoints(container.id).length) throw conflict(`container ${container.id.slice(0, 12)} is already attached`);
      const joined: Array<[NetworkRecord, EndpointRecord, boolean]> = [];
      const done: Array<[NetworkRecord, EndpointRecord]> = [];
      try {
        for (const n of networks) {
          const rec = this.state.resolve(n.network);
          const existing = rec.endpoints[container.id];
          const ep = existing ?? this.state.newEndpoint(rec, container, n.endpoint ?? {});
          if (existing && n.endpoint?.aliases) {
            existing.aliases = uniq(n.endpoint.aliases);
            existing.dnsNames = dnsNamesOf(container, existing.aliases, rec);
          }
          if (existing) existing.containerName = container.name;
          rec.endpoints[container.id] = ep;
          joined.push([rec, ep, !existing]);
        }
        // Memberships recorded earlier by `connect` on a stopped container join too.
        for (const rec of this.state.networks.values()) {
          const ep = rec.endpoints[container.id];
          if (ep && !joined.some(([r]) => r.id === rec.id)) joined.push([rec, ep, false]);
        }
        const nsId = await netnsIdentity(netnsPath);
        let routed = false;
        const pubTarget = joined.find(([r]) => r.driver === 'bridge' && !r.internal);
        const bindings = pubTarget && ports.length ? await allocatePorts(ports, this.state.boundPorts(), this.portOpts) : [];
        for (const [rec, ep] of joined) {
          if (rec.driver !== 'bridge') {
            ep.live = { netnsPath, netnsDev: nsId.dev, netnsIno: nsId.ino, hostVeth: '', ifName: '', ports: [] };
            done.push([rec, ep]);
            continue;
          }
          const ifName = `eth${done.filter(([r]) => r.driver === 'bridge').length}`;
          const withRoute: boolean = !routed && !rec.internal;
          routed ||= withRoute;
          const dep = this.state.driverEndpoint(rec, ep, netnsPath, ifName, withRoute);
          await this.driver.attachEndpoint(this.state.driverNetwork(rec), dep, opts);
          ep.live = {
            netnsPath,
            netnsDev: nsId.dev,
            netnsIno: nsId.ino,
            hostVeth: dep.hostVeth,
            ifName,
            ports: pubTarget && pubTarget[1] === ep ? bindings : [],
          };
          done.push([rec, ep]);
        }
        if (bindings.length) await this.syncFirewall(opts);
        for (const [rec, , isNew] of joined) await this.state.store.save(rec, { durable: isNew });
      } catch (e) {
        await this.undoAttach(container.id, joined, done);
        throw e;
      }
      for (const [rec] of joined) {
        this.events.publish('network', 'connect', rec.id, { container: container.id, name: rec.name, type: rec.driver });
      }
      return this.attachResult(container.id);
    });
  }

  private async undoAttach(containerId: string, joined: Array<[NetworkRecord, EndpointRecord, boolean]>, done: Array<[NetworkRecord, EndpointRecord]>) {
    for (const [rec, ep] of done) {
      if (rec.driver === 'bridge' && ep.live) {
        await this.driver
          .detachEndpoint(this.state.driverNetwork(rec), this.state.driverEndpoint(rec, ep, '', ep.live.ifName, false))
          .catch((e: unknown) => log.warn('cannot undo endpoint', { error: String(e) }));
      }
      delete ep.live;
    }
    for (const [rec, , isNew] of joined) if (isNew) delete rec.endpoints[containerId];
    await this.syncFirewall().catch((e: unknown) => log.warn('cannot undo port rules', { error: String(e) }));
  }

  /** Container stop: unplumbs every endpoint and port; memberships and addresses stay. Idempotent. */
  async detach(containerId: string, opts: OpOpts = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      this.state.assertLoaded();
      const eps = this.state.liveEndpoints(containerId);
      if (!eps.length) return;
      const hadPorts = eps.some(([, ep]) => ep.live!.ports.length);
      for (const [rec, ep] of eps) delete ep.live;
      // Rules first: a port must not point at an address that another container may get.
      if (hadPorts) await this.syncFirewall(opts);
      for (const [rec, ep] of eps) {
        if (rec.driver === 'bridge') {
          await this.driver.detachEndpoint(
            this.state.driverNetwork(rec),
            { ...this.state.driverEndpoint(rec, ep, '', 'eth0', false), hostVeth: this.driver.hostVethNameFor(ep.endpointId) },
            opts,
          );
        }
        await this.state.store.save(rec, { durable: false });
        this.events.publish('network', 'disconnect', rec.id, { container: containerId, name: rec.name, type: rec.driver });
      }
    });
  }

  /** Container removal: detaches and forgets every membership (addresses go back to the pool). */
  async releaseContainer(containerId: string, opts: OpOpts = {}): Promise<void> {
    await this.detach(containerId, opts);
    await this.mutex.run(STATE_LOCK, async () => {
      for (const rec of this.state.networks.values()) {
        if (!rec.endpoints[containerId]) continue;
        delete rec.endpoints[containerId];
        await this.state.store.save(rec);
      }
    });
  }

  /** `docker network connect`: live on a running container, recorded for the next start otherwise. */
  async connect(idOrName: string, container: ContainerRef, req: EndpointRequest = {}, opts: OpOpts = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      const rec = this.state.resolve(idOrName);
      const mine = this.state.memberships(container.id);
      if (rec.endpoints[container.id]) {
        throw new BerthError('forbidden', `endpoint with name ${container.name} already exists in network ${rec.name}`);
      }
      if (rec.driver !== 'bridge' || mine.some(([r]) => r.driver !== 'bridge')) {
        throw new BerthError('forbidden', `container cannot be disconnected from host network or connected to host network`);
      }
      const ep = this.state.newEndpoint(rec, container, req);
      rec.endpoints[container.id] = ep;
      const live = mine.find(([, e]) => e.live)?.[1].live;
      try {
        if (live) {
          const used = new Set(this.state.liveEndpoints(container.id).map(([, e]) => e.live!.ifName));
          let n = 0;
          while (used.has(`eth${n}`)) n++;
          const hasRoute = this.state.liveEndpoints(container.id).some(([r]) => r.driver === 'bridge' && !r.internal);
          const dep = this.state.driverEndpoint(rec, ep, live.netnsPath, `eth${n}`, !hasRoute && !rec.internal);
          await this.driver.attachEndpoint(this.state.driverNetwork(rec), dep, opts);
          ep.live = { ...live, hostVeth: dep.hostVeth, ifName: dep.ifName, ports: [] };
        }
        await this.state.store.save(rec);
      } catch (e) {
        delete rec.endpoints[container.id];
        throw e;
      }
      this.events.publish('network', 'connect', rec.id, { container: container.id, name: rec.name, type: rec.driver });
    });
  }

  async disconnect(idOrName: string, containerId: string, opts: OpOpts & { force?: boolean } = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      const rec = this.state.resolve(idOrName);
      const ep = rec.endpoints[containerId];
      if (!ep) {
        if (opts.force) return;
        throw new BerthError('forbidden', `container ${containerId.slice(0, 12)} is not connected to network ${rec.name}`);
      }
      if (rec.driver !== 'bridge') {
        throw new BerthError('forbidden', 'container cannot be disconnected from host network or connected to host network');
      }
      const live = ep.live;
      delete rec.endpoints[containerId];
      if (live?.ports.length) await this.syncFirewall(opts);
      if (live) {
        await this.driver.detachEndpoint(this.state.driverNetwork(rec), this.state.driverEndpoint(rec, ep, '', live.ifName, false), opts);
      }
      await this.state.store.save(rec);
      this.events.publish('network', 'disconnect', rec.id, { container: containerId, name: rec.name, type: rec.driver });
    });
  }

  /** NetworkSettings.Networks of a container (all memberships; addresses only while running). */
  containerNetworks(containerId: string): Record<string, EndpointSettings> {
    const out: Record<string, EndpointSettings> = {};
    for (const [rec, ep] of this.state.memberships(containerId)) out[rec.name] = renderEndpoint(rec, ep);
    return out;
  }

  /** Host ports currently published for a container. */
  containerPorts(containerId: string): PortBinding[] {
    return this.state.liveEndpoints(containerId).flatMap(([, ep]) => ep.live!.ports);
  }

  /** Resolves a network reference the way Docker does: full id, name, then unique id prefix. */
  resolve(idOrName: string): NetworkRecord {
    return this.state.resolve(idOrName);
  }

  // ---------------------------------------------------------------- internals

  private async syncFirewall(opts: OpOpts = {}): Promise<void> {
    await this.driver.syncFirewall(this.state.firewallState(), opts);
  }

  private attachResult(containerId: string): AttachResult {
    const userNet = this.state.liveEndpoints(containerId).find(([r]) => hasDns(r));
    return {
      networks: this.containerNetworks(containerId),
      ports: this.containerPorts(containerId),
      dns: { nameservers: userNet ? [userNet[0].ipam.config[0]!.gateway] : [] },
    };
  }

  /**
   * Nameservers for a container's resolv.conf: the embedded DNS of its first user network,
   * else the host's resolvers that a container can reach (not loopback), else Docker's fallback.
   */
  async dnsSettings(containerId: string): Promise<DnsSettings> {
    const userNet = this.state.liveEndpoints(containerId).find(([r]) => hasDns(r));
    if (userNet) return { nameservers: [userNet[0].ipam.config[0]!.gateway] };
    const host = (await this.upstreams()).filter((u) => u.port === 53 && !u.host.startsWith('127.')).map((u) => u.host);
    return { nameservers: host.length ? host : FALLBACK_NAMESERVERS };
  }

  private async ensurePredefined(): Promise<void> {
    const add = async (rec: NetworkRecord) => {
      await this.state.store.save(rec);
      this.state.networks.set(rec.id, rec);
    };
    const bridgeName = (id: string) => this.driver.bridgeNameFor(id, true);
    if (!this.state.findByName('none')) await add(predefinedRecord('none', 'null', undefined, bridgeName));
    if (!this.state.findByName('host')) await add(predefinedRecord('host', 'host', undefined, bridgeName));
    if (!this.state.findByName(DEFAULT_BRIDGE_NETWORK)) {
      const subnet = allocateSubnet(this.pools, [...this.state.takenSubnets(), ...(await this.hostRoutes())]);
      await add(predefinedRecord(DEFAULT_BRIDGE_NETWORK, 'bridge', subnet, bridgeName));
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

