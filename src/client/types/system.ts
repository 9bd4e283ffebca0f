// Engine API wire types for /version, /info and /_ping, spelled exactly as Docker does
// (swagger v1.51 SystemVersion / SystemInfo).

export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

export interface SystemVersion {
  Platform: { Name: string };
  Components: ComponentVersion[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  Experimental?: boolean;
  BuildTime: string;
}

export interface Commit {
  ID: string;
}

export interface IndexInfo {
  Name: string;
  Mirrors: string[];
  Secure: boolean;
  Official: boolean;
}

export interface RegistryServiceConfig {
  InsecureRegistryCIDRs: string[];
  IndexConfigs: Record<string, IndexInfo>;
  Mirrors: string[];
}

export interface SwarmInfo {
  NodeID: string;
  NodeAddr: string;
  LocalNodeState: '' | 'inactive' | 'pending' | 'active' | 'error' | 'locked';
  ControlAvailable: boolean;
  Error: string;
  RemoteManagers: null | { NodeID: string; Addr: string }[];
}

export interface PluginsInfo {
  Volume: string[];
  Network: string[];
  Authorization: string[] | null;
  Log: string[];
}

export interface RuntimeInfo {
  path: string;
  runtimeArgs?: string[];
}

export interface SystemInfo {
  ID: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  DriverStatus: [string, string][];
  DockerRootDir: string;
  Plugins: PluginsInfo;
  MemoryLimit: boolean;
  SwapLimit: boolean;
  KernelMemoryTCP: boolean;
  CpuCfsPeriod: boolean;
  CpuCfsQuota: boolean;
  CPUShares: boolean;
  CPUSet: boolean;
  PidsLimit: boolean;
  OomKillDisable: boolean;
  IPv4Forwarding: boolean;
  Debug: boolean;
  NFd: number;
  NGoroutines: number;
  SystemTime: string;
  LoggingDriver: string;
  CgroupDriver: 'cgroupfs' | 'systemd' | 'none';
  CgroupVersion: '1' | '2';
  NEventsListener: number;
  KernelVersion: string;
  OperatingSystem: string;
  OSVersion: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  IndexServerAddress: string;
  RegistryConfig: RegistryServiceConfig;
  GenericResources: null;
  HttpProxy: string;
  HttpsProxy: string;
  NoProxy: string;
  Name: string;
  Labels: string[];
  ExperimentalBuild: boolean;
  ServerVersion: string;
  Runtimes: Record<string, RuntimeInfo>;
  DefaultRuntime: string;
  Swarm: SwarmInfo;
  LiveRestoreEnabled: boolean;
  Isolation: string;
  InitBinary: string;
  ContainerdCommit: Commit;
  RuncCommit: Commit;
  InitCommit: Commit;
  SecurityOptions: string[];
  ProductLicense?: string;
  DefaultAddressPools?: { Base: string; Size: number }[];
  Warnings: string[] | null;
  CDISpecDirs: string[];
  Containerd: null | { Address: string; Namespaces: { Containers: string; Plugins: string } };
}
