// /_ping, /version and /info. The backend gathers the facts; this file only spells them
// in Docker's wire shape (swagger v1.51 SystemVersion / SystemInfo).
import type { SystemInfo, SystemVersion } from '../../client/index.js';
import type { HostFacts, RuntimeVersion } from '../host-info.js';
import { MAX_API_VERSION, MIN_API_VERSION } from '../api-version.js';
import type { Route } from '../router.js';

export interface EngineCounts {
  containers: number;
  running: number;
  paused: number;
  stopped: number;
  images: number;
}

export interface EngineInfo {
  id: string;
  counts: EngineCounts;
  dataRoot: string;
  storageDriver: string;
  storageStatus: [string, string][];
  host: HostFacts;
  runtimes: { name: string; path: string }[];
  defaultRuntime: string;
  runc: RuntimeVersion | undefined;
  init: { path: string; version: string } | undefined;
  serverVersion: string;
  gitCommit: string;
  buildTime: string;
  nodeVersion: string;
  debug: boolean;
  eventListeners: number;
  openFds: number;
  securityOptions: string[];
  warnings: string[];
  loggingDriver: string;
  volumeDrivers: string[];
  networkDrivers: string[];
  logDrivers: string[];
  defaultAddressPools: { base: string; size: number }[];
  labels: string[];
}

/** What /version needs: cheap facts, no counting. */
export type EngineAbout = Pick<EngineInfo, 'serverVersion' | 'gitCommit' | 'buildTime' | 'nodeVersion' | 'host' | 'runc' | 'init'>;

export interface SystemBackend {
  about(opts: { signal?: AbortSignal }): Promise<EngineAbout>;
  info(opts: { signal?: AbortSignal }): Promise<EngineInfo>;
}

const PING_HEADERS = {
  'Builder-Version': '1',
  // berth build may send `berthcontext=<dir>` (the context read in place) instead of a tar.
  'Berth-Build-Context': 'local',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
};

export function toSystemVersion(e: EngineAbout): SystemVersion {
  const h = e.host;
  const components: SystemVersion['Components'] = [
    {
      Name: 'Engine',
      Version: e.serverVersion,
      Details: {
        ApiVersion: MAX_API_VERSION,
        Arch: h.goArch,
        BuildTime: e.buildTime,
        Experimental: 'false',
        GitCommit: e.gitCommit,
        GoVersion: e.nodeVersion,
        KernelVersion: h.kernelVersion,
        MinAPIVersion: MIN_API_VERSION,
        Os: 'linux',
      },
    },
  ];
  if (e.runc) components.push({ Name: 'runc', Version: e.runc.version, Details: { GitCommit: e.runc.commit } });
  if (e.init) components.push({ Name: 'docker-init', Version: e.init.version, Details: { GitCommit: '' } });
  return {
    Platform: { Name: 'berth' },
    Components: components,
    Version: e.serverVersion,
    ApiVersion: MAX_API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: e.gitCommit,
    GoVersion: e.nodeVersion,
    Os: 'linux',
    Arch: h.goArch,
    KernelVersion: h.kernelVersion,
    BuildTime: e.buildTime,
  };
}

export function toSystemInfo(e: EngineInfo): SystemInfo {
  const h = e.host;
  const cg = h.cgroup;
  return {
    ID: e.id,
    Containers: e.counts.containers,
    ContainersRunning: e.counts.running,
    ContainersPaused: e.counts.paused,
    ContainersStopped: e.counts.stopped,
    Images: e.counts.images,
    Driver: e.storageDriver,
    DriverStatus: e.storageStatus,
    DockerRootDir: e.dataRoot,
    Plugins: { Volume: e.volumeDrivers, Network: e.networkDrivers, Authorization: null, Log: e.logDrivers },
    MemoryLimit: cg.memoryLimit,
    SwapLimit: cg.swapLimit,
    KernelMemoryTCP: cg.kernelMemoryTcp,
    CpuCfsPeriod: cg.cpuCfsPeriod,
    CpuCfsQuota: cg.cpuCfsQuota,
    CPUShares: cg.cpuShares,
    CPUSet: cg.cpuSet,
    PidsLimit: cg.pidsLimit,
    OomKillDisable: cg.oomKillDisable,
    IPv4Forwarding: h.ipv4Forwarding,
    Debug: e.debug,
    NFd: e.openFds,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: e.loggingDriver,
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cg.version,
    NEventsListener: e.eventListeners,
    KernelVersion: h.kernelVersion,
    OperatingSystem: h.operatingSystem,
    OSVersion: h.osVersion,
    OSType: 'linux',
    Architecture: h.machine,
    NCPU: h.ncpu,
    MemTotal: h.memTotal,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      InsecureRegistryCIDRs: ['::1/128', '127.0.0.0/8'],
      IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
      Mirrors: [],
    },
    GenericResources: null,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: h.name,
    Labels: e.labels,
    ExperimentalBuild: false,
    ServerVersion: e.serverVersion,
    Runtimes: Object.fromEntries(e.runtimes.map((r) => [r.name, { path: r.path }])),
    DefaultRuntime: e.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: e.init?.path ?? '',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: e.runc?.commit ?? '' },
    InitCommit: { ID: e.init ? e.init.version : '' },
    SecurityOptions: e.securityOptions,
    DefaultAddressPools: e.defaultAddressPools.map((p) => ({ Base: p.base, Size: p.size })),
    Warnings: e.warnings.length ? e.warnings : null,
    CDISpecDirs: [],
    Containerd: null,
  };
}

export function systemRoutes(backend: SystemBackend): Route[] {
  const ping = async (ctx: Parameters<Route['handler']>[0]) => {
    for (const [k, v] of Object.entries(PING_HEADERS)) ctx.res.setHeader(k, v);
    ctx.sendText(200, 'OK');
  };
  return [
    { method: 'GET', path: '/_ping', handler: ping },
    { method: 'HEAD', path: '/_ping', handler: ping },
    {
      method: 'GET',
      path: '/version',
      handler: async (ctx) => ctx.sendJson(200, toSystemVersion(await backend.about({ signal: ctx.signal }))),
    },
    {
      method: 'GET',
      path: '/info',
      handler: async (ctx) => ctx.sendJson(200, toSystemInfo(await backend.info({ signal: ctx.signal }))),
    },
  ];
}
