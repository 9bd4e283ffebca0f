// Docker's wire Config/HostConfig/NetworkingConfig ⇄ runtime's ContainerSpec. Validation of
// user values happens here with dockerd's wording, so bad input is a 400 before anything is made.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type {
  ContainerConfig,
  ContainerCreateRequest,
  ContainerInspectResponse,
  ContainerSummary,
  HostConfig,
  MountPointWire,
  WireMount,
} from '../../client/index.js';
import {
  defaultContainerSpec,
  humanStatus,
  MASKED_PATHS,
  parseSecurityOpts,
  READONLY_PATHS,
  ZERO_TIME,
  type Container,
  type ContainerSpec,
  type MountSpec,
} from '../../runtime/index.js';
import { BerthError } from '../../util/index.js';

const strArr = z.array(z.string()).nullish();
const strMap = z.record(z.string(), z.string()).nullish();
const num = z.number().nullish();

const healthSchema = z
  .object({ Test: strArr, Interval: num, Timeout: num, StartPeriod: num, StartInterval: num, Retries: num })
  .passthrough()
  .nullish();

const mountSchema = z
  .object({
    Target: z.string().optional(),
    Source: z.string().optional(),
    Type: z.string().optional(),
    ReadOnly: z.boolean().optional(),
    BindOptions: z.object({ Propagation: z.string().optional() }).passthrough().nullish(),
    VolumeOptions: z.object({ NoCopy: z.boolean().optional(), Labels: strMap }).passthrough().nullish(),
    TmpfsOptions: z.object({ SizeBytes: num, Mode: num }).passthrough().nullish(),
  })
  .passthrough();

const hostConfigSchema = z
  .object({
    Binds: strArr,
    VolumesFrom: strArr,
    LogConfig: z.object({ Type: z.string().optional(), Config: strMap }).passthrough().nullish(),
    NetworkMode: z.string().optional(),
    PortBindings: z.record(z.string(), z.array(z.object({ HostIp: z.string().optional(), HostPort: z.string().optional() })).nullish()).nullish(),
    RestartPolicy: z.object({ Name: z.string().optional(), MaximumRetryCount: num }).passthrough().nullish(),
    AutoRemove: z.boolean().optional(),
    Mounts: z.array(mountSchema).nullish(),
    CapAdd: strArr,
    CapDrop: strArr,
    Dns: strArr,
    DnsOptions: strArr,
    DnsSearch: strArr,
    ExtraHosts: strArr,
    GroupAdd: strArr,
    IpcMode: z.string().optional(),
    PidMode: z.string().optional(),
    UTSMode: z.string().optional(),
    Privileged: z.boolean().optional(),
    PublishAllPorts: z.boolean().optional(),
    ReadonlyRootfs: z.boolean().optional(),
    SecurityOpt: strArr,
    MaskedPaths: strArr,
    ReadonlyPaths: strArr,
    Tmpfs: strMap,
    ShmSize: num,
    Sysctls: strMap,
    CpuShares: num,
    Memory: num,
    NanoCpus: num,
    CpuPeriod: num,
    CpuQuota: num,
    CpusetCpus: z.string().optional(),
    MemoryReservation: num,
    MemorySwap: num,
    OomKillDisable: z.boolean().nullish(),
    Init: z.boolean().nullish(),
    PidsLimit: num,
    Ulimits: z.array(z.object({ Name: z.string().optional(), Soft: num, Hard: num })).nullish(),
    Devices: z.array(z.object({ PathOnHost: z.string().optional(), PathInContainer: z.string().optional(), CgroupPermissions: z.string().optional() }).passthrough()).nullish(),
  })
  .passthrough();

export const createBodySchema = z
  .object({
    Hostname: z.string().optional(),
    Domainname: z.string().optional(),
    User: z.string().optional(),
    AttachStdin: z.boolean().optional(),
    AttachStdout: z.boolean().optional(),
    AttachStderr: z.boolean().optional(),
    ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
    Tty: z.boolean().optional(),
    OpenStdin: z.boolean().optional(),
    StdinOnce: z.boolean().optional(),
    Env: strArr,
    Cmd: z.union([z.array(z.string()), z.string()]).nullish(),
    Healthcheck: healthSchema,
    Image: z.string().optional(),
    Volumes: z.record(z.string(), z.unknown()).nullish(),
    WorkingDir: z.string().optional(),
    Entrypoint: z.union([z.array(z.string()), z.string()]).nullish(),
    NetworkDisabled: z.boolean().nullish(),
    MacAddress: z.string().nullish(),
    Labels: strMap,
    StopSignal: z.string().nullish(),
    StopTimeout: num,
    HostConfig: hostConfigSchema.nullish(),
    NetworkingConfig: z
      .object({
        EndpointsConfig: z
          .record(z.string(), z.object({ Aliases: strArr, IPAMConfig: z.object({ IPv4Address: z.string().optional() }).passthrough().nullish() }).passthrough().nullish())
          .nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();

export type CreateBody = z.infer<typeof createBodySchema>;

const bad = (msg: string) => new BerthError('invalid-argument', msg);
const LINUX_MIN_MEMORY = 6 * 1024 * 1024;

function checkPort(spec: string): string {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(spec);
  if (!m) throw bad(`invalid port specification: "${spec}"`);
  for (const p of [m[1], m[2]]) {
    if (p !== undefined && (Number(p) < 0 || Number(p) > 65535)) throw bad(`invalid port specification: "${p}"`);
  }
  return m[3] ? spec : `${spec}/tcp`;
}

function toMountSpec(m: z.infer<typeof mountSchema>): MountSpec {
  const type = m.Type ?? '';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw bad(`invalid mount config: mount type unknown: "${type}"`);
  if (!m.Target) throw bad('invalid mount config: Target must not be empty');
  if (type === 'bind' && !m.Source) throw bad(`invalid mount config for type "bind": field Source must not be empty`);
  if (type === 'tmpfs' && m.Source) throw bad(`invalid mount config for type "tmpfs": field Source must not be specified`);
  return {
    type,
    source: m.Source ?? '',
    target: m.Target,
    readOnly: !!m.ReadOnly,
    options: {
      propagation: m.BindOptions?.Propagation || undefined,
      noCopy: m.VolumeOptions?.NoCopy,
      volumeLabels: m.VolumeOptions?.Labels ?? undefined,
      tmpfsSizeBytes: m.TmpfsOptions?.SizeBytes ?? undefined,
      tmpfsMode: m.TmpfsOptions?.Mode ?? undefined,
    },
  };
}

const RESTART_NAMES = ['no', 'always', 'unless-stopped', 'on-failure'] as const;

export function restartPolicyFrom(rp: { Name?: string; MaximumRetryCount?: number | null } | null | undefined): ContainerSpec['host']['restartPolicy'] {
  const name = rp?.Name || 'no';
  const count = rp?.MaximumRetryCount ?? 0;
  if (!(RESTART_NAMES as readonly string[]).includes(name)) {
    throw bad(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (count < 0) throw bad('invalid restart policy: maximum retry count cannot be negative');
  if (count > 0 && name !== 'on-failure') throw bad(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  return { name: name as (typeof RESTART_NAMES)[number], maximumRetryCount: count };
}

/** Validates resource values with dockerd's messages. */
export function checkResources(h: { Memory?: number | null; NanoCpus?: number | null; MemorySwap?: number | null; CpuQuota?: number | null; CpuPeriod?: number | null; PidsLimit?: number | null; CpuShares?: number | null; MemoryReservation?: number | null }): void {
  const memory = h.Memory ?? 0;
  if (memory !== 0 && memory < LINUX_MIN_MEMORY) throw bad('Minimum memory limit allowed is 6MB');
  if ((h.MemorySwap ?? 0) > 0 && memory === 0) throw bad('You should always set the Memory limit when using Memoryswap limit, see usage');
  if ((h.MemorySwap ?? 0) > 0 && (h.MemorySwap ?? 0) < memory) throw bad('Minimum memoryswap limit should be larger than memory limit, see usage');
  if ((h.MemoryReservation ?? 0) < 0) throw bad('Minimum memory reservation allowed is 6MB');
  const cpus = availableParallelism();
  const nano = h.NanoCpus ?? 0;
  if (nano < 0 || nano > cpus * 1e9) throw bad(`Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`);
  if (nano > 0 && ((h.CpuQuota ?? 0) > 0 || (h.CpuPeriod ?? 0) > 0)) {
    throw bad('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if ((h.CpuPeriod ?? 0) !== 0 && ((h.CpuPeriod ?? 0) < 1000 || (h.CpuPeriod ?? 0) > 1000000)) throw bad('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if ((h.CpuQuota ?? 0) > 0 && (h.CpuQuota ?? 0) < 1000) throw bad('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((h.CpuShares ?? 0) < 0) throw bad('invalid CPU shares');
}

function toArgv(v: string[] | string | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? [v] : v;
}

/** Wire create body → domain spec; throws invalid-argument with Docker's messages. */
export function specFromCreateBody(body: CreateBody): ContainerSpec {
  if (!body.Image) throw bad('Config cannot be empty in order to create a container');
  const s = defaultContainerSpec(body.Image);
  const cmd = toArgv(body.Cmd);
  if (cmd && cmd.length > 0) s.cmd = cmd;
  const ep = toArgv(body.Entrypoint);
  if (ep !== undefined) s.entrypoint = ep.length === 1 && ep[0] === '' ? [] : ep;
  s.env = body.Env ?? [];
  for (const e of s.env) if (e.startsWith('=')) throw bad(`invalid environment variable: ${e}`);
  s.workingDir = body.WorkingDir ?? '';
  if (s.workingDir && !s.workingDir.startsWith('/')) throw bad(`the working directory '${s.workingDir}' is invalid, it needs to be an absolute path`);
  s.user = body.User ?? '';
  s.hostname = body.Hostname ?? '';
  s.domainname = body.Domainname ?? '';
  s.tty = !!body.Tty;
  s.openStdin = !!body.OpenStdin;
  s.stdinOnce = !!body.StdinOnce;
  s.attachStdin = !!body.AttachStdin;
  s.attachStdout = !!body.AttachStdout;
  s.attachStderr = !!body.AttachStderr;
  s.labels = body.Labels ?? {};
  s.stopSignal = body.StopSignal || undefined;
  s.stopTimeout = body.StopTimeout ?? undefined;
  s.exposedPorts = Object.keys(body.ExposedPorts ?? {}).map(checkPort);
  s.volumes = Object.keys(body.Volumes ?? {});
  s.networkDisabled = !!body.NetworkDisabled;
  s.macAddress = body.MacAddress ?? '';
  if (body.Healthcheck) {
    const h = body.Healthcheck;
    for (const [k, v] of [['Interval', h.Interval], ['Timeout', h.Timeout], ['StartPeriod', h.StartPeriod]] as const) {
      if (v && v < 1_000_000) throw bad(`${k} in Healthcheck cannot be less than 1ms`);
      if (v && v < 0) throw bad(`${k} in Healthcheck cannot be negative`);
    }
    if ((h.Retries ?? 0) < 0) throw bad('Retries in Healthcheck cannot be negative');
    s.healthcheck = {
      test: h.Test ?? undefined,
      intervalNs: h.Interval ?? 0,
      timeoutNs: h.Timeout ?? 0,
      startPeriodNs: h.StartPeriod ?? 0,
      startIntervalNs: h.StartInterval ?? 0,
      retries: h.Retries ?? 0,
    };
  }
  const hc = body.HostConfig ?? {};
  checkResources(hc);
  const host = s.host;
  host.binds = hc.Binds ?? [];
  if (hc.VolumesFrom?.length) host.volumesFrom = hc.VolumesFrom;
  host.mounts = (hc.Mounts ?? []).map(toMountSpec);
  host.tmpfs = hc.Tmpfs ?? {};
  // dockerd: an empty or "default" mode is the default bridge on Linux.
  host.networkMode = !hc.NetworkMode || hc.NetworkMode === 'default' ? 'bridge' : hc.NetworkMode;
  if (s.networkDisabled) host.networkMode = 'none';
  host.portBindings = {};
  for (const [port, bindings] of Object.entries(hc.PortBindings ?? {})) {
    const key = checkPort(port);
    host.portBindings[key] = (bindings ?? []).map((b) => {
      if (b.HostPort && !/^\d+(-\d+)?$/.test(b.HostPort)) throw bad(`invalid port specification: "${b.HostPort}"`);
      if (b.HostPort && b.HostPort.split('-').some((p) => Number(p) > 65535)) throw bad(`invalid port specification: "${b.HostPort}"`);
      return { hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' };
    });
  }
  host.publishAllPorts = !!hc.PublishAllPorts;
  host.privileged = !!hc.Privileged;
  host.readonlyRootfs = !!hc.ReadonlyRootfs;
  host.capAdd = hc.CapAdd ?? [];
  host.capDrop = hc.CapDrop ?? [];
  host.securityOpt = hc.SecurityOpt ?? [];
  // Throws invalid-argument (400) for an unknown option or a bad seccomp profile.
  const security = parseSecurityOpts(host.securityOpt);
  if (hc.MaskedPaths) host.maskedPaths = hc.MaskedPaths;
  if (hc.ReadonlyPaths) host.readonlyPaths = hc.ReadonlyPaths;
  if (security.unconfinedSystemPaths) host.maskedPaths = host.readonlyPaths = [];
  host.restartPolicy = restartPolicyFrom(hc.RestartPolicy);
  host.autoRemove = !!hc.AutoRemove;
  host.memory = hc.Memory ?? 0;
  host.memorySwap = hc.MemorySwap ?? 0;
  host.memoryReservation = hc.MemoryReservation ?? 0;
  host.nanoCpus = hc.NanoCpus ?? 0;
  host.cpuShares = hc.CpuShares ?? 0;
  host.cpuQuota = hc.CpuQuota ?? 0;
  host.cpuPeriod = hc.CpuPeriod ?? 0;
  host.cpusetCpus = hc.CpusetCpus ?? '';
  host.pidsLimit = hc.PidsLimit ?? 0;
  host.ulimits = (hc.Ulimits ?? []).map((u) => {
    if (!u.Name) throw bad('invalid ulimit: empty name');
    if ((u.Soft ?? 0) > (u.Hard ?? 0)) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    return { name: u.Name, soft: u.Soft ?? 0, hard: u.Hard ?? 0 };
  });
  host.extraHosts = hc.ExtraHosts ?? [];
  for (const h of host.extraHosts) if (!/^[^:]+:.+$/.test(h)) throw bad(`invalid argument "${h}" for "--add-host" flag: invalid IP address in add-host: ""`);
  host.dns = hc.Dns ?? [];
  host.dnsSearch = hc.DnsSearch ?? [];
  host.dnsOptions = hc.DnsOptions ?? [];
  host.sysctls = hc.Sysctls ?? {};
  host.ipcMode = hc.IpcMode || 'private';
  host.pidMode = hc.PidMode ?? '';
  host.utsMode = hc.UTSMode ?? '';
  host.init = !!hc.Init;
  host.shmSize = hc.ShmSize ?? 0;
  if (host.shmSize < 0) throw bad('SHM size can not be less than 0');
  host.groupAdd = hc.GroupAdd ?? [];
  host.devices = (hc.Devices ?? []).map((d) => {
    if (!d.PathOnHost) throw bad('invalid device mapping: PathOnHost must not be empty');
    if (d.CgroupPermissions && !/^[rwm]{1,3}$/.test(d.CgroupPermissions)) throw bad(`invalid device mode: ${d.CgroupPermissions}`);
    return { pathOnHost: d.PathOnHost, pathInContainer: d.PathInContainer || d.PathOnHost, cgroupPermissions: d.CgroupPermissions || 'rwm' };
  });
  host.oomKillDisable = !!hc.OomKillDisable;
  const logType = hc.LogConfig?.Type || 'k8s-file';
  if (!['k8s-file', 'json-file', 'local', 'none'].includes(logType)) throw bad(`logger: no log driver named '${logType}' is registered`);
  host.logConfig = { type: logType, config: hc.LogConfig?.Config ?? {} };
  for (const [rawName, ep] of Object.entries(body.NetworkingConfig?.EndpointsConfig ?? {})) {
    const name = rawName === 'default' ? 'bridge' : rawName;
    s.endpoints[name] = { aliases: ep?.Aliases ?? [], ipv4Address: ep?.IPAMConfig?.IPv4Address || undefined };
  }
  return s;
}

// ---------- domain → wire ----------

export function hostConfigWire(s: ContainerSpec): HostConfig {
  const h = s.host;
  const portBindings: NonNullable<HostConfig['PortBindings']> = {};
  for (const [k, v] of Object.entries(h.portBindings)) portBindings[k] = v.map((b) => ({ HostIp: b.hostIp, HostPort: b.hostPort }));
  return {
    Binds: h.binds.length ? h.binds : null,
    ContainerIDFile: '',
    LogConfig: { Type: h.logConfig.type === 'k8s-file' ? 'json-file' : h.logConfig.type, Config: h.logConfig.config },
    NetworkMode: h.networkMode === 'default' ? 'bridge' : h.networkMode,
    PortBindings: portBindings,
    RestartPolicy: { Name: h.restartPolicy.name, MaximumRetryCount: h.restartPolicy.maximumRetryCount },
    AutoRemove: h.autoRemove,
    VolumeDriver: '',
    VolumesFrom: h.volumesFrom?.length ? h.volumesFrom : null,
    ConsoleSize: [0, 0],
    CapAdd: h.capAdd.length ? h.capAdd : null,
    CapDrop: h.capDrop.length ? h.capDrop : null,
    CgroupnsMode: 'host',
    Dns: h.dns,
    DnsOptions: h.dnsOptions,
    DnsSearch: h.dnsSearch,
    ExtraHosts: h.extraHosts.length ? h.extraHosts : null,
    GroupAdd: h.groupAdd.length ? h.groupAdd : null,
    IpcMode: h.ipcMode,
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: h.pidMode,
    Privileged: h.privileged,
    PublishAllPorts: h.publishAllPorts,
    ReadonlyRootfs: h.readonlyRootfs,
    SecurityOpt: h.securityOpt.length ? h.securityOpt : null,
    Tmpfs: Object.keys(h.tmpfs).length ? h.tmpfs : undefined,
    UTSMode: h.utsMode,
    UsernsMode: '',
    ShmSize: h.shmSize || 67108864,
    Sysctls: Object.keys(h.sysctls).length ? h.sysctls : undefined,
    Runtime: 'runc',
    Isolation: '',
    CpuShares: h.cpuShares,
    Memory: h.memory,
    NanoCpus: h.nanoCpus,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: h.cpuPeriod,
    CpuQuota: h.cpuQuota,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: h.cpusetCpus,
    CpusetMems: '',
    Devices: (h.devices ?? []).map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer, CgroupPermissions: d.cgroupPermissions })),
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: h.memoryReservation,
    MemorySwap: h.memorySwap,
    MemorySwappiness: null,
    OomKillDisable: h.oomKillDisable,
    PidsLimit: h.pidsLimit || null,
    Ulimits: h.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    Mounts: h.mounts.length ? h.mounts.map(mountWire) : undefined,
    MaskedPaths: h.privileged ? null : (h.maskedPaths ?? MASKED_PATHS),
    ReadonlyPaths: h.privileged ? null : (h.readonlyPaths ?? READONLY_PATHS),
    // Go's HostConfig field order (docker's typed `{{json .HostConfig}}`); Init is omitempty.
    ...(h.init ? { Init: true } : {}),
  };
}

function mountWire(m: MountSpec): WireMount {
  const w: WireMount = { Type: m.type, Source: m.source, Target: m.target };
  if (m.readOnly) w.ReadOnly = true;
  if (m.type === 'tmpfs' && (m.options?.tmpfsSizeBytes || m.options?.tmpfsMode)) {
    w.TmpfsOptions = { SizeBytes: m.options.tmpfsSizeBytes, Mode: m.options.tmpfsMode };
  }
  return w;
}

/** Config as inspect shows it: the spec merged with the image config, like dockerd stores it. */
export function configWire(c: Container): ContainerConfig {
  const s = c.config.spec;
  const img = c.config.image.config;
  const env = [...(img.Env ?? [])];
  for (const e of s.env) {
    const k = e.split('=')[0];
    const i = env.findIndex((x) => x.split('=')[0] === k);
    if (i >= 0) env[i] = e;
    else env.push(e);
  }
  const exposed: Record<string, object> = {};
  for (const p of exposedPorts(c)) exposed[p] = {};
  const volumes: Record<string, object> = {};
  for (const v of [...Object.keys(img.Volumes ?? {}), ...s.volumes]) volumes[v] = {};
  const health = s.healthcheck ?? (img.Healthcheck ? undefined : undefined);
  const healthcheck = health
    ? {
        Test: health.test,
        Interval: health.intervalNs || undefined,
        Timeout: health.timeoutNs || undefined,
        StartPeriod: health.startPeriodNs || undefined,
        Retries: health.retries || undefined,
      }
    : img.Healthcheck;
  const stopSignal = s.stopSignal ?? img.StopSignal;
  // Keys in the field order of Go's container.Config (docker's typed `{{json .Config}}` and
  // clients that print the raw JSON show them so); omitempty fields only when set.
  const cfg: ContainerConfig = {
    Hostname: s.hostname || c.id.slice(0, 12),
    Domainname: s.domainname,
    User: s.user || img.User || '',
    AttachStdin: s.attachStdin,
    AttachStdout: s.attachStdout,
    AttachStderr: s.attachStderr,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: s.tty,
    OpenStdin: s.openStdin,
    StdinOnce: s.stdinOnce,
    Env: env,
    Cmd: s.entrypoint !== undefined ? s.cmd ?? null : s.cmd ?? img.Cmd ?? null,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: s.image,
    Volumes: Object.keys(volumes).length ? volumes : null,
    WorkingDir: s.workingDir || img.WorkingDir || '',
    Entrypoint: s.entrypoint !== undefined ? (s.entrypoint.length ? s.entrypoint : null) : img.Entrypoint ?? null,
    OnBuild: null,
    Labels: { ...(img.Labels ?? {}), ...s.labels },
    ...(stopSignal ? { StopSignal: stopSignal } : {}),
    ...(s.stopTimeout !== undefined ? { StopTimeout: s.stopTimeout } : {}),
  };
  return cfg;
}

export function mountsWire(c: Container): MountPointWire[] {
  return c.config.mountPoints.map((m) => ({
    Type: m.type,
    ...(m.name ? { Name: m.name } : {}),
    Source: m.source,
    Destination: m.destination,
    ...(m.driver ? { Driver: m.driver } : {}),
    Mode: m.mode,
    RW: m.rw,
    Propagation: m.propagation,
  }));
}

function networksOf(c: Container): Record<string, Record<string, unknown>> {
  const ns = c.state.networkSettings as { networks?: Record<string, Record<string, unknown>> } | undefined;
  if (ns?.networks) return ns.networks;
  const mode = c.config.spec.host.networkMode;
  return { [mode === 'default' ? 'bridge' : mode.startsWith('container:') ? 'container' : mode]: {} };
}

function endpointWire(e: Record<string, unknown>): Record<string, unknown> {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: e.aliases ?? null,
    MacAddress: e.macAddress ?? '',
    DriverOpts: null,
    NetworkID: e.networkId ?? '',
    EndpointID: e.endpointId ?? '',
    Gateway: e.gateway ?? '',
    IPAddress: e.ipAddress ?? '',
    IPPrefixLen: e.ipPrefixLen ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: e.dnsNames ?? null,
  };
}

/** A running container's bound ports: `<port>/<proto>` → its host bindings (none when it is not running). */
export function boundPorts(c: Container): Record<string, Array<{ hostIp: string; hostPort: string }>> {
  if (!c.isRunning) return {};
  return (c.state.networkSettings as { ports?: Record<string, Array<{ hostIp: string; hostPort: string }>> } | undefined)?.ports ?? {};
}

/** The ports a container exposes (`<port>/<proto>`): the image's, then its own (--expose, -p). */
export function exposedPorts(c: Container): string[] {
  return [...Object.keys(c.config.image.config.ExposedPorts ?? {}), ...c.config.spec.exposedPorts];
}

function portsWire(c: Container): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const p of exposedPorts(c)) out[p] = null;
  for (const [k, v] of Object.entries(boundPorts(c))) out[k] = v.map((b) => ({ HostIp: b.hostIp, HostPort: b.hostPort }));
  return out;
}

export function inspectWire(c: Container, opts: { size?: { rw: number; rootFs: number } } = {}): ContainerInspectResponse {
  const st = c.state;
  const networks: Record<string, unknown> = {};
  for (const [name, e] of Object.entries(networksOf(c))) networks[name] = endpointWire(c.isRunning ? e : {});
  const first = Object.values(networksOf(c))[0] ?? {};
  const running = c.isRunning;
  const health = st.health
    ? {
        Status: st.health.status,
        FailingStreak: st.health.failingStreak,
        Log: st.health.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })),
      }
    : undefined;
  const out: ContainerInspectResponse = {
    Id: c.id,
    Created: c.config.created,
    Path: c.config.path,
    Args: c.config.args,
    State: {
      Status: st.status,
      Running: running,
      Paused: st.status === 'paused',
      Restarting: st.status === 'restarting',
      OOMKilled: st.oomKilled,
      Dead: st.status === 'dead',
      Pid: running ? st.pid : 0,
      ExitCode: st.exitCode,
      Error: st.error,
      StartedAt: st.startedAt,
      FinishedAt: st.finishedAt,
      ...(health ? { Health: health } : {}),
    },
    Image: c.config.image.id,
    ResolvConfPath: `${c.userdata}/resolv.conf`,
    HostnamePath: `${c.userdata}/hostname`,
    HostsPath: `${c.userdata}/hosts`,
    LogPath: c.logPath,
    Name: `/${c.name}`,
    RestartCount: st.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: c.execIds.size ? [...c.execIds] : null,
    HostConfig: hostConfigWire(c.config.spec),
    GraphDriver: { Data: { MergedDir: c.rootfs, UpperDir: '', WorkDir: '' }, Name: 'overlay2' },
    Mounts: mountsWire(c),
    Config: configWire(c),
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: running && c.config.spec.host.networkMode !== 'host' ? `/proc/${st.pid}/ns/net` : '',
      Ports: portsWire(c),
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: running ? String(first.endpointId ?? '') : '',
      Gateway: running ? String(first.gateway ?? '') : '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: running ? String(first.ipAddress ?? '') : '',
      IPPrefixLen: running ? Number(first.ipPrefixLen ?? 0) : 0,
      IPv6Gateway: '',
      MacAddress: running ? String(first.macAddress ?? '') : '',
      Networks: networks as ContainerInspectResponse['NetworkSettings']['Networks'],
    },
  };
  if (opts.size) {
    out.SizeRw = opts.size.rw;
    out.SizeRootFs = opts.size.rootFs;
  }
  return out;
}

function shellQuoteCommand(path: string, args: string[]): string {
  return [path, ...args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

export function summaryWire(c: Container, opts: { size?: { rw: number; rootFs: number } } = {}): ContainerSummary {
  const st = c.state;
  const ports: ContainerSummary['Ports'] = [];
  const seen = new Set<string>();
  for (const [k, v] of Object.entries(boundPorts(c))) {
    const [p, type = 'tcp'] = k.split('/');
    seen.add(k);
    for (const b of v) ports.push({ IP: b.hostIp || '0.0.0.0', PrivatePort: Number(p), PublicPort: Number(b.hostPort), Type: type });
  }
  for (const k of exposedPorts(c)) {
    if (seen.has(k)) continue;
    const [p, type = 'tcp'] = k.split('/');
    ports.push({ PrivatePort: Number(p), Type: type });
  }
  const networks: Record<string, unknown> = {};
  for (const [name, e] of Object.entries(networksOf(c))) networks[name] = endpointWire(c.isRunning ? e : {});
  const out: ContainerSummary = {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.config.image.ref,
    ImageID: c.config.image.id,
    Command: shellQuoteCommand(c.config.path, c.config.args),
    Created: Math.floor(Date.parse(c.config.created) / 1000),
    Ports: ports,
    Labels: { ...(c.config.image.config.Labels ?? {}), ...c.config.spec.labels },
    State: st.status,
    Status: humanStatus({
      status: st.status,
      startedAt: st.startedAt === ZERO_TIME ? c.config.created : st.startedAt,
      finishedAt: st.finishedAt === ZERO_TIME ? c.config.created : st.finishedAt,
      exitCode: st.exitCode,
      health: st.health?.status,
    }),
    HostConfig: { NetworkMode: c.config.spec.host.networkMode === 'default' ? 'bridge' : c.config.spec.host.networkMode },
    NetworkSettings: { Networks: networks as ContainerSummary['NetworkSettings']['Networks'] },
    Mounts: mountsWire(c),
  };
  if (opts.size) {
    out.SizeRw = opts.size.rw;
    out.SizeRootFs = opts.size.rootFs;
  }
  return out;
}

export type { ContainerCreateRequest };
