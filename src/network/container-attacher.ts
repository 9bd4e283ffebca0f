// The runtime's view of networking: plan (before `runc create`), attach (namespace exists,
// process not started) and detach (after exit), for bridge networks. It matches
// runtime's NetworkAttacher structurally, so network/ need not import runtime/ (STYLE.md §1);
// `none` and `host` need no plumbing and are answered here too.
import { readFile } from 'node:fs/promises';
import type { NetworkService } from './network-service.js';
import type { EndpointRequest } from './network-state.js';
import { portMapOf, portRequestsFrom, type PortBindingMap } from './ports.js';

/** The parts of runtime's ContainerSpec that networking reads. */
export interface AttachableSpec {
  hostname: string;
  /** `--domainname` ('' when none). */
  domainname?: string;
  exposedPorts: string[];
  host: {
    networkMode: string;
    portBindings: Record<string, Array<{ hostIp: string; hostPort: string }>>;
    publishAllPorts: boolean;
    dns: string[];
    dnsSearch: string[];
    dnsOptions: string[];
  };
  endpoints: Record<string, { aliases: string[]; ipv4Address?: string }>;
  /** The network of `host.networkMode` was disconnected: it is not joined at start. */
  primaryDisconnected?: boolean;
}

export interface AttachableContainer {
  id: string;
  name: string;
  spec: AttachableSpec;
}

/**
 * The names of a container's own /etc/hosts line, as dockerd writes them: `h.ex.com h` with a
 * domain name, `a.b.c a` for a dotted hostname, the hostname alone otherwise.
 */
export function hostsNames(hostname: string, domainname: string): string {
  if (domainname) return `${hostname}.${domainname} ${hostname}`;
  const dot = hostname.indexOf('.');
  return dot > 0 ? `${hostname} ${hostname.slice(0, dot)}` : hostname;
}

export interface ContainerNetworkPlan {
  namespace: { mode: 'new' } | { mode: 'host' };
  hostsEntries: string[];
  resolvConf?: string;
  /** The default bridge's gateway: what `--add-host name:host-gateway` stands for (dockerd's default). */
  hostGateway?: string;
  /** attach will put links into the namespace. */
  plumbed?: boolean;
}

/** What runtime stores as `networkSettings` and the container inspect renders (a type, so it is a plain record). */
export type ContainerNetworkSettings = {
  networks: Record<
    string,
    {
      networkId: string;
      endpointId: string;
      ipAddress: string;
      ipPrefixLen: number;
      gateway: string;
      macAddress: string;
      aliases: string[] | null;
      dnsNames: string[] | null;
    }
  >;
  ports: Record<string, Array<{ hostIp: string; hostPort: string }>>;
};

export class ContainerNetworkAttacher {
  constructor(
    private readonly networks: NetworkService,
    /** Search domains and options of the host's resolv.conf, for user-network resolv.conf files. */
    private readonly hostResolv: () => Promise<{ search: string[]; options: string[] }> = () => readHostResolvOptions(),
  ) {}

  /** Networks the container joins: its mode's network, then every NetworkingConfig endpoint. */
  private joins(c: AttachableContainer): Array<{ network: string; endpoint?: EndpointRequest }> {
    const mode = c.spec.host.networkMode;
    const primary = mode === 'default' || mode === '' ? 'bridge' : mode;
    const names = [...(c.spec.primaryDisconnected ? [] : [primary]), ...Object.keys(c.spec.endpoints).filter((n) => n !== primary)];
    return names.map((network) => {
      const ep = c.spec.endpoints[network] ?? (network === primary ? c.spec.endpoints[mode] : undefined);
      const dnsServers = c.spec.host.dns.length ? c.spec.host.dns : undefined;
      return { network, endpoint: { aliases: ep?.aliases, ipv4Address: ep?.ipv4Address, dnsServers } };
    });
  }

  async plan(c: AttachableContainer): Promise<ContainerNetworkPlan> {
    const mode = c.spec.host.networkMode;
    const hostGateway = this.networks.hostGateway();
    const gw = hostGateway ? { hostGateway } : {};
    if (mode === 'host') return { namespace: { mode: 'host' }, hostsEntries: [], ...gw };
    if (mode === 'none' || mode.startsWith('container:')) return { namespace: { mode: 'new' }, hostsEntries: [], ...gw };
    const reserved = await this.networks.reserve({ id: c.id, name: c.name }, this.joins(c));
    const hostname = c.spec.hostname || c.id.slice(0, 12);
    const first = reserved[0];
    const hostsEntries = first?.ipv4 ? [`${first.ipv4}\t${hostsNames(hostname, c.spec.domainname ?? '')}`] : [];
    const plumbed = reserved.length > 0;
    const dnsNet = reserved.find((r) => r.dns);
    if (!dnsNet) return { namespace: { mode: 'new' }, hostsEntries, plumbed, ...gw };
    const host = await this.hostResolv();
    const search = c.spec.host.dnsSearch.length ? c.spec.host.dnsSearch : host.search;
    const options = c.spec.host.dnsOptions.length ? c.spec.host.dnsOptions : host.options.length ? host.options : ['ndots:0'];
    // Docker's embedded-DNS resolv.conf: its server, the host's search domains, ndots:0.
    const lines = [`nameserver ${dnsNet.gateway}`];
    if (search.length) lines.push(`search ${search.join(' ')}`);
    if (options.length) lines.push(`options ${options.join(' ')}`);
    return { namespace: { mode: 'new' }, hostsEntries, resolvConf: lines.join('\n') + '\n', plumbed, ...gw };
  }

  async attach(c: AttachableContainer & { netnsPath: string }): Promise<ContainerNetworkSettings> {
    const mode = c.spec.host.networkMode;
    if (mode === 'host' || mode === 'none') {
      return { networks: { [mode]: emptyEndpoint(this.networks.resolve(mode).id) }, ports: {} };
    }
    // `container:<id>` shares another container's namespace, which that container's endpoints serve.
    if (mode.startsWith('container:')) return { networks: {}, ports: {} };
    const bindings: PortBindingMap = {};
    for (const [k, list] of Object.entries(c.spec.host.portBindings)) {
      bindings[k] = list.map((b) => ({ HostIp: b.hostIp, HostPort: b.hostPort }));
    }
    const ports = portRequestsFrom(bindings, {
      exposedPorts: c.spec.exposedPorts,
      publishAll: c.spec.host.publishAllPorts,
    });
    const res = await this.networks.attach({ id: c.id, name: c.name }, c.netnsPath, this.joins(c), ports);
    const networks = this.networksOf(c.id);
    const portMap: ContainerNetworkSettings['ports'] = {};
    for (const [k, v] of Object.entries(portMapOf(res.ports))) {
      if (v) portMap[k] = v.map((b) => ({ hostIp: b.HostIp, hostPort: b.HostPort }));
    }
    return { networks, ports: portMap };
  }

  /** The container's networks as they are now (after connect/disconnect), in `attach`'s shape. */
  networksOf(containerId: string): ContainerNetworkSettings['networks'] {
    const networks: ContainerNetworkSettings['networks'] = {};
    for (const [name, e] of Object.entries(this.networks.containerNetworks(containerId))) {
      networks[name] = {
        networkId: e.NetworkID,
        endpointId: e.EndpointID,
        ipAddress: e.IPAddress,
        ipPrefixLen: e.IPPrefixLen,
        gateway: e.Gateway,
        macAddress: e.MacAddress,
        aliases: e.Aliases,
        dnsNames: e.DNSNames,
      };
    }
    return networks;
  }

  /** Idempotent: a container without endpoints (host, none, container:) has nothing to undo. */
  async detach(c: { id: string }, opts: { namespaceGone?: boolean } = {}): Promise<void> {
    await this.networks.detach(c.id, opts);
  }

  /** Container removal: its addresses go back to the pool. */
  async release(c: { id: string }): Promise<void> {
    await this.networks.releaseContainer(c.id);
  }
}

function emptyEndpoint(networkId: string): ContainerNetworkSettings['networks'][string] {
  return { networkId, endpointId: '', ipAddress: '', ipPrefixLen: 0, gateway: '', macAddress: '', aliases: null, dnsNames: null };
}

/** `search` and `options` of the host's resolv.conf (its nameservers are replaced by the embedded DNS). */
export async function readHostResolvOptions(path = '/etc/resolv.conf'): Promise<{ search: string[]; options: string[] }> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const words = (kw: string) =>
    text
      .split('\n')
      .filter((l) => new RegExp(`^\\s*${kw}\\s`).test(l))
      .flatMap((l) => l.trim().split(/\s+/).slice(1));
  return { search: words('search'), options: words('options') };
}
