// berth exec: runs a command in a running container; the exit status is the command's.
import { readFile } from 'node:fs/promises';
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { runTerminalSession } from '../attach/stdio-session.js';
import { reportError } from '../report-error.js';
import { startFailureStatus } from '../run/create-container.js';
import { parseEnvFileText, resolveEnvFlag } from '../run/flag-values.js';
import { listOpt, stringOpt } from './filters.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const [container, ...cmd] = args as [string, ...string[]];
  const detach = opts['detach'] === true;
  const tty = opts['tty'] === true;
  const interactive = opts['interactive'] === true;
  if (!detach && tty && interactive && !process.stdin.isTTY) {
    ctx.warn('the input device is not a TTY');
    return 1;
  }
  const env: string[] = [];
  for (const f of listOpt(opts['envFile'])) env.push(...parseEnvFileText(await readFile(f, 'utf8'), f));
  for (const e of listOpt(opts['env'])) env.push(resolveEnvFlag(e));
  const detachKeys = stringOpt(opts['detachKeys']);
  const client = await ctx.client();
  const api = new ContainersApi(client);
  const { Id } = await api.execCreate(container, {
    User: stringOpt(opts['user']),
    Privileged: opts['privileged'] === true,
    Tty: tty,
    AttachStdin: interactive && !detach,
    AttachStdout: !detach,
    AttachStderr: !detach,
    DetachKeys: detachKeys,
    Env: env,
    WorkingDir: stringOpt(opts['workdir']),
    Cmd: cmd,
  });
  if (detach) {
    await api.execStartDetached(Id, tty);
    return 0;
  }
  let conn;
  try {
    conn = await client.hijack('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: tty } });
  } catch (err) {
    reportError(err, { debug: ctx.globals.debug });
    return startFailureStatus(err);
  }
  const r = await runTerminalSession({
    conn,
    tty,
    withStdin: interactive,
    stdout: ctx.stdout,
    stderr: ctx.stderr,
    resize: (h, w) => api.execResize(Id, h, w),
    detachKeys,
  });
  if (r.detached) return 0;
  return (await api.execInspect(Id)).ExitCode ?? 0;
}
