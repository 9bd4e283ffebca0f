// Domain model of a container: what the user asked for (ContainerSpec), in berth's own
// camelCase vocabulary. api/routes converts Docker's wire Config/HostConfig into this and back.

export interface HealthcheckSpec {
  /** ["NONE"] disables; ["CMD", ...] exec form; ["CMD-SHELL", "..."] shell form. */
  test?: string[];
  /** Nanoseconds, like Docker's wire format. 0 = inherit/default. */
  intervalNs?: number;
  timeoutNs?: number;
  startPeriodNs?: number;
  startIntervalNs?: number;
  retries?: number;
}

export type MountType = 'bind' | 'volume' | 'tmpfs';

export interface MountSpec {
  type: MountType;
  /** Host path (bind), volume name (volume; empty = anonymous), unused for tmpfs. */
  source: string;
  target: string;
  readOnly: boolean;
  /** bind: propagation; tmpfs: size/mode; volume: nocopy. */
  options?: { propagation?: string; tmpfsSizeBytes?: number; tmpfsMode?: number; noCopy?: boolean; volumeLabels?: Record<string, string> };
}

export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

export interface RestartPolicy {
  name: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  maximumRetryCount: number;
}

export interface PortBinding {
  hostIp: string;
  hostPort: string;
}

export interface HostSpec {
  /** `-v src:dst[:opts]` strings, kept as the user wrote them for inspect. */
  binds: string[];
  /** `--volumes-from <container>[:ro|rw]`, as the user wrote them: resolved at create. */
  volumesFrom?: string[];
  mounts: MountSpec[];
  tmpfs: Record<string, string>;
  networkMode: string;
  portBindings: Record<string, PortBinding[]>;
  publishAllPorts: boolean;
  privileged: boolean;
  readonlyRootfs: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  /** HostConfig.MaskedPaths / ReadonlyPaths; absent = Docker's defaults (`[]` from `systempaths=unconfined`). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  restartPolicy: RestartPolicy;
  autoRemove: boolean;
  /** Bytes; 0 = unlimited. */
  memory: number;
  memorySwap: number;
  memoryReservation: number;
  nanoCpus: number;
  cpuShares: number;
  cpuQuota: number;
  cpuPeriod: number;
  cpusetCpus: string;
  /** 0 or undefined = unlimited. */
  pidsLimit: number;
  ulimits: Ulimit[];
  extraHosts: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  sysctls: Record<string, string>;
  ipcMode: string;
  pidMode: string;
  utsMode: string;
  init: boolean;
  /** Bytes of /dev/shm; 0 = Docker's default 64 MiB. */
  shmSize: number;
  groupAdd: string[];
  /** `--device` requests (absent in configs written before this field existed). */
  devices?: Array<{ pathOnHost: string; pathInContainer: string; cgroupPermissions: string }>;
  logConfig: { type: string; config: Record<string, string> };
  oomKillDisable: boolean;
}

export interface ContainerSpec {
  image: string;
  /** undefined = take the image's; [] never happens after parsing. */
  cmd?: string[];
  /** undefined = take the image's; [] = reset to none (`--entrypoint ""`). */
  entrypoint?: string[];
  env: string[];
  workingDir: string;
  user: string;
  hostname: string;
  domainname: string;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  labels: Record<string, string>;
  stopSignal?: string;
  /** Seconds; undefined = 10. */
  stopTimeout?: number;
  exposedPorts: string[];
  volumes: string[];
  healthcheck?: HealthcheckSpec;
  networkDisabled: boolean;
  macAddress: string;
  host: HostSpec;
  /** Network names → aliases from NetworkingConfig (the network service reads it). */
  endpoints: Record<string, { aliases: string[]; ipv4Address?: string }>;
  /**
   * `docker network disconnect` of the network of `host.networkMode` (NetworkMode itself stays,
   * as in Docker): the next start does not join it again.
   */
  primaryDisconnected?: boolean;
}

/** The image config fields runtime needs (OCI image config `config` object). */
export interface ImageRuntimeConfig {
  User?: string;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number } | null;
  Shell?: string[] | null;
}

export function defaultHostSpec(): HostSpec {
  return {
    binds: [],
    mounts: [],
    tmpfs: {},
    networkMode: 'bridge',
    portBindings: {},
    publishAllPorts: false,
    privileged: false,
    readonlyRootfs: false,
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    restartPolicy: { name: 'no', maximumRetryCount: 0 },
    autoRemove: false,
    memory: 0,
    memorySwap: 0,
    memoryReservation: 0,
    nanoCpus: 0,
    cpuShares: 0,
    cpuQuota: 0,
    cpuPeriod: 0,
    cpusetCpus: '',
    pidsLimit: 0,
    ulimits: [],
    extraHosts: [],
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    sysctls: {},
    ipcMode: 'private',
    pidMode: '',
    utsMode: '',
    init: false,
    shmSize: 0,
    groupAdd: [],
    devices: [],
    logConfig: { type: 'k8s-file', config: {} },
    oomKillDisable: false,
  };
}

export function defaultContainerSpec(image: string): ContainerSpec {
  return {
    image,
    env: [],
    workingDir: '',
    user: '',
    hostname: '',
    domainname: '',
    tty: false,
    openStdin: false,
    stdinOnce: false,
    attachStdin: false,
    attachStdout: false,
    attachStderr: false,
    labels: {},
    exposedPorts: [],
    volumes: [],
    networkDisabled: false,
    macAddress: '',
    host: defaultHostSpec(),
    endpoints: {},
  };
}
