// berth logs: the container's log, demultiplexed into stdout/stderr unless it has a TTY.
import { ContainersApi, demultiplex } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { writeChunk } from '../attach/stdio-session.js';
import { stringOpt } from './filters.js';
import { toApiTimestamp } from './system-events.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const api = new ContainersApi(await ctx.client());
  const c = await api.inspect(args[0]!);
  const since = stringOpt(opts['since']);
  const until = stringOpt(opts['until']);
  const body = await api.logs(c.Id, {
    follow: opts['follow'] === true,
    since: since ? toApiTimestamp(since) : undefined,
    until: until ? toApiTimestamp(until) : undefined,
    timestamps: opts['timestamps'] === true,
    tail: stringOpt(opts['tail']),
    details: opts['details'] === true,
  });
  if (c.Config.Tty) {
    for await (const chunk of body) await writeChunk(ctx.stdout, chunk as Buffer);
    return;
  }
  for await (const f of demultiplex(body)) await writeChunk(f.stream === 2 ? ctx.stderr : ctx.stdout, f.data);
}
