// The contract between NetworkService and the kernel plumbing. BridgeDriver implements it
// with iproute2 + iptables; FakeNetworkDriver records calls for unit tests. Both run the
// conformance suite in test/suites/network-driver.ts.
import type { PortBinding } from './types.js';

export interface DriverNetwork {
  id: string;
  bridgeName: string;
  /** `a.b.c.d/len` */
  subnet: string;
  gateway: string;
  internal: boolean;
  /** `com.docker.network.driver.mtu`; the kernel default (1500) when absent. */
  mtu?: number;
  /** `com.docker.network.bridge.enable_ip_masquerade` (default true). */
  masquerade?: boolean;
  /** `com.docker.network.bridge.enable_icc`: containers of the network talk to each other (default true). */
  icc?: boolean;
}

export interface DriverEndpoint {
  endpointId: string;
  /** A network namespace file: `/proc/<pid>/ns/net` or a bind-mounted nsfs file. */
  netnsPath: string;
  /** Interface name inside the namespace (`eth0`, `eth1`, …). */
  ifName: string;
  /** Host end of the veth pair, enslaved to the bridge. */
  hostVeth: string;
  ipv4: string;
  prefixLen: number;
  mac: string;
  /** Gateway for the namespace's default route; absent for internal or secondary networks. */
  defaultGateway?: string;
}

/** Ports published to one endpoint. */
export interface Publication {
  endpointId: string;
  ipv4: string;
  bridgeName: string;
  bindings: PortBinding[];
}

/** The whole firewall berth wants, rendered and applied in one atomic step. */
export interface FirewallState {
  networks: DriverNetwork[];
  publications: Publication[];
}

/** What the driver finds on the host under its prefix (for restore and leak checks). */
export interface DriverResources {
  bridges: string[];
  hostVeths: string[];
  chains: string[];
}

export interface OpOptions {
  signal?: AbortSignal;
}

export interface DetachOptions extends OpOptions {
  namespaceGone?: boolean;
}

export interface NetworkDriver {
  /** Device names carry this prefix; anything with it belongs to this driver. */
  readonly prefix: string;
  bridgeNameFor(networkId: string, isDefault: boolean): string;
  hostVethNameFor(endpointId: string): string;
  /** Creates (or, when it exists, re-addresses and raises) the bridge. Idempotent. */
  ensureNetwork(net: DriverNetwork, opts?: OpOptions): Promise<void>;
  /** Deletes the bridge. Idempotent. */
  removeNetwork(net: DriverNetwork, opts?: OpOptions): Promise<void>;
  /** Plumbs a veth pair from the bridge into the namespace, addressed and routed. */
  attachEndpoint(net: DriverNetwork, ep: DriverEndpoint, opts?: OpOptions): Promise<void>;
  /** Points the namespace's default route at `ep.defaultGateway` through `ep.ifName`. */
  setDefaultRoute(ep: DriverEndpoint, opts?: OpOptions): Promise<void>;
  /**
   * Removes the veth pair (both ends). Idempotent; the namespace may already be gone.
   * `namespaceGone`: the container's namespace was let go (its process exited, its file was
   * unmounted): the kernel deletes the pair with it, and the driver only waits for that.
   */
  detachEndpoint(net: DriverNetwork, ep: DriverEndpoint, opts?: DetachOptions): Promise<void>;
  /** Replaces every firewall rule of this driver with `state`, atomically. */
  syncFirewall(state: FirewallState, opts?: OpOptions): Promise<void>;
  listResources(opts?: OpOptions): Promise<DriverResources>;
  /** Removes every device and rule with the prefix (tests, `berthd --cleanup`). */
  cleanupAll(opts?: OpOptions): Promise<void>;
}
