// A container's side of networking: memberships (reserve, connect, disconnect, release) and
// their plumbing into its namespace (attach, detach), with published ports. NetworkService
// owns the lock and the firewall; this class does the work under them.
import { BerthError, conflict, errorMessage, logger, type EventBus } from '../util/index.js';
import type { Upstream } from './dns-server.js';
import { isSameNetns, netnsIdentity } from './netns-identity.js';
import { renderEndpoint, type EndpointSettings } from './network-inspect.js';
import { bridgeOptionsOf, dnsNamesOf, hasDns, uniq, type ContainerRef, type EndpointRequest, type NetworkState } from './network-state.js';
import { allocatePorts, type PortAllocatorOptions, type PortRequest } from './ports.js';
import type { EndpointRecord, NetworkRecord, PortBinding } from './types.js';
import type { DetachOptions } from './network-driver.js';

const log = logger('network');

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

export interface ContainerEndpointDeps {
  events: EventBus;
  portOpts: PortAllocatorOptions;
  upstreams: () => Promise<Upstream[]>;
  /** Runs `fn` under the service's state lock. */
  lock<T>(fn: () => Promise<T>): Promise<T>;
  syncFirewall(opts?: OpOpts): Promise<void>;
}

/** Docker's fallback when the host has no usable resolver. */
const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

export class ContainerEndpoints {
  constructor(
    private readonly state: NetworkState,
    private readonly deps: ContainerEndpointDeps,
  ) {}

  /**
   * Before a container starts: records its memberships of `networks` and reserves their
   * addresses, so /etc/hosts and resolv.conf can be written before the namespace exists.
   * `attach` then plumbs them. Returns the reserved address and DNS server per network.
   */
  async reserve(
    container: ContainerRef,
    networks: ReadonlyArray<{ network: string; endpoint?: EndpointRequest }>,
  ): Promise<Array<{ network: string; ipv4: string; gateway: string; dns: boolean }>> {
    return this.deps.lock(async () => {
      this.state.assertLoaded();
      const added: NetworkRecord[] = [];
      try {
        for (const n of networks) {
          const rec = this.state.resolve(n.network);
          if (rec.endpoints[container.id]) continue;
          rec.endpoints[container.id] = this.state.newEndpoint(rec, container, n.endpoint ?? {});
          added.push(rec);
        }
        // On every start's path: synced in the background (a berthd crash loses no write).
        for (const rec of added) await this.state.store.save(rec, { durable: 'background' });
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
    return this.deps.lock(async () => {
      this.state.assertLoaded();
      const stale = this.state.liveEndpoints(container.id);
      if (stale.length) {
        const old = stale[0]![1].live!;
        if (await isSameNetns(old.netnsPath, old.netnsDev, old.netnsIno)) {
          throw conflict(`container ${container.id.slice(0, 12)} is already attached`);
        }
        // A previous run that nobody detached (its sandbox is gone): undo it first.
        await this.detachLocked(container.id, opts);
      }
      const joined: Array<[NetworkRecord, EndpointRecord, boolean]> = [];
      const done: Array<[NetworkRecord, EndpointRecord]> = [];
      try {
        for (const n of networks) {
          const rec = this.state.resolve(n.network);
          // The same network named twice (by name and by id) is one endpoint.
          if (joined.some(([r]) => r.id === rec.id)) continue;
          const existing = rec.endpoints[container.id];
          const ep = existing ?? this.state.newEndpoint(rec, container, n.endpoint ?? {});
          if (existing && n.endpoint?.aliases) {
            existing.aliases = uniq(n.endpoint.aliases);
            existing.dnsNames = dnsNamesOf(container, existing.aliases, rec);
          }
          if (existing) {
            existing.containerName = container.name;
            if (n.endpoint?.dnsServers?.length) existing.dnsServers = n.endpoint.dnsServers;
            else delete existing.dnsServers;
          }
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
        // `host_binding_ipv4` of the network replaces the default 0.0.0.0, as in Docker.
        const hostBinding = pubTarget ? bridgeOptionsOf(pubTarget[0].options).hostBindingIpv4 : undefined;
        const requests = hostBinding ? ports.map((p) => (p.hostIp === '0.0.0.0' ? { ...p, hostIp: hostBinding } : p)) : ports;
        const bindings =
          pubTarget && ports.length
            ? await allocatePorts(requests, this.state.boundPorts(), this.deps.portOpts).catch((e: unknown) => {
                // dockerd's wording and status (500) for a port it cannot publish at start.
                throw new BerthError(
                  'internal',
                  `driver failed programming external connectivity on endpoint ${container.name.replace(/^\//, '')} (${pubTarget[1].endpointId}): ${errorMessage(e)}`,
                  { cause: e },
                );
              })
            : [];
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
          await this.state.attachEndpoint(rec, dep, opts);
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
        if (bindings.length) await this.deps.syncFirewall(opts);
        for (const [rec, , isNew] of joined) await this.state.store.save(rec, { durable: isNew ? 'background' : false });
      } catch (e) {
        await this.undoAttach(container.id, joined, done);
        throw e;
      }
      for (const [rec] of joined) {
        this.deps.events.publish('network', 'connect', rec.id, { container: container.id, name: rec.name, type: rec.driver });
      }
      return this.attachResult(container.id);
    });
  }

  private async undoAttach(containerId: string, joined: Array<[NetworkRecord, EndpointRecord, boolean]>, done: Array<[NetworkRecord, EndpointRecord]>) {
    for (const [rec, ep] of done) {
      if (rec.driver === 'bridge' && ep.live) {
        await this.state.driver
          .detachEndpoint(this.state.driverNetwork(rec), this.state.driverEndpoint(rec, ep, '', ep.live.ifName, false))
          .catch((e: unknown) => log.warn('cannot undo endpoint', { error: String(e) }));
      }
      delete ep.live;
    }
    for (const [rec, , isNew] of joined) if (isNew) delete rec.endpoints[containerId];
    await this.deps.syncFirewall().catch((e: unknown) => log.warn('cannot undo port rules', { error: String(e) }));
  }

  /** Container stop: unplumbs every endpoint and port; memberships and addresses stay. Idempotent. */
  async detach(containerId: string, opts: DetachOptions = {}): Promise<void> {
    const going = await this.deps.lock(async () => {
      this.state.assertLoaded();
      return this.detachLocked(containerId, opts);
    });
    // Outside the lock: the links go with their namespace (10-30 ms), and only this
    // container's next start (which waits for its release) needs their names back.
    await Promise.all(going.map((unplug) => unplug()));
  }

  /** With `namespaceGone`, returns the links' removals for the caller to await outside the lock. */
  private async detachLocked(containerId: string, opts: DetachOptions): Promise<Array<() => Promise<void>>> {
    const eps = this.state.liveEndpoints(containerId);
    const going: Array<() => Promise<void>> = [];
    if (!eps.length) return going;
    const hadPorts = eps.some(([, ep]) => ep.live!.ports.length);
    for (const [, ep] of eps) delete ep.live;
    // Rules first: a port must not point at an address that another container may get.
    if (hadPorts) await this.deps.syncFirewall(opts);
    for (const [rec, ep] of eps) {
      if (rec.driver === 'bridge') {
        const net = this.state.driverNetwork(rec);
        const dep = { ...this.state.driverEndpoint(rec, ep, '', 'eth0', false), hostVeth: this.state.driver.hostVethNameFor(ep.endpointId) };
        const unplug = () => this.state.driver.detachEndpoint(net, dep, opts);
        if (opts.namespaceGone) going.push(unplug);
        else await unplug();
      }
      await this.state.store.save(rec, { durable: false });
      this.deps.events.publish('network', 'disconnect', rec.id, { container: containerId, name: rec.name, type: rec.driver });
    }
    return going;
  }

  /** Container removal: detaches and forgets every membership (addresses go back to the pool). */
  async releaseContainer(containerId: string, opts: OpOpts = {}): Promise<void> {
    // A removed container has exited: its namespace is gone, or its release is letting go of it.
    await this.detach(containerId, { ...opts, namespaceGone: true });
    await this.deps.lock(async () => {
      for (const rec of this.state.networks.values()) {
        if (!rec.endpoints[containerId]) continue;
        delete rec.endpoints[containerId];
        // On every removal's path (`--rm`): synced in the background.
        await this.state.store.save(rec, { durable: 'background' });
      }
    });
  }

  /** `docker network connect`: live on a running container, recorded for the next start otherwise. */
  async connect(idOrName: string, container: ContainerRef, req: EndpointRequest = {}, opts: OpOpts = {}): Promise<void> {
    await this.deps.lock(async () => {
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
          await this.state.attachEndpoint(rec, dep, opts);
          ep.live = { ...live, hostVeth: dep.hostVeth, ifName: dep.ifName, ports: [] };
        }
        await this.state.store.save(rec);
      } catch (e) {
        delete rec.endpoints[container.id];
        throw e;
      }
      this.deps.events.publish('network', 'connect', rec.id, { container: container.id, name: rec.name, type: rec.driver });
    });
  }

  async disconnect(idOrName: string, containerId: string, opts: OpOpts & { force?: boolean } = {}): Promise<void> {
    await this.deps.lock(async () => {
      const rec = this.state.resolve(idOrName);
      const ep = rec.endpoints[containerId];
      if (!ep) {
        if (opts.force) return;
        throw new BerthError('forbidden', `container ${containerId} is not connected to network ${rec.name}`);
      }
      if (rec.driver !== 'bridge') {
        throw new BerthError('forbidden', 'container cannot be disconnected from host network or connected to host network');
      }
      const live = ep.live;
      delete rec.endpoints[containerId];
      if (live?.ports.length) await this.deps.syncFirewall(opts);
      if (live) {
        await this.state.driver.detachEndpoint(this.state.driverNetwork(rec), this.state.driverEndpoint(rec, ep, '', live.ifName, false), opts);
        // The default route may have gone with the interface: another outbound network takes it.
        const next = rec.internal ? undefined : this.state.liveEndpoints(containerId).find(([r]) => r.driver === 'bridge' && !r.internal);
        if (next) {
          const [nrec, nep] = next;
          await this.state.driver.setDefaultRoute(this.state.driverEndpoint(nrec, nep, nep.live!.netnsPath, nep.live!.ifName, true), opts);
        }
      }
      await this.state.store.save(rec);
      this.deps.events.publish('network', 'disconnect', rec.id, { container: containerId, name: rec.name, type: rec.driver });
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
    const host = (await this.deps.upstreams()).filter((u) => u.port === 53 && !u.host.startsWith('127.')).map((u) => u.host);
    return { nameservers: host.length ? host : FALLBACK_NAMESERVERS };
  }

}
