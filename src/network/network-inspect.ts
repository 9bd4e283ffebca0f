// Docker's wire shapes for networks and endpoints, rendered from records (GET /networks,
// container inspect's NetworkSettings.Networks).
import { parseCidr } from './ipv4.js';
import type { EndpointRecord, NetworkRecord } from './types.js';

export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: {
    Driver: string;
    Options: Record<string, string> | null;
    Config: Array<{ Subnet: string; Gateway: string; IPRange?: string }>;
  };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  GwPriority: number;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

export function prefixLenOf(rec: NetworkRecord): number {
  const c = rec.ipam.config[0];
  return c ? parseCidr(c.subnet).prefixLen : 0;
}

export function renderNetwork(rec: NetworkRecord, opts: { withContainers: boolean }): NetworkInspect {
  const containers: NetworkInspect['Containers'] = {};
  if (opts.withContainers) {
    const len = prefixLenOf(rec);
    for (const ep of Object.values(rec.endpoints)) {
      if (!ep.live) continue;
      containers[ep.containerId] = {
        Name: ep.containerName,
        EndpointID: ep.endpointId,
        MacAddress: ep.mac,
        IPv4Address: ep.ipv4 ? `${ep.ipv4}/${len}` : '',
        IPv6Address: '',
      };
    }
  }
  return {
    Name: rec.name,
    Id: rec.id,
    Created: rec.created,
    Scope: 'local',
    Driver: rec.driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: {
      Driver: rec.ipam.driver,
      Options: Object.keys(rec.ipam.options).length ? rec.ipam.options : null,
      Config: rec.ipam.config.map((c) => ({
        Subnet: c.subnet,
        Gateway: c.gateway,
        ...(c.ipRange ? { IPRange: c.ipRange } : {}),
      })),
    },
    Internal: rec.internal,
    Attachable: rec.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: rec.options,
    Labels: rec.labels,
  };
}

/** A container's view of one network; addresses only while the endpoint is live, as in Docker. */
export function renderEndpoint(rec: NetworkRecord, ep: EndpointRecord): EndpointSettings {
  const live = !!ep.live && rec.driver === 'bridge';
  return {
    IPAMConfig: ep.staticIp ? { IPv4Address: ep.ipv4 } : null,
    Links: null,
    Aliases: ep.aliases.length ? ep.aliases : null,
    MacAddress: live ? ep.mac : '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: rec.id,
    EndpointID: ep.live ? ep.endpointId : '',
    Gateway: live && !rec.internal ? (rec.ipam.config[0]?.gateway ?? '') : '',
    IPAddress: live ? ep.ipv4 : '',
    IPPrefixLen: live ? prefixLenOf(rec) : 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: ep.dnsNames.length ? ep.dnsNames : null,
  };
}
