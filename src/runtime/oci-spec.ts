// Generates runc's config.json (OCI runtime spec 1.0) from a ContainerSpec and the image
// config, with Docker's defaults (moby daemon/oci_linux.go + oci/defaults.go semantics).
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { invalidArgument } from '../util/index.js';
import { computeCapabilities } from './capabilities.js';
import type { OciDevice } from './devices.js';
import { appArmorProfileFor } from './apparmor.js';
import { seccompFor, type OciSeccomp } from './seccomp.js';
import { parseSecurityOpts, type HostSecurity } from './security-opts.js';
import type { ContainerSpec, ImageRuntimeConfig, Ulimit } from './container-spec.js';
import type { ResolvedUser } from './user.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;
/** Where `--init` binds the init binary, as Docker does. */
export const INIT_PATH = '/sbin/docker-init';
/** The files of a container's userdata directory bound over its /etc, as dockerd binds them. */
export const NETWORK_FILES = [
  ['resolv.conf', '/etc/resolv.conf'],
  ['hostname', '/etc/hostname'],
  ['hosts', '/etc/hosts'],
] as const;

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
  rlimits?: Array<{ type: string; hard: number; soft: number }>;
  noNewPrivileges: boolean;
  apparmorProfile?: string;
  consoleSize?: { height: number; width: number };
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  linux: {
    resources: Record<string, unknown>;
    cgroupsPath: string;
    namespaces: Array<{ type: string; path?: string }>;
    maskedPaths: string[];
    readonlyPaths: string[];
    sysctl?: Record<string, string>;
    seccomp?: OciSeccomp;
    devices?: OciDevice[];
  };
}

export type NamespaceSource = { mode: 'new' } | { mode: 'host' } | { mode: 'path'; path: string };

export interface OciSpecInput {
  /** 64-hex container id; the hostname defaults to its first 12 characters. */
  id: string;
  spec: ContainerSpec;
  image: ImageRuntimeConfig;
  rootfs: string;
  /** Directory holding `hosts`, `resolv.conf` and `hostname` for the bind mounts. */
  userdataDir: string;
  user: ResolvedUser;
  /** Process args from `commandFor` (with the init prefix when --init). */
  args: string[];
  /** The daemon's own capability bounding set. */
  bounding: string[];
  /** Hard limits of the daemon (`/proc/self/limits`); requested ulimits are clamped to them. */
  hostHardLimits: Record<string, number>;
  cgroupsPath: string;
  network: NamespaceSource;
  ipc?: NamespaceSource;
  pid?: NamespaceSource;
  uts?: NamespaceSource;
  /** Volume, bind and tmpfs mounts, in the order the volume service resolved them. */
  extraMounts: OciMount[];
  /** Host path of the init binary for --init. */
  initBinary?: string;
  /** Whether memory.memsw exists (cgroup v1 swap accounting); when false no swap limit is set. */
  swapAccounting: boolean;
  hostHostname?: string;
  /** Device nodes to create (host devices for --privileged, --device entries). */
  devices?: OciDevice[];
  /** Device cgroup rules allowing the --device entries. */
  deviceRules?: Array<Record<string, unknown>>;
  /**
   * What the kernel offers (`hostSecurity()`). Absent: seccomp is assumed and AppArmor is not,
   * so a named AppArmor profile is not applied.
   */
  hostSecurity?: HostSecurity;
}

/** The process args: ENTRYPOINT + CMD with Docker's override rules. */
export function commandFor(spec: Pick<ContainerSpec, 'cmd' | 'entrypoint'>, image: ImageRuntimeConfig): string[] {
  let entrypoint: string[];
  let cmd: string[];
  if (spec.entrypoint !== undefined) {
    entrypoint = spec.entrypoint;
    // Overriding the entrypoint drops the image's CMD (moby daemon/create.go).
    cmd = spec.cmd ?? [];
  } else {
    entrypoint = image.Entrypoint ?? [];
    cmd = spec.cmd ?? image.Cmd ?? [];
  }
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw invalidArgument('No command specified');
  return args;
}

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/** Image env overlaid with the user's (same key: user wins; a name alone unsets it), order kept. */
export function mergeEnv(base: readonly string[], over: readonly string[]): string[] {
  const out = [...base];
  for (const e of over) {
    const k = envKey(e);
    const i = out.findIndex((x) => envKey(x) === k);
    // A name alone (`-e VAR` with VAR unset where the CLI runs) unsets it, as dockerd's
    // ReplaceOrAppendEnvValues does: runc refuses an entry without `=`.
    if (!e.includes('=')) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** The environment of the container process (moby CreateDaemonEnvironment). */
export function processEnv(configEnv: readonly string[], hostname: string, tty: boolean): string[] {
  const head: string[] = [];
  if (!configEnv.some((e) => envKey(e) === 'PATH')) head.push(`PATH=${DEFAULT_PATH}`);
  head.push(`HOSTNAME=${hostname}`);
  if (tty) head.push('TERM=xterm');
  return mergeEnv(head, configEnv);
}

const ULIMIT_NAMES: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

export function rlimitName(ulimit: string): string {
  const n = ULIMIT_NAMES[ulimit.toLowerCase()];
  if (!n) throw invalidArgument(`invalid ulimit type: ${ulimit}`);
  return n;
}

/**
 * `--ulimit` values as OCI rlimits, never above the daemon's hard limits: this host runs
 * without CAP_SYS_RESOURCE, so runc could not raise them and the start would fail.
 */
export function rlimitsFor(ulimits: Ulimit[], hostHard: Record<string, number>): Array<{ type: string; hard: number; soft: number }> {
  return ulimits.map((u) => {
    const type = rlimitName(u.name);
    const cap = hostHard[type];
    const hard = cap !== undefined && cap >= 0 && (u.hard < 0 || u.hard > cap) ? cap : u.hard;
    const soft = u.soft < 0 || u.soft > hard ? hard : u.soft;
    return { type, hard, soft };
  });
}

/** Parses /proc/self/limits into RLIMIT_* → hard limit (-1 = unlimited). */
export function parseProcLimits(text: string): Record<string, number> {
  const rows: Record<string, string> = {
    'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA',
    'Max stack size': 'RLIMIT_STACK', 'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS',
    'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE', 'Max locked memory': 'RLIMIT_MEMLOCK',
    'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
    'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO',
    'Max realtime timeout': 'RLIMIT_RTTIME',
  };
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    for (const [label, type] of Object.entries(rows)) {
      if (!line.startsWith(label)) continue;
      const cols = line.slice(label.length).trim().split(/\s+/);
      const hard = cols[1];
      out[type] = hard === undefined || hard === 'unlimited' ? -1 : Number(hard);
    }
  }
  return out;
}

export async function readHostHardLimits(): Promise<Record<string, number>> {
  return parseProcLimits(await readFile('/proc/self/limits', 'utf8'));
}

function resourcesFor(input: OciSpecInput): Record<string, unknown> {
  const h = input.spec.host;
  const res: Record<string, unknown> = {};
  res.devices = h.privileged ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }, ...(input.deviceRules ?? [])];
  const memory: Record<string, number> = {};
  if (h.memory > 0) {
    memory.limit = h.memory;
    if (input.swapAccounting) {
      // Docker: swap unset → twice the memory limit; -1 → unlimited.
      if (h.memorySwap === 0) memory.swap = h.memory * 2;
      else if (h.memorySwap > 0) memory.swap = h.memorySwap;
      else memory.swap = -1;
    }
  }
  if (h.memoryReservation > 0) memory.reservation = h.memoryReservation;
  if (h.oomKillDisable) (memory as Record<string, unknown>).disableOOMKiller = true;
  if (Object.keys(memory).length) res.memory = memory;
  const cpu: Record<string, unknown> = {};
  if (h.nanoCpus > 0) {
    cpu.period = 100000;
    cpu.quota = Math.round((h.nanoCpus * 100000) / 1e9);
  }
  if (h.cpuQuota > 0) cpu.quota = h.cpuQuota;
  if (h.cpuPeriod > 0) cpu.period = h.cpuPeriod;
  if (h.cpuShares > 0) cpu.shares = h.cpuShares;
  if (h.cpusetCpus) cpu.cpus = h.cpusetCpus;
  if (Object.keys(cpu).length) res.cpu = cpu;
  if (h.pidsLimit > 0) res.pids = { limit: h.pidsLimit };
  return res;
}

function namespaceEntry(type: string, src: NamespaceSource | undefined): Array<{ type: string; path?: string }> {
  if (!src || src.mode === 'new') return [{ type }];
  if (src.mode === 'host') return [];
  return [{ type, path: src.path }];
}

function hasMountAt(mounts: OciMount[], dest: string): boolean {
  return mounts.some((m) => m.destination === dest);
}

/** Builds config.json for `runc create`. */
export function generateOciSpec(input: OciSpecInput): OciSpec {
  const { spec } = input;
  const h = spec.host;
  const hostname = containerHostname(input);
  const configEnv = mergeEnv(input.image.Env ?? [], spec.env);
  const caps = computeCapabilities({ privileged: h.privileged, capAdd: h.capAdd, capDrop: h.capDrop, bounding: input.bounding });
  const cwd = spec.workingDir || input.image.WorkingDir || '/';
  const shmSize = h.shmSize > 0 ? h.shmSize : DEFAULT_SHM_BYTES;
  const security = parseSecurityOpts(h.securityOpt);
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', h.privileged ? 'rw' : 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', h.privileged || security.writableCgroups ? 'rw' : 'ro'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`],
    },
  ];
  const user = input.extraMounts;
  // The network files, the init binary and the user's mounts go after the system ones, parents
  // before children as dockerd sorts them: a volume at /etc under /etc/hosts would hide it.
  const placed: OciMount[] = [];
  for (const [file, dest] of NETWORK_FILES) {
    if (hasMountAt(user, dest)) continue;
    placed.push({
      destination: dest,
      type: 'bind',
      source: `${input.userdataDir}/${file}`,
      options: ['rbind', 'rprivate', input.spec.host.readonlyRootfs ? 'ro' : 'rw'],
    });
  }
  if (input.initBinary) {
    placed.push({ destination: INIT_PATH, type: 'bind', source: input.initBinary, options: ['bind', 'ro', 'nosuid', 'nodev'] });
  }
  for (const m of user) {
    // A user mount replaces a system one at the same place (`--tmpfs /dev/shm`).
    const i = mounts.findIndex((x) => x.destination === m.destination);
    if (i >= 0) mounts.splice(i, 1);
    placed.push(m);
  }
  const depth = (m: OciMount) => posix.normalize(m.destination).split('/').filter(Boolean).length;
  mounts.push(...placed.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map((x) => x.m));
  const namespaces = [
    ...namespaceEntry('pid', input.pid),
    ...namespaceEntry('network', input.network),
    ...namespaceEntry('ipc', input.ipc),
    ...namespaceEntry('uts', input.uts),
    { type: 'mount' },
  ];
  const process: OciProcess = {
    terminal: spec.tty,
    user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids.length ? { additionalGids: input.user.additionalGids } : {}) },
    args: input.args,
    env: processEnv(configEnv, hostname, spec.tty),
    cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    noNewPrivileges: security.noNewPrivileges,
  };
  const apparmorProfile = appArmorProfileFor({ profile: security.appArmorProfile, privileged: h.privileged, hostEnabled: input.hostSecurity?.appArmor === true });
  if (apparmorProfile) process.apparmorProfile = apparmorProfile;
  const rlimits = rlimitsFor(h.ulimits, input.hostHardLimits);
  if (rlimits.length) process.rlimits = rlimits;
  const linux: OciSpec['linux'] = {
    resources: resourcesFor(input),
    cgroupsPath: input.cgroupsPath,
    namespaces,
    maskedPaths: h.privileged || security.unconfinedSystemPaths ? [] : (h.maskedPaths ?? MASKED_PATHS),
    readonlyPaths: h.privileged || security.unconfinedSystemPaths ? [] : (h.readonlyPaths ?? READONLY_PATHS),
  };
  // dockerd sets the domain name as this sysctl: runc 1.1 ignores config.json's `domainname`.
  const sysctls = { ...(input.spec.domainname && input.uts?.mode !== 'host' ? { 'kernel.domainname': input.spec.domainname } : {}), ...h.sysctls };
  if (Object.keys(sysctls).length) linux.sysctl = sysctls;
  const seccomp = seccompFor(security.seccomp, caps, { privileged: h.privileged, kernelHasSeccomp: input.hostSecurity?.seccomp ?? true, x32Abi: input.hostSecurity?.x32Abi });
  if (seccomp) linux.seccomp = seccomp;
  if (input.devices?.length) linux.devices = input.devices;
  const out: OciSpec = {
    ociVersion: '1.0.2-dev',
    process,
    root: { path: input.rootfs, readonly: h.readonlyRootfs },
    hostname,
    mounts,
    linux,
  };
  // runc refuses a hostname without a private UTS namespace (--uts host).
  if (input.uts?.mode === 'host') delete out.hostname;
  return out;
}

/** `--hostname`, else the host's for `--network host`, else the 12-char id (Docker). */
export function containerHostname(input: Pick<OciSpecInput, 'id' | 'spec' | 'network' | 'hostHostname'>): string {
  if (input.spec.hostname) return input.spec.hostname;
  if (input.network.mode === 'host' && input.hostHostname) return input.hostHostname;
  return input.id.slice(0, 12);
}
