// berth start: starts containers; with -a/-i attaches to one first and exits with its status.
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { runTerminalSession } from '../attach/stdio-session.js';
import { reportError } from '../report-error.js';
import { stringOpt } from './filters.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const attach = opts['attach'] === true;
  const interactive = opts['interactive'] === true;
  const client = await ctx.client();
  const api = new ContainersApi(client);
  if (!attach && !interactive) {
    const failed: string[] = [];
    for (const name of args) {
      try {
        await api.start(name);
        await ctx.print(`${name}\n`);
      } catch (err) {
        reportError(err, { debug: ctx.globals.debug });
        failed.push(name);
      }
    }
    if (failed.length) ctx.warn(`Error: failed to start containers: ${failed.join(', ')}`);
    return failed.length ? 1 : 0;
  }
  if (args.length > 1) throw new UsageError('you cannot start and attach multiple containers at once');
  const c = await api.inspect(args[0]!);
  const tty = c.Config.Tty === true;
  const withStdin = interactive && c.Config.OpenStdin === true;
  const detachKeys = stringOpt(opts['detachKeys']);
  const conn = await client.hijack('POST', `/containers/${c.Id}/attach`, {
    query: { stream: true, stdin: withStdin, stdout: true, stderr: true },
  });
  const waitAbort = new AbortController();
  const { result: waiting } = await api.waitStarted(c.Id, c.HostConfig.AutoRemove ? 'removed' : 'next-exit', { signal: waitAbort.signal });
  // Awaited below; this only keeps an early rejection (an abort) from being unhandled.
  waiting.catch(() => undefined);
  try {
    await api.start(c.Id);
  } catch (err) {
    conn.socket.destroy();
    waitAbort.abort();
    throw err;
  }
  const r = await runTerminalSession({
    conn,
    tty,
    withStdin,
    stdout: ctx.stdout,
    stderr: ctx.stderr,
    resize: (h, w) => api.resize(c.Id, h, w),
    detachKeys,
    kill: (s) => api.kill(c.Id, s),
  });
  if (r.detached) {
    waitAbort.abort();
    return 0;
  }
  return (await waiting).StatusCode;
}
