// berth update: resource limits and the restart policy of running or stopped containers.
import type { ResourceUpdate } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { parseCpusFlag, parseIntFlag, parseRestartPolicy, parseSizeFlag } from '../run/flag-values.js';
import { forEachContainer } from './container-each.js';
import { stringOpt } from './filters.js';

export function resourceUpdate(opts: CommandOptions): ResourceUpdate {
  const u: ResourceUpdate = {};
  const s = (k: string) => stringOpt(opts[k]);
  if (s('memory') !== undefined) u.Memory = parseSizeFlag('-m, --memory', s('memory')!);
  if (s('memorySwap') !== undefined) u.MemorySwap = s('memorySwap') === '-1' ? -1 : parseSizeFlag('--memory-swap', s('memorySwap')!);
  if (s('memoryReservation') !== undefined) u.MemoryReservation = parseSizeFlag('--memory-reservation', s('memoryReservation')!);
  if (s('cpus') !== undefined) u.NanoCpus = parseCpusFlag('--cpus', s('cpus')!);
  if (s('cpuShares') !== undefined) u.CpuShares = parseIntFlag('-c, --cpu-shares', s('cpuShares')!);
  if (s('cpuQuota') !== undefined) u.CpuQuota = parseIntFlag('--cpu-quota', s('cpuQuota')!);
  if (s('cpuPeriod') !== undefined) u.CpuPeriod = parseIntFlag('--cpu-period', s('cpuPeriod')!);
  if (s('cpusetCpus') !== undefined) u.CpusetCpus = s('cpusetCpus');
  if (s('cpusetMems') !== undefined) u.CpusetMems = s('cpusetMems');
  if (s('pidsLimit') !== undefined) u.PidsLimit = parseIntFlag('--pids-limit', s('pidsLimit')!);
  if (s('blkioWeight') !== undefined) u.BlkioWeight = parseIntFlag('--blkio-weight', s('blkioWeight')!);
  if (s('restart') !== undefined) u.RestartPolicy = parseRestartPolicy(s('restart')!);
  return u;
}

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const u = resourceUpdate(opts);
  if (Object.keys(u).length === 0) throw new UsageError('you must provide one or more flags when using this command');
  return forEachContainer(ctx, args, async (api, name) => {
    const r = await api.update(name, u);
    for (const w of r.Warnings ?? []) ctx.warn(`WARNING: ${w}`);
  });
}
