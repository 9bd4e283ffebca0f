// Facts about the host that /info and /version report. Read from the kernel and
// /etc/os-release, never assumed: cgroup layout and controller features come from the
// files the cgroup mounts actually have.
import { access, constants as fsConstants, readFile, statfs } from 'node:fs/promises';
import { arch, availableParallelism, hostname, release, totalmem } from 'node:os';
import { run } from '../util/index.js';

export interface CgroupFacts {
  /** "2" only when /sys/fs/cgroup itself is cgroup2 (hybrid hosts report "1", as dockerd does). */
  version: '1' | '2';
  memoryLimit: boolean;
  swapLimit: boolean;
  kernelMemoryTcp: boolean;
  cpuCfsPeriod: boolean;
  cpuCfsQuota: boolean;
  cpuShares: boolean;
  cpuSet: boolean;
  pidsLimit: boolean;
  oomKillDisable: boolean;
}

export interface HostFacts {
  kernelVersion: string;
  operatingSystem: string;
  osVersion: string;
  /** uname -m spelling (x86_64, aarch64), as /info's Architecture. */
  machine: string;
  /** Go's GOARCH spelling (amd64, arm64), as /version's Arch. */
  goArch: string;
  ncpu: number;
  memTotal: number;
  name: string;
  cgroup: CgroupFacts;
  ipv4Forwarding: boolean;
}

const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_ROOT = '/sys/fs/cgroup';

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
const MACHINE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    // Absent or unreadable: the feature is not there for us.
    return false;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    // An optional host file: callers fall back to a neutral value.
    return undefined;
  }
}

export async function probeCgroups(root = CGROUP_ROOT): Promise<CgroupFacts> {
  let unified = false;
  try {
    unified = (await statfs(root)).type === CGROUP2_SUPER_MAGIC;
  } catch {
    // No cgroup mount at all (unusual container): report v1 with no features.
  }
  if (unified) {
    const controllers = ((await readText(`${root}/cgroup.controllers`)) ?? '').split(/\s+/);
    const has = (c: string) => controllers.includes(c);
    return {
      version: '2',
      memoryLimit: has('memory'),
      swapLimit: has('memory'),
      kernelMemoryTcp: false,
      cpuCfsPeriod: has('cpu'),
      cpuCfsQuota: has('cpu'),
      cpuShares: has('cpu'),
      cpuSet: has('cpuset'),
      pidsLimit: has('pids'),
      oomKillDisable: false,
    };
  }
  const [memoryLimit, swapLimit, kernelMemoryTcp, cpuCfsPeriod, cpuCfsQuota, cpuShares, cpuSet, pidsLimit, oomKillDisable] =
    await Promise.all([
      exists(`${root}/memory/memory.limit_in_bytes`),
      exists(`${root}/memory/memory.memsw.limit_in_bytes`),
      exists(`${root}/memory/memory.kmem.tcp.limit_in_bytes`),
      exists(`${root}/cpu/cpu.cfs_period_us`),
      exists(`${root}/cpu/cpu.cfs_quota_us`),
      exists(`${root}/cpu/cpu.shares`),
      exists(`${root}/cpuset/cpuset.cpus`),
      exists(`${root}/pids/pids.max`),
      exists(`${root}/memory/memory.oom_control`),
    ]);
  return { version: '1', memoryLimit, swapLimit, kernelMemoryTcp, cpuCfsPeriod, cpuCfsQuota, cpuShares, cpuSet, pidsLimit, oomKillDisable };
}

/** PRETTY_NAME and VERSION_ID from os-release(5). */
export function parseOsRelease(text: string): { prettyName: string; versionId: string } {
  const get = (key: string) => {
    const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
    return m ? m[1]!.trim().replace(/^(["'])(.*)\1$/, '$2') : '';
  };
  return { prettyName: get('PRETTY_NAME') || 'Linux', versionId: get('VERSION_ID') };
}

export async function probeHost(): Promise<HostFacts> {
  const [osRelease, cgroup, fwd] = await Promise.all([
    readText('/etc/os-release').then((t) => (t ?? readText('/usr/lib/os-release'))),
    probeCgroups(),
    readText('/proc/sys/net/ipv4/ip_forward'),
  ]);
  const os = parseOsRelease(osRelease ?? '');
  const a = arch();
  return {
    kernelVersion: release(),
    operatingSystem: os.prettyName,
    osVersion: os.versionId,
    machine: MACHINE[a] ?? a,
    goArch: GOARCH[a] ?? a,
    ncpu: availableParallelism(),
    memTotal: totalmem(),
    name: hostname(),
    cgroup,
    ipv4Forwarding: fwd?.trim() === '1',
  };
}

export interface RuntimeVersion {
  version: string;
  commit: string;
}

/** `runc --version` → version and commit; undefined when runc cannot be run. */
export async function probeRuncVersion(path: string, opts: { signal?: AbortSignal } = {}): Promise<RuntimeVersion | undefined> {
  try {
    const { stdout } = await run(path, ['--version'], { timeoutMs: 3_000, signal: opts.signal });
    const version = /runc version\s+(\S+)/.exec(stdout)?.[1] ?? '';
    const commit = /commit:\s+(\S+)/.exec(stdout)?.[1] ?? '';
    return { version, commit };
  } catch {
    // Reported as an empty RuncCommit; /info must not fail because runc is missing.
    return undefined;
  }
}

/** First executable `name` on PATH (plus the sbin dirs a non-login root shell may lack). */
export async function findInPath(name: string): Promise<string | undefined> {
  if (name.includes('/')) return (await exists(name)) ? name : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = `${d}/${name}`;
    try {
      await access(p, fsConstants.X_OK);
      return p;
    } catch {
      // Not in this directory; try the next.
    }
  }
  return undefined;
}

const FS_NAMES: Record<number, string> = {
  0xef53: 'extfs',
  0x58465342: 'xfs',
  0x01021994: 'tmpfs',
  0x9123683e: 'btrfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
  0x65735546: 'fuse',
};

/** The filesystem under the data-root, named as dockerd's "Backing Filesystem" line. */
export async function backingFilesystem(path: string): Promise<string> {
  try {
    const t = (await statfs(path)).type;
    return FS_NAMES[t] ?? `0x${t.toString(16)}`;
  } catch {
    // Reported as unknown rather than failing /info.
    return 'unknown';
  }
}

export async function readIpv4Forwarding(): Promise<boolean> {
  return (await readText('/proc/sys/net/ipv4/ip_forward'))?.trim() === '1';
}
