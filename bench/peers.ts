// The peers a bench compares berth with, when they are on the machine (berth never needs them):
// - dockerd listening on /var/run/docker.sock, started by hand (see docs/benchmarks.md), driven
//   with the same docker CLI as berthd;
// - podman (Debian's) with runc, cgroupfs, its own storage under /tmp/berth-bench-podman and
//   `--network none` on every run, so it never makes a bridge, a CNI network or a rule.
// Also the few measuring helpers the peer comparisons share (median, RSS, CPU, load).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';

export const DOCKER = '/usr/local/bin/docker';
export const DOCKERD_SOCK = '/var/run/docker.sock';
const PODMAN = '/usr/bin/podman';
const PODMAN_ROOT = '/tmp/berth-bench-podman';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : NaN;
}

/** "1.2 3.4 5.6": the 1, 5 and 15 minute load averages (the machine is shared; say how busy it was). */
export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}

/** The environment that points the docker CLI at dockerd; undefined when dockerd is not there. */
export function dockerdEnv(): NodeJS.ProcessEnv | undefined {
  if (!existsSync(DOCKERD_SOCK)) return undefined;
  const env = { ...process.env, DOCKER_HOST: `unix://${DOCKERD_SOCK}` };
  return spawnSync(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env, timeout: 10_000 }).status === 0 ? env : undefined;
}

/** dockerd's pid (from its pidfile), for its RSS and CPU time. */
export function dockerdPid(): number | undefined {
  try {
    return Number(readFileSync('/var/run/docker.pid', 'utf8').trim()) || undefined;
  } catch {
    // No pidfile: no RSS or CPU figure for dockerd.
    return undefined;
  }
}

/**
 * The podman command line every podman run of a bench starts with (own storage, runc,
 * cgroupfs, no journald), or undefined when podman is not installed. podman raises the
 * container's nofile and nproc limits above this host's hard limits by default, which runc
 * refuses: `runArgs` pins them to at most 4096 (and the host's hard limit).
 */
export function podman(): { argv: string[]; runArgs: string[] } | undefined {
  if (!existsSync(PODMAN)) return undefined;
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const hard = (name: string) => {
    const v = new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)?.[1] ?? 'unlimited';
    // Lowered to at most 4096: raising nproc to this host's hard limit is refused by runc too.
    return String(Math.min(v === 'unlimited' ? Infinity : Number(v), 4096));
  };
  const [nofile, nproc] = [hard('Max open files'), hard('Max processes')];
  return {
    argv: [PODMAN, '--root', `${PODMAN_ROOT}/root`, '--runroot', `${PODMAN_ROOT}/run`, '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'],
    runArgs: ['--network', 'none', '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`],
  };
}

/** Imports a rootfs tar as `name` into a docker engine (berthd or dockerd) unless it is there. */
export function ensureDockerImage(env: NodeJS.ProcessEnv, tar: string, name = 'busybox:latest'): void {
  if (spawnSync(DOCKER, ['image', 'inspect', name], { env, stdio: 'ignore' }).status === 0) return;
  const r = spawnSync(DOCKER, ['import', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--change', 'CMD ["sh"]', tar, name], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`docker import into ${env['DOCKER_HOST']} failed: ${r.stderr}`);
}

/** Imports a rootfs tar into podman's bench storage as `name` unless it is there. */
export function ensurePodmanImage(argv: string[], tar: string, name = 'localhost/busybox-bench'): string {
  if (spawnSync(argv[0]!, [...argv.slice(1), 'image', 'exists', name]).status !== 0) {
    const r = spawnSync(argv[0]!, [...argv.slice(1), 'import', '--change', 'CMD ["sh"]', tar, name], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`podman import failed: ${r.stderr}`);
  }
  return name;
}

/** VmRSS of a process in MB (NaN when it is gone). */
export function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    // The process is gone or not ours to read.
    return NaN;
  }
}

/**
 * Summed RSS (MB) and count of the processes named `comm` whose command line contains `marker`
 * (e.g. the conmons of one berthd's exec root, the shims of one dockerd).
 */
export function rssOfProcesses(comm: string, marker: string): { mb: number; count: number } {
  let mb = 0;
  let count = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== comm) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) continue;
      mb += rssMb(Number(pid));
      count++;
    } catch {
      // The process ended while we looked.
    }
  }
  return { mb, count };
}
