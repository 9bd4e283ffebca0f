// berth stats: one table with --no-stream, else a table redrawn every second (cleared in
// place on a terminal) from each container's stats stream, until interrupted.
import { ContainersApi, readJsonLines } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { renderList } from '../format/table.js';
import { reportError } from '../report-error.js';
import { STATS_HEADERS, statsRow, type StatsJson, type StatsRow } from './container-stats-rows.js';
import { stringOpt } from './filters.js';

const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const REDRAW_MS = 1000;

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const api = new ContainersApi(await ctx.client());
  const noTrunc = opts['trunc'] === false;
  const format = stringOpt(opts['format']);
  const names = args.length ? args : (await api.list({ all: opts['all'] === true })).map((c) => c.Id);
  const render = (rows: StatsRow[]) => renderList({ format, defaultFormat: DEFAULT_FORMAT, headers: STATS_HEADERS }, rows);

  if (opts['stream'] === false) {
    const rows: StatsRow[] = [];
    let failed = false;
    for (const name of names) {
      try {
        const body = await api.stats(name, { stream: false });
        for await (const s of readJsonLines(body)) rows.push(statsRow(s as StatsJson, { container: name, noTrunc }));
      } catch (err) {
        failed = true;
        reportError(err, { debug: ctx.globals.debug });
      }
    }
    await ctx.print(render(rows));
    return failed ? 1 : 0;
  }

  const latest = new Map<string, StatsRow>();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const readers = names.map(async (name) => {
    try {
      const body = await api.stats(name, { stream: true, signal: abort.signal });
      for await (const s of readJsonLines(body)) latest.set(name, statsRow(s as StatsJson, { container: name, noTrunc }));
    } catch (err) {
      if (!abort.signal.aborted) reportError(err, { debug: ctx.globals.debug });
    }
    latest.delete(name);
  });
  const tty = ctx.stdout.isTTY === true;
  const draw = async () => {
    const rows = names.flatMap((n) => (latest.has(n) ? [latest.get(n)!] : []));
    await ctx.print(`${tty ? '\x1b[2J\x1b[H' : ''}${render(rows)}`);
  };
  const all = Promise.all(readers);
  try {
    while (!abort.signal.aborted) {
      const finished = await Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), REDRAW_MS))]);
      await draw();
      if (finished) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
    abort.abort();
    await all;
  }
  return 0;
}
