// berth attach: joins a running container's stdio; exits with its status when it ends.
import { ContainersApi } from '../../client/index.js';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { isSigProxy, runTerminalSession } from '../attach/stdio-session.js';
import { stringOpt } from './filters.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const client = await ctx.client();
  const api = new ContainersApi(client);
  const c = await api.inspect(args[0]!);
  if (!c.State.Running) throw new BerthError('conflict', 'You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new BerthError('conflict', 'You cannot attach to a paused container, unpause it first');
  const tty = c.Config.Tty === true;
  const withStdin = opts['stdin'] !== false && c.Config.OpenStdin === true;
  if (tty && withStdin && !process.stdin.isTTY) {
    ctx.warn('the input device is not a TTY');
    return 1;
  }
  const conn = await client.hijack('POST', `/containers/${c.Id}/attach`, {
    query: { stream: true, stdin: withStdin, stdout: true, stderr: true },
  });
  const r = await runTerminalSession({
    conn,
    tty,
    withStdin,
    stdout: ctx.stdout,
    stderr: ctx.stderr,
    resize: (h, w) => api.resize(c.Id, h, w),
    detachKeys: stringOpt(opts['detachKeys']),
    kill: isSigProxy(opts['sigProxy']) ? (s) => api.kill(c.Id, s) : undefined,
  });
  if (r.detached) return 0;
  return (await api.wait(c.Id, 'not-running')).StatusCode;
}
