// Engine API wire types for networks, spelled exactly as Docker does (swagger v1.51
// Network, NetworkCreateRequest/Response, NetworkConnectRequest, NetworkDisconnectRequest,
// NetworkPruneResponse). EndpointSettings lives in types/containers.ts.
import type { EndpointSettings } from './containers.js';

export interface IPAMConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface IPAM {
  Driver?: string;
  Config?: IPAMConfig[] | null;
  Options?: Record<string, string> | null;
}

export interface NetworkContainer {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

export interface Network {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: IPAM;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  /** Only in `GET /networks/{id}`; `{}` in the list. */
  Containers: Record<string, NetworkContainer>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface NetworkCreateRequest {
  Name: string;
  /** Deprecated since API 1.44: duplicates are always refused. */
  CheckDuplicate?: boolean;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string };
  IPAM?: IPAM;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface NetworkCreateResponse {
  Id: string;
  Warning: string;
}

export interface NetworkConnectRequest {
  Container: string;
  EndpointConfig?: EndpointSettings;
}

export interface NetworkDisconnectRequest {
  Container: string;
  Force?: boolean;
}

export interface NetworkPruneResponse {
  NetworksDeleted: string[] | null;
}
