// NetworkService: Docker's networks for the rest of berth. It owns the network records,
// IPAM, endpoint plumbing (through a NetworkDriver), published ports, the firewall rule set
// and one embedded DNS server per user-defined network. All mutations run under one lock;
// each is persisted before it returns, so a restarted berthd can restore() everything.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import {
  BerthError,
  KeyedMutex,
  conflict,
  invalidArgument,
  logger,
  notFound,
  type EventBus,
} from '../util/index.js';
import { BridgeDriver } from './bridge-driver.js';
import { DnsServer, readResolvConfUpstreams, type Upstream } from './dns-server.js';
import {
  DEFAULT_ADDRESS_POOLS,
  allocateAddress,
  allocateSubnet,
  configFromPlan,
  planAddresses,
  planFromConfig,
  readHostRoutes,
  type AddressPool,
} from './ipam.js';
import { formatIpv4, macForIpv4, parseCidr, parseIpv4, type Cidr } from './ipv4.js';
import type { DriverEndpoint, DriverNetwork, FirewallState, NetworkDriver } from './network-driver.js';
import {
  LIST_FILTERS,
  PRUNE_FILTERS,
  matchesListFilters,
  matchesPruneFilters,
  validateFilters,
  type FilterMap,
} from './network-filters.js';
import { prefixLenOf, renderEndpoint, renderNetwork, type EndpointSettings, type NetworkInspect } from './network-inspect.js';
import { NetworkStore } from './network-store.js';
import { allocatePorts, type PortAllocatorOptions, type PortRequest } from './ports.js';
import { NETWORK_RECORD_VERSION, type EndpointRecord, type NetworkRecord, type PortBinding } from './types.js';

const log = logger('network');

export const DEFAULT_BRIDGE_NETWORK = 'bridge';
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

export interface ContainerRef {
  id: string;
  /** Without the leading slash. */
  name: string;
}

export interface EndpointRequest {
  aliases?: string[];
  /** `--ip` */
  ipv4Address?: string;
}

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
  private readonly store: NetworkStore;
  private readonly events: EventBus;
  private readonly pools: readonly AddressPool[];
  private readonly hostRoutes: () => Promise<Cidr[]>;
  private readonly upstreams: () => Promise<Upstream[]>;
  private readonly dnsPort: number | false;
  private readonly portOpts: PortAllocatorOptions;
  private readonly mutex = new KeyedMutex();
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly dns = new Map<string, DnsServer>();
  private loaded = false;

  constructor(opts: NetworkServiceOptions) {
    this.driver = opts.driver ?? new BridgeDriver({ prefix: opts.namePrefix });
    this.store = new NetworkStore(opts.dataRoot);
    this.events = opts.events;
    this.pools = opts.addressPools ?? DEFAULT_ADDRESS_POOLS;
    this.hostRoutes = opts.hostRoutes ?? (() => readHostRoutes());
    this.upstreams = opts.dnsUpstreams ?? (() => readResolvConfUpstreams());
    this.dnsPort = opts.dnsPort ?? 53;
    this.portOpts = opts.ports ?? {};
  }

  // ---------------------------------------------------------------- start / stop

  /**
   * Daemon start: loads the records, creates the predefined networks on first start,
   * re-creates bridges and rules (after a reboot), drops endpoints whose namespace is gone
   * (after a crash) and any device of the prefix nothing refers to, and starts DNS.
   */
  async restore(opts: OpOpts = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      await this.store.init();
      this.networks.clear();
      for (const rec of await this.store.loadAll()) this.networks.set(rec.id, rec);
      this.loaded = true;
      await this.ensurePredefined(opts);
      const present = new Set((await this.driver.listResources(opts)).hostVeths);
      for (const rec of this.networks.values()) {
        const isBridge = rec.driver === 'bridge';
        if (isBridge) await this.driver.ensureNetwork(this.driverNetwork(rec), opts);
        let changed = false;
        for (const ep of Object.values(rec.endpoints)) {
          if (!ep.live) continue;
          if (await isSameNetns(ep.live.netnsPath, ep.live.netnsDev, ep.live.netnsIno)) {
            if (!isBridge || present.has(ep.live.hostVeth)) continue;
            // The namespace survived but lost its link (bridge removed by hand, cleanupAll): re-plumb.
            const route = !rec.internal && ep.live.ifName === 'eth0';
            const dep = this.driverEndpoint(rec, ep, ep.live.netnsPath, ep.live.ifName, route);
            await this.driver.attachEndpoint(this.driverNetwork(rec), dep, opts);
            continue;
          }
          if (isBridge) {
            await this.driver.detachEndpoint(this.driverNetwork(rec), this.driverEndpoint(rec, ep, '', ep.live.ifName, false), opts);
          }
          delete ep.live;
          changed = true;
        }
        if (changed) await this.store.save(rec);
      }
      await this.sweepOrphans(opts);
      await this.syncFirewall(opts);
      for (const rec of this.networks.values()) if (this.hasDns(rec)) await this.startDns(rec);
    });
  }

  /**
   * Daemon shutdown: stops DNS listeners. While containers run, their bridges, endpoints and
   * rules stay (they outlive berthd); with none running, the host is left clean and the next
   * restore() re-creates bridges and rules.
   */
  async close(opts: OpOpts = {}): Promise<void> {
    await this.stopAllDns();
    if (!this.loaded) return;
    await this.mutex.run(STATE_LOCK, async () => {
      const anyLive = [...this.networks.values()].some((r) => Object.values(r.endpoints).some((e) => e.live));
      if (!anyLive) await this.driver.cleanupAll(opts);
    });
  }

  private async stopAllDns(): Promise<void> {
    await Promise.all([...this.dns.values()].map((s) => s.close()));
    this.dns.clear();
  }

  /** Removes every device, rule and DNS listener of the prefix (tests, uninstall). Records stay. */
  async cleanupAll(opts: OpOpts = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      await this.stopAllDns();
      await this.driver.cleanupAll(opts);
    });
  }

  // ---------------------------------------------------------------- networks

  async create(req: NetworkCreateRequest, opts: OpOpts = {}): Promise<{ id: string; warning: string }> {
    return this.mutex.run(STATE_LOCK, async () => {
      this.assertLoaded();
      if (!NAME_RE.test(req.name)) {
        throw invalidArgument(`invalid network name "${req.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      }
      const driver = req.driver || 'bridge';
      if (driver === 'host' || driver === 'null') {
        throw new BerthError('forbidden', `only one instance of "${driver}" network is allowed`);
      }
      if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
      if (this.findByName(req.name)) throw conflict(`network with name ${req.name} already exists`);
      const ipamDriver = req.ipam?.driver || 'default';
      if (ipamDriver !== 'default') throw notFound(`plugin "${ipamDriver}" not found`);
      const userCfg = (req.ipam?.config ?? []).filter((c) => c.subnet || c.gateway || c.ipRange);
      if (userCfg.length > 1) throw invalidArgument('only one IPv4 subnet per network is supported');
      const taken = this.takenSubnets();
      const cfg = userCfg[0];
      let plan;
      if (cfg?.subnet) {
        plan = planAddresses({ subnet: cfg.subnet, gateway: cfg.gateway || undefined, ipRange: cfg.ipRange || undefined });
        const clash = taken.find((t) => overlaps(t, plan!.subnet));
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
      await this.driver.ensureNetwork(this.driverNetwork(rec), opts);
      try {
        this.networks.set(id, rec);
        await this.syncFirewall(opts);
        if (this.hasDns(rec)) await this.startDns(rec);
        await this.store.save(rec);
      } catch (e) {
        this.networks.delete(id);
        await this.stopDns(id);
        await this.driver.removeNetwork(this.driverNetwork(rec)).catch((e2: unknown) => log.warn('cannot undo network create', { error: String(e2) }));
        await this.syncFirewall().catch((e2: unknown) => log.warn('cannot undo network rules', { error: String(e2) }));
        throw e;
      }
      this.events.publish('network', 'create', id, { name: rec.name, type: rec.driver });
      return { id, warning: '' };
    });
  }

  async list(filters: FilterMap = {}): Promise<NetworkInspect[]> {
    this.assertLoaded();
    validateFilters(filters, LIST_FILTERS);
    return [...this.networks.values()]
      .filter((r) => matchesListFilters(r, filters))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((r) => renderNetwork(r, { withContainers: false }));
  }

  async inspect(idOrName: string): Promise<NetworkInspect> {
    return renderNetwork(this.resolve(idOrName), { withContainers: true });
  }

  async remove(idOrName: string, opts: OpOpts = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      const rec = this.resolve(idOrName);
      if (rec.predefined) throw new BerthError('forbidden', `${rec.name} is a pre-defined network and cannot be removed`);
      await this.removeLocked(rec, opts);
    });
  }

  async prune(filters: FilterMap = {}, opts: OpOpts = {}): Promise<{ NetworksDeleted: string[] }> {
    validateFilters(filters, PRUNE_FILTERS);
    return this.mutex.run(STATE_LOCK, async () => {
      this.assertLoaded();
      const deleted: string[] = [];
      for (const rec of [...this.networks.values()]) {
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
    await this.stopDns(rec.id);
    this.networks.delete(rec.id);
    await this.syncFirewall(opts);
    if (rec.driver === 'bridge') await this.driver.removeNetwork(this.driverNetwork(rec), opts);
    await this.store.remove(rec.id);
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
      this.assertLoaded();
      const added: NetworkRecord[] = [];
      try {
        for (const n of networks) {
          const rec = this.resolve(n.network);
          if (rec.endpoints[container.id]) continue;
          rec.endpoints[container.id] = this.newEndpoint(rec, container, n.endpoint ?? {});
          added.push(rec);
        }
        for (const rec of added) await this.store.save(rec);
      } catch (e) {
        for (const rec of added) delete rec.endpoints[container.id];
        throw e;
      }
      return networks.map((n) => {
        const rec = this.resolve(n.network);
        const ep = rec.endpoints[container.id]!;
        return { network: rec.name, ipv4: ep.ipv4, gateway: rec.ipam.config[0]?.gateway ?? '', dns: this.hasDns(rec) };
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
      this.assertLoaded();
      if (this.liveEndpoints(container.id).length) throw conflict(`container ${container.id.slice(0, 12)} is already attached`);
      const joined: Array<[NetworkRecord, EndpointRecord, boolean]> = [];
      const done: Array<[NetworkRecord, EndpointRecord]> = [];
      try {
        for (const n of networks) {
          const rec = this.resolve(n.network);
          const existing = rec.endpoints[container.id];
          const ep = existing ?? this.newEndpoint(rec, container, n.endpoint ?? {});
          if (existing && n.endpoint?.aliases) {
            existing.aliases = uniq(n.endpoint.aliases);
            existing.dnsNames = dnsNamesOf(container, existing.aliases, rec);
          }
          if (existing) existing.containerName = container.name;
          rec.endpoints[container.id] = ep;
          joined.push([rec, ep, !existing]);
        }
        // Memberships recorded earlier by `connect` on a stopped container join too.
        for (const rec of this.networks.values()) {
          const ep = rec.endpoints[container.id];
          if (ep && !joined.some(([r]) => r.id === rec.id)) joined.push([rec, ep, false]);
        }
        const nsId = await netnsIdentity(netnsPath);
        let routed = false;
        const pubTarget = joined.find(([r]) => r.driver === 'bridge' && !r.internal);
        const bindings = pubTarget && ports.length ? await allocatePorts(ports, this.boundPorts(), this.portOpts) : [];
        for (const [rec, ep] of joined) {
          if (rec.driver !== 'bridge') {
            ep.live = { netnsPath, netnsDev: nsId.dev, netnsIno: nsId.ino, hostVeth: '', ifName: '', ports: [] };
            done.push([rec, ep]);
            continue;
          }
          const ifName = `eth${done.filter(([r]) => r.driver === 'bridge').length}`;
          const withRoute: boolean = !routed && !rec.internal;
          routed ||= withRoute;
          const dep = this.driverEndpoint(rec, ep, netnsPath, ifName, withRoute);
          await this.driver.attachEndpoint(this.driverNetwork(rec), dep, opts);
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
        for (const [rec, , isNew] of joined) await this.store.save(rec, { durable: isNew });
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
          .detachEndpoint(this.driverNetwork(rec), this.driverEndpoint(rec, ep, '', ep.live.ifName, false))
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
      this.assertLoaded();
      const eps = this.liveEndpoints(containerId);
      if (!eps.length) return;
      const hadPorts = eps.some(([, ep]) => ep.live!.ports.length);
      for (const [rec, ep] of eps) delete ep.live;
      // Rules first: a port must not point at an address that another container may get.
      if (hadPorts) await this.syncFirewall(opts);
      for (const [rec, ep] of eps) {
        if (rec.driver === 'bridge') {
          await this.driver.detachEndpoint(
            this.driverNetwork(rec),
            { ...this.driverEndpoint(rec, ep, '', 'eth0', false), hostVeth: this.driver.hostVethNameFor(ep.endpointId) },
            opts,
          );
        }
        await this.store.save(rec, { durable: false });
        this.events.publish('network', 'disconnect', rec.id, { container: containerId, name: rec.name, type: rec.driver });
      }
    });
  }

  /** Container removal: detaches and forgets every membership (addresses go back to the pool). */
  async releaseContainer(containerId: string, opts: OpOpts = {}): Promise<void> {
    await this.detach(containerId, opts);
    await this.mutex.run(STATE_LOCK, async () => {
      for (const rec of this.networks.values()) {
        if (!rec.endpoints[containerId]) continue;
        delete rec.endpoints[containerId];
        await this.store.save(rec);
      }
    });
  }

  /** `docker network connect`: live on a running container, recorded for the next start otherwise. */
  async connect(idOrName: string, container: ContainerRef, req: EndpointRequest = {}, opts: OpOpts = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      const rec = this.resolve(idOrName);
      const mine = this.memberships(container.id);
      if (rec.endpoints[container.id]) {
        throw new BerthError('forbidden', `endpoint with name ${container.name} already exists in network ${rec.name}`);
      }
      if (rec.driver !== 'bridge' || mine.some(([r]) => r.driver !== 'bridge')) {
        throw new BerthError('forbidden', `container cannot be disconnected from host network or connected to host network`);
      }
      const ep = this.newEndpoint(rec, container, req);
      rec.endpoints[container.id] = ep;
      const live = mine.find(([, e]) => e.live)?.[1].live;
      try {
        if (live) {
          const used = new Set(this.liveEndpoints(container.id).map(([, e]) => e.live!.ifName));
          let n = 0;
          while (used.has(`eth${n}`)) n++;
          const hasRoute = this.liveEndpoints(container.id).some(([r]) => r.driver === 'bridge' && !r.internal);
          const dep = this.driverEndpoint(rec, ep, live.netnsPath, `eth${n}`, !hasRoute && !rec.internal);
          await this.driver.attachEndpoint(this.driverNetwork(rec), dep, opts);
          ep.live = { ...live, hostVeth: dep.hostVeth, ifName: dep.ifName, ports: [] };
        }
        await this.store.save(rec);
      } catch (e) {
        delete rec.endpoints[container.id];
        throw e;
      }
      this.events.publish('network', 'connect', rec.id, { container: container.id, name: rec.name, type: rec.driver });
    });
  }

  async disconnect(idOrName: string, containerId: string, opts: OpOpts & { force?: boolean } = {}): Promise<void> {
    await this.mutex.run(STATE_LOCK, async () => {
      const rec = this.resolve(idOrName);
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
        await this.driver.detachEndpoint(this.driverNetwork(rec), this.driverEndpoint(rec, ep, '', live.ifName, false), opts);
      }
      await this.store.save(rec);
      this.events.publish('network', 'disconnect', rec.id, { container: containerId, name: rec.name, type: rec.driver });
    });
  }

  /** NetworkSettings.Networks of a container (all memberships; addresses only while running). */
  containerNetworks(containerId: string): Record<string, EndpointSettings> {
    const out: Record<string, EndpointSettings> = {};
    for (const [rec, ep] of this.memberships(containerId)) out[rec.name] = renderEndpoint(rec, ep);
    return out;
  }

  /** Host ports currently published for a container. */
  containerPorts(containerId: string): PortBinding[] {
    return this.liveEndpoints(containerId).flatMap(([, ep]) => ep.live!.ports);
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

  // ---------------------------------------------------------------- internals

  private assertLoaded(): void {
    if (!this.loaded) throw new BerthError('unavailable', 'network service is not restored yet');
  }

  private findByName(name: string): NetworkRecord | undefined {
    for (const r of this.networks.values()) if (r.name === name) return r;
    return undefined;
  }

  private memberships(containerId: string): Array<[NetworkRecord, EndpointRecord]> {
    const out: Array<[NetworkRecord, EndpointRecord]> = [];
    for (const rec of this.networks.values()) {
      const ep = rec.endpoints[containerId];
      if (ep) out.push([rec, ep]);
    }
    return out;
  }

  private liveEndpoints(containerId: string): Array<[NetworkRecord, EndpointRecord]> {
    return this.memberships(containerId).filter(([, ep]) => ep.live);
  }

  private boundPorts(): PortBinding[] {
    const out: PortBinding[] = [];
    for (const rec of this.networks.values()) for (const ep of Object.values(rec.endpoints)) out.push(...(ep.live?.ports ?? []));
    return out;
  }

  private takenSubnets(): Cidr[] {
    return [...this.networks.values()].flatMap((r) => r.ipam.config.map((c) => parseCidr(c.subnet)));
  }

  private newEndpoint(rec: NetworkRecord, container: ContainerRef, req: EndpointRequest): EndpointRecord {
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
    };
  }

  private driverNetwork(rec: NetworkRecord): DriverNetwork {
    const c = rec.ipam.config[0]!;
    return { id: rec.id, bridgeName: rec.bridgeName!, subnet: c.subnet, gateway: c.gateway, internal: rec.internal };
  }

  private driverEndpoint(rec: NetworkRecord, ep: EndpointRecord, netnsPath: string, ifName: string, withRoute: boolean): DriverEndpoint {
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

  private firewallState(): FirewallState {
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

  private async syncFirewall(opts: OpOpts = {}): Promise<void> {
    await this.driver.syncFirewall(this.firewallState(), opts);
  }

  private attachResult(containerId: string): AttachResult {
    const userNet = this.liveEndpoints(containerId).find(([r]) => this.hasDns(r));
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
    const userNet = this.liveEndpoints(containerId).find(([r]) => this.hasDns(r));
    if (userNet) return { nameservers: [userNet[0].ipam.config[0]!.gateway] };
    const host = (await this.upstreams()).filter((u) => u.port === 53 && !u.host.startsWith('127.')).map((u) => u.host);
    return { nameservers: host.length ? host : FALLBACK_NAMESERVERS };
  }

  /** User-defined bridges have the embedded DNS (the default bridge does not, as in Docker). */
  private hasDns(rec: NetworkRecord): boolean {
    return rec.driver === 'bridge' && !rec.predefined;
  }

  private async startDns(rec: NetworkRecord): Promise<void> {
    if (this.dns.has(rec.id) || this.dnsPort === false) return;
    const gateway = rec.ipam.config[0]!.gateway;
    const server = new DnsServer({
      address: gateway,
      port: this.dnsPort,
      upstreams: this.upstreams,
      source: {
        forward: !rec.internal,
        lookup: (name, clientIp) => this.lookupName(rec, name, clientIp),
        reverse: (ip) => this.reverseName(rec, ip),
      },
    });
    try {
      await server.listen();
    } catch (e) {
      // Another server holds port 53 on all addresses (e.g. a dnsmasq on 0.0.0.0): the network
      // still works, only names do not resolve. Say so loudly rather than refuse the network.
      log.error('embedded DNS cannot listen; containers on this network will not resolve names', {
        network: rec.name,
        address: `${gateway}:${this.dnsPort}`,
        error: String(e),
      });
      return;
    }
    this.dns.set(rec.id, server);
  }

  private async stopDns(networkId: string): Promise<void> {
    const s = this.dns.get(networkId);
    this.dns.delete(networkId);
    await s?.close();
  }

  /**
   * Addresses for `name` as the querying container sees them: on this network, then on
   * every other network the querier is live on (Docker resolves across shared networks).
   */
  private lookupName(rec: NetworkRecord, name: string, clientIp: string | undefined): string[] {
    const querier = clientIp ? Object.values(rec.endpoints).find((e) => e.live && e.ipv4 === clientIp) : undefined;
    const nets = [rec, ...(querier ? this.liveEndpoints(querier.containerId).map(([r]) => r).filter((r) => r !== rec && this.hasDns(r)) : [])];
    const out: string[] = [];
    for (const n of nets) {
      for (const ep of Object.values(n.endpoints)) {
        if (ep.live && ep.dnsNames.some((d) => d.toLowerCase() === name) && !out.includes(ep.ipv4)) out.push(ep.ipv4);
      }
    }
    return out;
  }

  private reverseName(rec: NetworkRecord, ip: string): string | undefined {
    const ep = Object.values(rec.endpoints).find((e) => e.live && e.ipv4 === ip);
    return ep ? `${ep.containerName}.${rec.name}` : undefined;
  }

  private async ensurePredefined(opts: OpOpts): Promise<void> {
    if (!this.findByName('none')) await this.savePredefined('none', 'null', undefined, opts);
    if (!this.findByName('host')) await this.savePredefined('host', 'host', undefined, opts);
    if (!this.findByName(DEFAULT_BRIDGE_NETWORK)) {
      const routes = await this.hostRoutes();
      const subnet = allocateSubnet(this.pools, [...this.takenSubnets(), ...routes]);
      await this.savePredefined(DEFAULT_BRIDGE_NETWORK, 'bridge', subnet, opts);
    }
  }

  private async savePredefined(name: string, driver: 'bridge' | 'host' | 'null', subnet: Cidr | undefined, _opts: OpOpts) {
    const id = newId();
    const isBridge = driver === 'bridge';
    const plan = subnet ? planAddresses({ subnet: `${formatIpv4(subnet.base)}/${subnet.prefixLen}` }) : undefined;
    const bridgeName = isBridge ? this.driver.bridgeNameFor(id, true) : undefined;
    const rec: NetworkRecord = {
      version: NETWORK_RECORD_VERSION,
      id,
      name,
      driver,
      created: rfc3339Nano(),
      internal: false,
      attachable: false,
      predefined: true,
      userSubnet: false,
      ipam: { driver: 'default', options: {}, config: plan ? [configFromPlan(plan, false)] : [] },
      options: isBridge
        ? {
            'com.docker.network.bridge.default_bridge': 'true',
            'com.docker.network.bridge.enable_icc': 'true',
            'com.docker.network.bridge.enable_ip_masquerade': 'true',
            'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
            'com.docker.network.bridge.name': bridgeName!,
            'com.docker.network.driver.mtu': '1500',
          }
        : {},
      labels: {},
      bridgeName,
      endpoints: {},
    };
    await this.store.save(rec);
    this.networks.set(id, rec);
  }

  /** Devices with the prefix that no record refers to: leftovers of a crash or a lost record. */
  private async sweepOrphans(opts: OpOpts): Promise<void> {
    const res = await this.driver.listResources(opts);
    const bridges = new Set<string>();
    const veths = new Set<string>();
    for (const rec of this.networks.values()) {
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

function overlaps(a: Cidr, b: Cidr): boolean {
  const endA = a.base + 2 ** (32 - a.prefixLen) - 1;
  const endB = b.base + 2 ** (32 - b.prefixLen) - 1;
  return a.base <= endB && b.base <= endA;
}

function dnsNamesOf(container: ContainerRef, aliases: string[], rec: NetworkRecord): string[] {
  if (rec.predefined) return [];
  return uniq([container.name, ...aliases, container.id.slice(0, 12)].filter((n) => n));
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

function rfc3339Nano(): string {
  const d = new Date();
  const ns = String(d.getUTCMilliseconds() * 1_000_000 + Number(process.hrtime.bigint() % 1_000_000n)).padStart(9, '0');
  return `${d.toISOString().slice(0, 19)}.${ns}Z`;
}

async function netnsIdentity(path: string): Promise<{ dev: number; ino: number }> {
  try {
    const st = await stat(path);
    return { dev: st.dev, ino: st.ino };
  } catch (e) {
    throw invalidArgument(`network namespace ${path} is not accessible: ${(e as Error).message}`, e);
  }
}

async function isSameNetns(path: string, dev: number, ino: number): Promise<boolean> {
  try {
    const st = await stat(path);
    return st.dev === dev && st.ino === ino;
  } catch {
    // Gone (the process exited, the bind mount was removed): not the same sandbox.
    return false;
  }
}
