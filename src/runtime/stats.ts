// Resource usage of a container from its cgroup. Hosts here are hybrid (v1 controllers
// plus a v2 unified mount), so every figure is read from v1 first and from v2 otherwise.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** USER_HZ: /proc/stat and cpuacct.stat count in these ticks. */
const CLOCK_TICKS = 100;

export interface CpuSample {
  totalNs: number;
  kernelNs: number;
  userNs: number;
  perCpuNs: number[];
  systemNs: number;
  onlineCpus: number;
  throttling: { periods: number; throttledPeriods: number; throttledTimeNs: number };
}

export interface NetSample {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

export interface StatsSample {
  read: string;
  cpu: CpuSample;
  memory: { usage: number; maxUsage: number; limit: number; failcnt: number; stats: Record<string, number> };
  pids: { current: number; limit: number };
  blkio: Array<{ major: number; minor: number; op: string; value: number }>;
  networks: Record<string, NetSample>;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    // Controller or file absent on this host (v1 vs v2): the caller falls back.
    return undefined;
  }
}

async function readNumber(path: string): Promise<number | undefined> {
  const t = await readText(path);
  if (t === undefined) return undefined;
  const v = t.trim();
  if (v === 'max') return Number.MAX_SAFE_INTEGER;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat) into a map. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

/** The first line of /proc/stat as nanoseconds of all CPUs, and the number of CPUs. */
export function parseProcStat(text: string): { systemNs: number; onlineCpus: number } {
  const lines = text.split('\n');
  const cpu = lines[0]!.trim().split(/\s+/).slice(1, 8).map(Number);
  const ticks = cpu.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const online = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  return { systemNs: (ticks * 1e9) / CLOCK_TICKS, onlineCpus: online || 1 };
}

/** /proc/<pid>/net/dev → per-interface counters (loopback left out, like Docker). */
export function parseNetDev(text: string): Record<string, NetSample> {
  const out: Record<string, NetSample> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out[m[1]!] = {
      rxBytes: f[0] ?? 0, rxPackets: f[1] ?? 0, rxErrors: f[2] ?? 0, rxDropped: f[3] ?? 0,
      txBytes: f[8] ?? 0, txPackets: f[9] ?? 0, txErrors: f[10] ?? 0, txDropped: f[11] ?? 0,
    };
  }
  return out;
}

/** v1 blkio "8:0 Read 123" lines or v2 io.stat "8:0 rbytes=1 wbytes=2 …" lines. */
export function parseBlkio(v1: string | undefined, v2: string | undefined): StatsSample['blkio'] {
  const out: StatsSample['blkio'] = [];
  if (v1) {
    for (const line of v1.split('\n')) {
      const m = /^(\d+):(\d+)\s+(\w+)\s+(\d+)$/.exec(line.trim());
      if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!.toLowerCase(), value: Number(m[4]) });
    }
    if (out.length) return out;
  }
  for (const line of (v2 ?? '').split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const f = Object.fromEntries(kv.map((x) => x.split('=')).map(([k, v]) => [k, Number(v)]));
    out.push({ major: Number(m[1]), minor: Number(m[2]), op: 'read', value: f.rbytes ?? 0 });
    out.push({ major: Number(m[1]), minor: Number(m[2]), op: 'write', value: f.wbytes ?? 0 });
  }
  return out;
}

/** One sample of a container's usage; `cgroupPath` is its cgroupsPath (`/berth/<id>`). */
export async function sampleStats(cgroupPath: string, pid: number, hostMemory: number): Promise<StatsSample> {
  const v1 = (ctrl: string, file: string) => join(CGROUP_ROOT, ctrl, cgroupPath, file);
  const v2 = (file: string) => join(CGROUP_ROOT, 'unified', cgroupPath, file);
  const [usage, percpu, cpuacctStat, cpuStatV2, cpuStatV1, procStat, memUsage, memMax, memLimit, memFail, memStatV1, memCurrentV2, memMaxV2, memStatV2, pidsCur, pidsMax, pidsCurV2, pidsMaxV2, blkV1, ioV2, netDev] =
    await Promise.all([
      readNumber(v1('cpuacct', 'cpuacct.usage')),
      readText(v1('cpuacct', 'cpuacct.usage_percpu')),
      readText(v1('cpuacct', 'cpuacct.stat')),
      readText(v2('cpu.stat')),
      readText(v1('cpu', 'cpu.stat')),
      readText('/proc/stat'),
      readNumber(v1('memory', 'memory.usage_in_bytes')),
      readNumber(v1('memory', 'memory.max_usage_in_bytes')),
      readNumber(v1('memory', 'memory.limit_in_bytes')),
      readNumber(v1('memory', 'memory.failcnt')),
      readText(v1('memory', 'memory.stat')),
      readNumber(v2('memory.current')),
      readNumber(v2('memory.max')),
      readText(v2('memory.stat')),
      readNumber(v1('pids', 'pids.current')),
      readNumber(v1('pids', 'pids.max')),
      readNumber(v2('pids.current')),
      readNumber(v2('pids.max')),
      readText(v1('blkio', 'blkio.throttle.io_service_bytes_recursive')),
      readText(v2('io.stat')),
      pid > 0 ? readText(`/proc/${pid}/net/dev`) : Promise.resolve(undefined),
    ]);
  const sys = parseProcStat(procStat ?? 'cpu 0');
  const acct = parseFlatKeyed(cpuacctStat ?? '');
  const cpu2 = parseFlatKeyed(cpuStatV2 ?? '');
  const thr = parseFlatKeyed(cpuStatV1 ?? cpuStatV2 ?? '');
  const cpu: CpuSample = usage !== undefined
    ? {
        totalNs: usage,
        userNs: ((acct.user ?? 0) * 1e9) / CLOCK_TICKS,
        kernelNs: ((acct.system ?? 0) * 1e9) / CLOCK_TICKS,
        perCpuNs: (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number),
        systemNs: sys.systemNs,
        onlineCpus: sys.onlineCpus,
        throttling: { periods: thr.nr_periods ?? 0, throttledPeriods: thr.nr_throttled ?? 0, throttledTimeNs: thr.throttled_time ?? (thr.throttled_usec ?? 0) * 1000 },
      }
    : {
        totalNs: (cpu2.usage_usec ?? 0) * 1000,
        userNs: (cpu2.user_usec ?? 0) * 1000,
        kernelNs: (cpu2.system_usec ?? 0) * 1000,
        perCpuNs: [],
        systemNs: sys.systemNs,
        onlineCpus: sys.onlineCpus,
        throttling: { periods: thr.nr_periods ?? 0, throttledPeriods: thr.nr_throttled ?? 0, throttledTimeNs: (thr.throttled_usec ?? 0) * 1000 },
      };
  const memStats = parseFlatKeyed(memStatV1 ?? memStatV2 ?? '');
  const limitRaw = memLimit ?? memMaxV2 ?? hostMemory;
  return {
    read: new Date().toISOString(),
    cpu,
    memory: {
      usage: memUsage ?? memCurrentV2 ?? 0,
      maxUsage: memMax ?? 0,
      // An unlimited cgroup reports a huge number: Docker shows the host's memory instead.
      limit: limitRaw > hostMemory ? hostMemory : limitRaw,
      failcnt: memFail ?? 0,
      stats: memStats,
    },
    pids: { current: pidsCur ?? pidsCurV2 ?? 0, limit: (pidsMax ?? pidsMaxV2 ?? 0) >= Number.MAX_SAFE_INTEGER ? 0 : pidsMax ?? pidsMaxV2 ?? 0 },
    blkio: parseBlkio(blkV1, ioV2),
    networks: parseNetDev(netDev ?? ''),
  };
}
