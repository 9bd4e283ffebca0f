// GET /containers/{id}/top and /containers/{id}/stats (stream, one-shot) in Docker's shape.
import type { ContainerService, StatsSample } from '../../runtime/index.js';
import type { Route } from '../router.js';

export type StatsBackend = Pick<ContainerService, 'top' | 'stats' | 'get'>;

type Sample = StatsSample & { id: string; name: string; running: boolean };

const ZERO_TIME = '0001-01-01T00:00:00Z';
const STREAM_INTERVAL_MS = 1000;

function cpuStats(s: Sample | undefined) {
  if (!s) return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  return {
    cpu_usage: {
      total_usage: s.cpu.totalNs,
      ...(s.cpu.perCpuNs.length ? { percpu_usage: s.cpu.perCpuNs } : {}),
      usage_in_kernelmode: s.cpu.kernelNs,
      usage_in_usermode: s.cpu.userNs,
    },
    system_cpu_usage: s.cpu.systemNs,
    online_cpus: s.cpu.onlineCpus,
    throttling_data: { periods: s.cpu.throttling.periods, throttled_periods: s.cpu.throttling.throttledPeriods, throttled_time: s.cpu.throttling.throttledTimeNs },
  };
}

/** Docker's StatsResponse (cgroup v1 field names; docker CLI handles both). */
export function statsWire(cur: Sample, prev: Sample | undefined): Record<string, unknown> {
  if (!cur.running) {
    return {
      read: ZERO_TIME, preread: ZERO_TIME, name: `/${cur.name}`, id: cur.id,
      pids_stats: {}, blkio_stats: { io_service_bytes_recursive: null }, num_procs: 0, storage_stats: {},
      cpu_stats: cpuStats(undefined), precpu_stats: cpuStats(undefined), memory_stats: {},
    };
  }
  const networks: Record<string, unknown> = {};
  for (const [k, n] of Object.entries(cur.networks)) {
    networks[k] = {
      rx_bytes: n.rxBytes, rx_packets: n.rxPackets, rx_errors: n.rxErrors, rx_dropped: n.rxDropped,
      tx_bytes: n.txBytes, tx_packets: n.txPackets, tx_errors: n.txErrors, tx_dropped: n.txDropped,
    };
  }
  return {
    read: cur.read,
    preread: prev?.read ?? ZERO_TIME,
    pids_stats: { current: cur.pids.current, ...(cur.pids.limit ? { limit: cur.pids.limit } : {}) },
    blkio_stats: {
      io_service_bytes_recursive: cur.blkio.length ? cur.blkio.map((b) => ({ major: b.major, minor: b.minor, op: b.op, value: b.value })) : null,
      io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null,
      io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(cur),
    precpu_stats: cpuStats(prev),
    memory_stats: { usage: cur.memory.usage, max_usage: cur.memory.maxUsage, stats: cur.memory.stats, failcnt: cur.memory.failcnt, limit: cur.memory.limit },
    name: `/${cur.name}`,
    id: cur.id,
    ...(Object.keys(networks).length ? { networks } : {}),
  };
}

export function containerStatsRoutes(backend: StatsBackend): Route[] {
  return [
    {
      method: 'GET',
      path: '/containers/{id}/top',
      handler: async (ctx) => {
        const r = await backend.top(ctx.param('id'), ctx.queryString('ps_args') ?? '');
        ctx.sendJson(200, { Titles: r.titles, Processes: r.processes });
      },
    },
    {
      method: 'GET',
      path: '/containers/{id}/stats',
      handler: async (ctx) => {
        const id = backend.get(ctx.param('id')).id;
        const stream = ctx.queryBool('stream', true);
        const oneShot = ctx.queryBool('one-shot');
        let prev: Sample | undefined;
        let cur = await backend.stats(id);
        if (!stream) {
          if (!oneShot && cur.running) {
            // Two samples a second apart, so the client can compute a CPU percentage.
            await new Promise((r) => setTimeout(r, STREAM_INTERVAL_MS));
            prev = cur;
            cur = await backend.stats(id);
          }
          ctx.sendJson(200, statsWire(cur, prev));
          return;
        }
        const out = ctx.startJsonStream();
        try {
          while (!ctx.signal.aborted && !out.isEnded) {
            await out.write(statsWire(cur, prev));
            await new Promise((r) => setTimeout(r, STREAM_INTERVAL_MS));
            prev = cur;
            cur = await backend.stats(id);
          }
        } finally {
          out.end();
        }
      },
    },
  ];
}
