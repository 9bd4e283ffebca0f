// `docker top`: the host's `ps` (default `-ef`) filtered to the container's processes,
// whose pids come from `runc ps`, as dockerd does.
import { BerthError, run } from '../util/index.js';
import type { Container, ContainerService } from './container-service.js';

export interface TopResult {
  titles: string[];
  processes: string[][];
}

/** Splits ps output into titles and rows, keeping the last column (the command) whole. */
export function parsePs(output: string, pids: Set<number>): TopResult {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new BerthError('invalid-argument', `Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (pids.has(Number(row[pidCol]))) processes.push(row);
  }
  return { titles, processes };
}

export async function topOf(service: ContainerService, c: Container, psArgs: string): Promise<TopResult> {
  if (c.state.status !== 'running' && c.state.status !== 'paused') {
    throw new BerthError('conflict', `Container ${c.id} is not running`);
  }
  const pids = new Set(await service.runc.ps(c.id));
  const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : ['-ef'];
  const { stdout } = await run('ps', args, { timeoutMs: 10_000 });
  return parsePs(stdout, pids);
}
