// The network modes runtime handles by itself: `none`, `host`, and (until the network
// service replaces it) the default, which is an isolated namespace with loopback only.
// `container:<id>` is resolved by the ContainerService before it reaches an attacher.
import { BerthError } from '../util/index.js';
import type { NetworkAttacher, NetworkContainerInfo, NetworkPlan } from './ports.js';

export class BasicNetworkAttacher implements NetworkAttacher {
  async plan(c: NetworkContainerInfo): Promise<NetworkPlan> {
    if (c.spec.host.networkMode === 'host') return { namespace: { mode: 'host' }, hostsEntries: [] };
    return { namespace: { mode: 'new' }, hostsEntries: [] };
  }

  async attach(c: NetworkContainerInfo & { netnsPath: string }): Promise<Record<string, unknown>> {
    const mode = c.spec.host.networkMode;
    return { networks: { [mode === 'default' ? 'bridge' : mode]: {} } };
  }

  async detach(): Promise<void> {}
}

const HOSTS_HEAD = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/**
 * /etc/hosts for a container: Docker's fixed head, `--add-host` entries, then its own entries.
 * `host-gateway` is `hostGateway` (the default bridge's gateway); without one it is refused
 * with dockerd's words, as it is there when the daemon has no default bridge.
 */
export function hostsFile(extraHosts: string[], entries: string[], hostGateway?: string): string {
  const extra = extraHosts.map((h) => {
    const i = h.lastIndexOf(':');
    // "name:ip" (ip may be IPv6 containing colons: split at the first colon instead).
    const first = h.indexOf(':');
    const name = h.slice(0, first >= 0 ? first : i);
    const ip = h.slice((first >= 0 ? first : i) + 1);
    if (ip !== 'host-gateway') return `${ip}\t${name}`;
    if (!hostGateway) throw new BerthError('invalid-argument', 'unable to derive the IP value for host-gateway');
    return `${hostGateway}\t${name}`;
  });
  return [...HOSTS_HEAD, ...extra, ...entries].join('\n') + '\n';
}

/**
 * resolv.conf from the host's: loopback nameservers are useless inside a separate network
 * namespace, so they are dropped (Docker does the same); --dns/--dns-search/--dns-option win.
 */
export function resolvConfFile(hostText: string, o: { dns: string[]; dnsSearch: string[]; dnsOptions: string[]; hostNetwork: boolean }): string {
  const lines = hostText.split('\n');
  let ns = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!);
  if (!o.hostNetwork) ns = ns.filter((a) => !/^127\.|^::1$/.test(a));
  if (o.dns.length) ns = o.dns;
  let search = lines.filter((l) => /^\s*search\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (o.dnsSearch.length) search = o.dnsSearch;
  let options = lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (o.dnsOptions.length) options = o.dnsOptions;
  const out: string[] = [];
  if (search.length) out.push(`search ${search.join(' ')}`);
  for (const n of ns) out.push(`nameserver ${n}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}
