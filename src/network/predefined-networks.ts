// The networks every engine has from its first start: `bridge` (the default), `host`, `none`.
import { configFromPlan, planAddresses } from './ipam.js';
import { formatIpv4, type Cidr } from './ipv4.js';
import { newId, rfc3339Nano } from './network-state.js';
import { NETWORK_RECORD_VERSION, type NetworkRecord } from './types.js';

export const DEFAULT_BRIDGE_NETWORK = 'bridge';

export function predefinedRecord(name: string, driver: 'bridge' | 'host' | 'null', subnet: Cidr | undefined, bridgeNameFor: (id: string) => string): NetworkRecord {
const id = newId();
  const isBridge = driver === 'bridge';
  const plan = subnet ? planAddresses({ subnet: `${formatIpv4(subnet.base)}/${subnet.prefixLen}` }) : undefined;
  const bridgeName = isBridge ? bridgeNameFor(id) : undefined;
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
  return rec;
}

