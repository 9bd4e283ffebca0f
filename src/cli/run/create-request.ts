// `run`/`create` flags → the Engine API's create request (ContainerConfig + HostConfig +
// NetworkingConfig), as the docker CLI builds it (cli/command/container/opts.go). Every
// bad value fails here, before anything is sent.
import { readFileSync } from 'node:fs';
import type { ContainerCreateRequest, EndpointSettings, HealthConfig, HostConfig } from '../../client/index.js';
import { errorMessage } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import { UsageError } from '../exit-codes.js';
import { listOpt, stringOpt } from '../commands/filters.js';
import {
  flagError,
  parseAddHost,
  parseCpusFlag,
  parseDnsSearch,
  parseDurationFlag,
  parseEnvFileText,
  parseIntFlag,
  parseIpFlag,
  parseKeyValues,
  parseRestartPolicy,
  parseSizeFlag,
  parseUlimit,
  resolveEnvFlag,
} from './flag-values.js';
import { parseMountFlags } from './mounts.js';
import { parsePorts } from './ports.js';
import { parseSecurityOptFlags } from './security-opts.js';

export type PullPolicy = 'always' | 'missing' | 'never';

export interface CreatePlan {
  body: ContainerCreateRequest;
  name: string | undefined;
  platform: string | undefined;
  pull: PullPolicy;
  image: string;
  cidfile: string | undefined;
}

/** Reads a file a flag names (env files, label files), with docker's error. */
function readFlagFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : errorMessage(err)}`);
  }
}

function healthConfig(opts: CommandOptions): HealthConfig | undefined {
  const cmd = stringOpt(opts['healthCmd']);
  const interval = stringOpt(opts['healthInterval']);
  const timeout = stringOpt(opts['healthTimeout']);
  const startPeriod = stringOpt(opts['healthStartPeriod']);
  const startInterval = stringOpt(opts['healthStartInterval']);
  const retries = stringOpt(opts['healthRetries']);
  const any = [cmd, interval, timeout, startPeriod, startInterval, retries].some((v) => v !== undefined);
  if (opts['healthcheck'] === false) {
    if (any) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  const hc: HealthConfig = {};
  if (cmd !== undefined) hc.Test = cmd === '' ? [] : ['CMD-SHELL', cmd];
  const dur = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const ns = parseDurationFlag(flag, v);
    if (ns < 0) throw new UsageError(`${flag} cannot be negative`);
    return ns;
  };
  const i = dur('--health-interval', interval);
  const t = dur('--health-timeout', timeout);
  const sp = dur('--health-start-period', startPeriod);
  const si = dur('--health-start-interval', startInterval);
  if (i !== undefined) hc.Interval = i;
  if (t !== undefined) hc.Timeout = t;
  if (sp !== undefined) hc.StartPeriod = sp;
  if (si !== undefined) hc.StartInterval = si;
  if (retries !== undefined) {
    const n = parseIntFlag('--health-retries', retries);
    if (n < 0) throw new UsageError('--health-retries cannot be negative');
    hc.Retries = n;
  }
  return hc;
}

function attachStreams(opts: CommandOptions): Set<string> | undefined {
  const values = listOpt(opts['attach']);
  if (!values.length) return undefined;
  const out = new Set<string>();
  for (const v of values) {
    const s = v.toLowerCase();
    if (s !== 'stdin' && s !== 'stdout' && s !== 'stderr') throw flagError('-a, --attach', v, 'valid streams are STDIN, STDOUT and STDERR');
    out.add(s);
  }
  return out;
}

/**
 * Turns the parsed flags and positional arguments (`IMAGE [COMMAND] [ARG...]`) into a plan.
 * As docker does, `create` records the streams a later `start -a` attaches (stdout and
 * stderr, stdin with -i, so `create -i` + `start -ai` closes the container's stdin at EOF);
 * only `run -d` clears them.
 */
export function buildCreatePlan(opts: CommandOptions, args: string[], mode: { run: boolean; cwd?: string; env?: NodeJS.ProcessEnv }): CreatePlan {
  const env = mode.env ?? process.env;
  const [image, ...cmd] = args;
  if (!image) throw new UsageError('requires at least 1 argument');
  const detach = mode.run && opts['detach'] === true;
  const tty = opts['tty'] === true;
  const interactive = opts['interactive'] === true;

  const pull = stringOpt(opts['pull']) ?? 'missing';
  if (pull !== 'always' && pull !== 'missing' && pull !== 'never') {
    throw new UsageError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }

  // Which streams a foreground run attaches (docker: -a, else stdout+stderr, +stdin with -i).
  const attach = attachStreams(opts);
  if (attach && mode.run && opts['detach'] === true) throw new UsageError('Conflicting options: -a and -d');
  const attachStdin = !detach && (attach ? attach.has('stdin') : interactive);
  const attachStdout = !detach && (attach ? attach.has('stdout') : true);
  const attachStderr = !detach && (attach ? attach.has('stderr') : true);

  const envList: string[] = [];
  for (const f of listOpt(opts['envFile'])) envList.push(...parseEnvFileText(readFlagFile(f), f, env));
  for (const e of listOpt(opts['env'])) envList.push(resolveEnvFlag(e, env));

  const labels: Record<string, string> = {};
  for (const f of listOpt(opts['labelFile'])) Object.assign(labels, parseKeyValues(parseEnvFileText(readFlagFile(f), f, {})));
  Object.assign(labels, parseKeyValues(listOpt(opts['label'])));

  const ports = parsePorts(listOpt(opts['publish']), listOpt(opts['expose']));
  const mounts = parseMountFlags(listOpt(opts['volume']), listOpt(opts['mount']), listOpt(opts['tmpfs']), mode.cwd);

  const restart = parseRestartPolicy(stringOpt(opts['restart']) ?? 'no');
  const autoRemove = opts['rm'] === true;
  if (autoRemove && restart.Name !== 'no' && restart.Name !== '') {
    throw new UsageError('Conflicting options: --restart and --rm');
  }

  const security = parseSecurityOptFlags(listOpt(opts['securityOpt']));
  const host: HostConfig = {
    Binds: mounts.binds.length ? mounts.binds : null,
    NetworkMode: listOpt(opts['network'])[0] ?? 'default',
    PortBindings: ports.bindings,
    RestartPolicy: restart,
    AutoRemove: autoRemove,
    PublishAllPorts: opts['publishAll'] === true,
    Privileged: opts['privileged'] === true,
    ReadonlyRootfs: opts['readOnly'] === true,
    CapAdd: listOpt(opts['capAdd']).length ? listOpt(opts['capAdd']) : null,
    CapDrop: listOpt(opts['capDrop']).length ? listOpt(opts['capDrop']) : null,
    SecurityOpt: security.securityOpt.length ? security.securityOpt : null,
    ...(security.maskedPaths ? { MaskedPaths: security.maskedPaths, ReadonlyPaths: security.readonlyPaths ?? [] } : {}),
    Dns: listOpt(opts['dns']).map((d) => parseIpFlag('--dns', d)),
    DnsOptions: listOpt(opts['dnsOption']),
    DnsSearch: listOpt(opts['dnsSearch']).map(parseDnsSearch),
    ExtraHosts: listOpt(opts['addHost']).length ? listOpt(opts['addHost']).map(parseAddHost) : null,
    GroupAdd: listOpt(opts['groupAdd']).length ? listOpt(opts['groupAdd']) : null,
    VolumesFrom: listOpt(opts['volumesFrom']).length ? listOpt(opts['volumesFrom']) : null,
    Mounts: mounts.mounts.length ? mounts.mounts : null,
    Tmpfs: Object.keys(mounts.tmpfs).length ? mounts.tmpfs : null,
    Ulimits: listOpt(opts['ulimit']).length ? listOpt(opts['ulimit']).map(parseUlimit) : null,
    LogConfig: { Type: stringOpt(opts['logDriver']) ?? '', Config: parseKeyValues(listOpt(opts['logOpt'])) },
    Sysctls: listOpt(opts['sysctl']).length ? parseKeyValues(listOpt(opts['sysctl']), { flag: '--sysctl', requireValue: true }) : null,
  };
  if (opts['init'] === true) host.Init = true;
  const memory = stringOpt(opts['memory']);
  if (memory !== undefined) host.Memory = parseSizeFlag('-m, --memory', memory);
  const memorySwap = stringOpt(opts['memorySwap']);
  if (memorySwap !== undefined) host.MemorySwap = memorySwap === '-1' ? -1 : parseSizeFlag('--memory-swap', memorySwap);
  const memoryReservation = stringOpt(opts['memoryReservation']);
  if (memoryReservation !== undefined) host.MemoryReservation = parseSizeFlag('--memory-reservation', memoryReservation);
  const shm = stringOpt(opts['shmSize']);
  if (shm !== undefined) host.ShmSize = parseSizeFlag('--shm-size', shm);
  const cpus = stringOpt(opts['cpus']);
  if (cpus !== undefined) host.NanoCpus = parseCpusFlag('--cpus', cpus);
  const cpuShares = stringOpt(opts['cpuShares']);
  if (cpuShares !== undefined) host.CpuShares = parseIntFlag('--cpu-shares', cpuShares);
  const cpuset = stringOpt(opts['cpusetCpus']);
  if (cpuset !== undefined) host.CpusetCpus = cpuset;
  const pids = stringOpt(opts['pidsLimit']);
  if (pids !== undefined) host.PidsLimit = parseIntFlag('--pids-limit', pids);
  for (const [flag, key] of [['ipc', 'IpcMode'], ['pid', 'PidMode'], ['uts', 'UTSMode'], ['userns', 'UsernsMode']] as const) {
    const v = stringOpt(opts[flag]);
    if (v !== undefined) host[key] = v;
  }
  const devices = listOpt(opts['device']);
  if (devices.length) {
    host.Devices = devices.map((d) => {
      const [onHost, inContainer, perms] = d.split(':');
      return { PathOnHost: onHost, PathInContainer: inContainer ?? onHost, CgroupPermissions: perms ?? 'rwm' };
    });
  }

  // The first --network is the mode; every further one is joined at create (API ≥ 1.44).
  // --network-alias and --ip apply to the first, as docker's short syntax does.
  const networks = listOpt(opts['network']);
  const networkMode = host.NetworkMode!;
  const aliases = listOpt(opts['networkAlias']);
  const ip = stringOpt(opts['ip']);
  const endpointsConfig: Record<string, EndpointSettings> = {};
  if (aliases.length || ip !== undefined) {
    const ep: EndpointSettings = {};
    if (aliases.length) ep.Aliases = aliases;
    if (ip !== undefined) ep.IPAMConfig = { IPv4Address: parseIpFlag('--ip', ip) };
    endpointsConfig[networkMode] = ep;
  }
  for (const n of networks.slice(1)) {
    if (n in endpointsConfig || n === networkMode) throw new UsageError(`network "${n}" is specified multiple times`);
    endpointsConfig[n] = {};
  }

  const entrypoint = stringOpt(opts['entrypoint']);
  const stopTimeout = stringOpt(opts['stopTimeout']);
  const body: ContainerCreateRequest = {
    Hostname: stringOpt(opts['hostname']) ?? '',
    Domainname: stringOpt(opts['domainname']) ?? '',
    User: stringOpt(opts['user']) ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(ports.exposed).length ? ports.exposed : undefined,
    Tty: tty,
    OpenStdin: interactive,
    StdinOnce: interactive && attachStdin,
    Env: envList,
    Cmd: cmd.length ? cmd : null,
    Image: image,
    Volumes: Object.keys(mounts.volumes).length ? mounts.volumes : undefined,
    WorkingDir: stringOpt(opts['workdir']) ?? '',
    Entrypoint: entrypoint === undefined ? null : [entrypoint],
    Labels: labels,
    HostConfig: host,
    NetworkingConfig: { EndpointsConfig: endpointsConfig },
  };
  const hc = healthConfig(opts);
  if (hc) body.Healthcheck = hc;
  const stopSignal = stringOpt(opts['stopSignal']);
  if (stopSignal !== undefined) body.StopSignal = stopSignal;
  if (stopTimeout !== undefined) body.StopTimeout = parseIntFlag('--stop-timeout', stopTimeout);
  const mac = stringOpt(opts['macAddress']);
  if (mac !== undefined) body.MacAddress = mac;

  return {
    body,
    name: stringOpt(opts['name']),
    platform: stringOpt(opts['platform']),
    pull,
    image,
    cidfile: stringOpt(opts['cidfile']),
  };
}
