// An in-memory NetworkDriver for tests without root: it keeps the devices and the firewall
// state it was asked for, and fails the way the kernel would (veth on a missing bridge).
import { BerthError } from '../util/index.js';
import type {
  DriverEndpoint,
  DriverNetwork,
  DriverResources,
  FirewallState,
  NetworkDriver,
} from './network-driver.js';

export class FakeNetworkDriver implements NetworkDriver {
  readonly prefix: string;
  readonly bridges = new Map<string, DriverNetwork>();
  readonly veths = new Map<string, { bridge: string; endpoint: DriverEndpoint }>();
  firewall: FirewallState = { networks: [], publications: [] };
  /** Set to make the next attach fail (rollback tests). */
  failNextAttach: Error | undefined;

  constructor(prefix = 'fake') {
    this.prefix = prefix;
  }

  bridgeNameFor(networkId: string, isDefault: boolean): string {
    return isDefault ? `${this.prefix}0` : `${this.prefix}-${networkId.slice(0, 14 - this.prefix.length)}`;
  }

  hostVethNameFor(endpointId: string): string {
    return `${this.prefix}v${endpointId.slice(0, 14 - this.prefix.length)}`;
  }

  async ensureNetwork(net: DriverNetwork): Promise<void> {
    this.bridges.set(net.bridgeName, net);
  }

  async removeNetwork(net: DriverNetwork): Promise<void> {
    for (const [name, v] of this.veths) if (v.bridge === net.bridgeName) this.veths.delete(name);
    this.bridges.delete(net.bridgeName);
  }

  async attachEndpoint(net: DriverNetwork, ep: DriverEndpoint): Promise<void> {
    if (this.failNextAttach) {
      const e = this.failNextAttach;
      this.failNextAttach = undefined;
      throw e;
    }
    if (!this.bridges.has(net.bridgeName)) throw new BerthError('internal', `Cannot find device "${net.bridgeName}"`);
    if (this.veths.has(ep.hostVeth)) throw new BerthError('internal', `RTNETLINK answers: File exists (${ep.hostVeth})`);
    this.veths.set(ep.hostVeth, { bridge: net.bridgeName, endpoint: ep });
  }

  /** Default routes set after attach, by namespace path. */
  readonly routes = new Map<string, { gateway: string; ifName: string }>();

  async setDefaultRoute(ep: DriverEndpoint): Promise<void> {
    this.routes.set(ep.netnsPath, { gateway: ep.defaultGateway ?? '', ifName: ep.ifName });
  }

  async detachEndpoint(_net: DriverNetwork, ep: DriverEndpoint): Promise<void> {
    this.veths.delete(ep.hostVeth);
  }

  async syncFirewall(state: FirewallState): Promise<void> {
    this.firewall = structuredClone(state);
  }

  async listResources(): Promise<DriverResources> {
    return {
      bridges: [...this.bridges.keys()].sort(),
      hostVeths: [...this.veths.keys()].sort(),
      chains: this.firewall.networks.length ? [`${this.prefix}-FORWARD`] : [],
    };
  }

  async cleanupAll(): Promise<void> {
    this.bridges.clear();
    this.veths.clear();
    this.firewall = { networks: [], publications: [] };
  }
}
