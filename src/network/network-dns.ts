// One embedded DNS server per user-defined network, answering from the live NetworkState.
import { logger } from '../util/index.js';
import { DnsServer, type Upstream } from './dns-server.js';
import { cidrContains, isIpv4, parseCidr, parseIpv4 } from './ipv4.js';
import { hasDns, type NetworkState } from './network-state.js';
import type { NetworkRecord } from './types.js';

const log = logger('network');

export class EmbeddedDnsServers {
  private readonly servers = new Map<string, DnsServer>();

  constructor(
    private readonly state: NetworkState,
    /** `false` disables the servers (unit tests). */
    private readonly port: number | false,
    private readonly upstreams: () => Promise<Upstream[]>,
  ) {}

  async start(rec: NetworkRecord): Promise<void> {
    if (this.servers.has(rec.id) || this.port === false) return;
    const gateway = rec.ipam.config[0]!.gateway;
    const subnet = parseCidr(rec.ipam.config[0]!.subnet);
    const server = new DnsServer({
      address: gateway,
      port: this.port,
      upstreams: async (clientIp) => {
        const querier = clientIp ? Object.values(rec.endpoints).find((e) => e.live && e.ipv4 === clientIp) : undefined;
        const own = (querier?.dnsServers ?? []).filter(isIpv4);
        if (own.length) return own.map((host) => ({ host, port: 53 }));
        return this.upstreams();
      },
      source: {
        forward: !rec.internal,
        // Isolation holds for names too: only addresses of this network (its containers) are
        // served, not other networks' containers that can route to the gateway.
        serves: (clientIp) => !!clientIp && isIpv4(clientIp) && cidrContains(subnet, parseIpv4(clientIp)),
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
        address: `${gateway}:${this.port}`,
        error: String(e),
      });
      return;
    }
    this.servers.set(rec.id, server);
  }

  async stop(networkId: string): Promise<void> {
    const s = this.servers.get(networkId);
    this.servers.delete(networkId);
    await s?.close();
  }

  /**
   * Addresses for `name` as the querying container sees them: on this network, then on
   * every other network the querier is live on (Docker resolves across shared networks).
   */
  private lookupName(rec: NetworkRecord, name: string, clientIp: string | undefined): string[] {
    const querier = clientIp ? Object.values(rec.endpoints).find((e) => e.live && e.ipv4 === clientIp) : undefined;
    const nets = [rec, ...(querier ? this.state.liveEndpoints(querier.containerId).map(([r]) => r).filter((r) => r !== rec && hasDns(r)) : [])];
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


  async stopAll(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.close()));
    this.servers.clear();
  }
}
