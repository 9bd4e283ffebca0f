// One `berth stats` row from a StatsResponse, computed as the docker CLI does: CPU % from
// the delta against precpu_stats, memory without the page cache, network and block I/O sums.
import { bytesSize, humanSizeWithPrecision } from '../format/units.js';

interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

export interface StatsJson {
  id?: string;
  name?: string;
  read?: string;
  pids_stats?: { current?: number };
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
}

export interface StatsRow {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
}

export const STATS_HEADERS: Record<string, string> = {
  BlockIO: 'BLOCK I/O',
  CPUPerc: 'CPU %',
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  MemPerc: 'MEM %',
  MemUsage: 'MEM USAGE / LIMIT',
  Name: 'NAME',
  NetIO: 'NET I/O',
  PIDs: 'PIDS',
};

export function cpuPercent(s: StatsJson): number {
  const cur = s.cpu_stats;
  const pre = s.precpu_stats;
  const cpuDelta = (cur?.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cur?.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  const online = cur?.online_cpus || cur?.cpu_usage?.percpu_usage?.length || 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** Usage without the inactive page cache (cgroup v1 `total_inactive_file`, v2 `inactive_file`). */
export function memoryUsage(s: StatsJson): number {
  const usage = s.memory_stats?.usage ?? 0;
  const st = s.memory_stats?.stats ?? {};
  const inactive = st['total_inactive_file'] ?? st['inactive_file'];
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

export function statsRow(s: StatsJson, opts: { container: string; noTrunc: boolean }): StatsRow {
  const running = !!s.read && !s.read.startsWith('0001-');
  const mem = memoryUsage(s);
  const limit = s.memory_stats?.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const b of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (b.op ?? '').toLowerCase();
    if (op === 'read') read += b.value ?? 0;
    if (op === 'write') write += b.value ?? 0;
  }
  const id = s.id ?? '';
  if (!running) {
    return {
      BlockIO: '0B / 0B', CPUPerc: '0.00%', Container: opts.container, ID: opts.noTrunc ? id : id.slice(0, 12),
      MemPerc: '0.00%', MemUsage: '0B / 0B', Name: (s.name ?? '').replace(/^\//, '') || '--', NetIO: '0B / 0B', PIDs: '0',
    };
  }
  return {
    BlockIO: `${humanSizeWithPrecision(read, 3)} / ${humanSizeWithPrecision(write, 3)}`,
    CPUPerc: `${cpuPercent(s).toFixed(2)}%`,
    Container: opts.container,
    ID: opts.noTrunc ? id : id.slice(0, 12),
    MemPerc: `${(limit > 0 ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    Name: (s.name ?? '').replace(/^\//, ''),
    NetIO: `${humanSizeWithPrecision(rx, 3)} / ${humanSizeWithPrecision(tx, 3)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}
