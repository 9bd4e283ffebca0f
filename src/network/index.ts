// Public surface of network/ (STYLE.md §1): the NetworkService the runtime and the API call,
// the driver contract (with the bridge and fake implementations) and the port helpers.
export {
  NetworkService,
  DEFAULT_BRIDGE_NETWORK,
  type NetworkServiceOptions,
  type ContainerRef,
  type EndpointRequest,
  type NetworkCreateRequest,
  type AttachResult,
  type DnsSettings,
} from './network-service.js';
export type { NetworkInspect, EndpointSettings } from './network-inspect.js';
export type { FilterMap } from './network-filters.js';
export type {
  NetworkDriver,
  DriverNetwork,
  DriverEndpoint,
  DriverResources,
  FirewallState,
  Publication,
} from './network-driver.js';
export { BridgeDriver, type BridgeDriverOptions } from './bridge-driver.js';
export { FakeNetworkDriver } from './fake-network-driver.js';
export {
  portRequestsFrom,
  portMapOf,
  allocatePorts,
  probePortFree,
  type PortRequest,
  type PortBindingMap,
  type PortMap,
} from './ports.js';
export { DEFAULT_ADDRESS_POOLS, type AddressPool } from './ipam.js';
export { DnsServer, readResolvConfUpstreams, type Upstream } from './dns-server.js';
export type { PortBinding, PortProtocol } from './types.js';
export {
  ContainerNetworkAttacher,
  type AttachableContainer,
  type AttachableSpec,
  type ContainerNetworkPlan,
  type ContainerNetworkSettings,
} from './container-attacher.js';
