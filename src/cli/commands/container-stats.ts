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

  // Without names, containers that start later join the table and removed ones leave it,
  // as docker's stats does (followed through the event stream).
  const follow = args.length === 0;
  const shown = [...names];
  const latest = new Map<string, StatsRow>();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const readers = new Map<string, Promise<void>>();
  const watch = (name: string) => {
    if (readers.has(name)) return;
    if (!shown.includes(name)) shown.push(name);
    readers.set(name, (async () => {
      try {
        const body = await api.stats(name, { stream: true, signal: abort.signal });
        for await (const s of readJsonLines(body)) latest.set(name, statsRow(s as StatsJson, { container: name, noTrunc }));
      } catch (err) {
        if (!abort.signal.aborted && !follow) reportError(err, { debug: ctx.globals.debug });
      }
      latest.delete(name);
      readers.delete(name);
      if (follow) shown.splice(shown.indexOf(name), 1);
    })());
  };
  for (const n of names) watch(n);
  const events = follow
    ? (async () => {
        try {
          for await (const ev of api.client.events({ filters: { type: ['container'] }, signal: abort.signal })) {
            const id = ev.Actor?.ID ?? ev.id;
            if (id && ev.Action === 'start') watch(id);
          }
        } catch (err) {
          if (!abort.signal.aborted) reportError(err, { debug: ctx.globals.debug });
        }
      })()
    : Promise.resolve();
  const tty = ctx.stdout.isTTY === true;
  const draw = async () => {
    const rows = shown.flatMap((n) => (latest.has(n) ? [latest.get(n)!] : []));
    await ctx.print(`${tty ? '\x1b[2J\x1b[H' : ''}${render(rows)}`);
  };
  try {
    while (!abort.signal.aborted) {
      await new Promise<void>((r) => setTimeout(r, REDRAW_MS));
      await draw();
      // With names, stop once every stream has ended (all containers gone).
      if (!follow && readers.size === 0) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
    abort.abort();
    await Promise.all([...readers.values(), events]);
  }
  return 0;
}
