// berth run: create + attach + start + wait, returning the container's exit status; with
// -d only create + start and print the id. Engine errors exit 125, a command that is not
// found 127 and one that cannot be invoked 126, as with docker.
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { isSigProxy, parseDetachKeys, reclaimBoolValue, runTerminalSession } from '../attach/stdio-session.js';
import { reportError } from '../report-error.js';
import { createContainer, startFailureStatus } from '../run/create-container.js';
import { buildCreatePlan } from '../run/create-request.js';
import { stringOpt } from './filters.js';

export async function run(ctx: CommandContext, rawArgs: string[], opts: CommandOptions): Promise<number> {
  const args = reclaimBoolValue(opts['sigProxy'], rawArgs);
  const plan = buildCreatePlan(opts, args, { run: true });
  const body = plan.body;
  const detach = opts['detach'] === true;
  if (!detach && body.Tty && body.AttachStdin && !process.stdin.isTTY) {
    ctx.warn('the input device is not a TTY');
    return 1;
  }
  const detachKeys = stringOpt(opts['detachKeys']);
  // Checked before anything is created.
  if (detachKeys) parseDetachKeys(detachKeys);
  const id = await createContainer(ctx, plan);
  const client = await ctx.client();
  const api = new ContainersApi(client);
  if (detach) {
    try {
      await api.start(id);
    } catch (err) {
      reportError(err, { debug: ctx.globals.debug });
      return startFailureStatus(err);
    }
    await ctx.print(`${id}\n`);
    return 0;
  }

  // Attach and register the wait together (one round trip less); both precede the start so
  // neither early output nor a fast exit is missed.
  const autoRemove = body.HostConfig?.AutoRemove === true;
  const waitAbort = new AbortController();
  const attach = body.AttachStdin || body.AttachStdout || body.AttachStderr;
  const attaching = attach
    ? client.hijack('POST', `/containers/${id}/attach`, {
        query: { stream: true, stdin: body.AttachStdin, stdout: body.AttachStdout, stderr: body.AttachStderr },
      })
    : Promise.resolve(undefined);
  const registering = api.waitStarted(id, autoRemove ? 'removed' : 'next-exit', { signal: waitAbort.signal });
  let conn: Awaited<typeof attaching>;
  let waiting: Awaited<typeof registering>['result'];
  try {
    [conn, { result: waiting }] = await Promise.all([attaching, registering]);
  } catch (err) {
    // Whichever half succeeded must not keep the connection (and the process) alive.
    waitAbort.abort();
    attaching.then((c) => c?.socket.destroy(), () => undefined);
    throw err;
  }
  // Awaited below; this only keeps an early rejection (an abort) from being unhandled.
  waiting.catch(() => undefined);
  try {
    await api.start(id);
  } catch (err) {
    conn?.socket.destroy();
    waitAbort.abort();
    reportError(err, { debug: ctx.globals.debug });
    // The daemon keeps a container whose start failed; --rm means it should not stay.
    if (autoRemove) await api.remove(id, { force: true }).catch(() => undefined);
    return startFailureStatus(err);
  }
  if (conn) {
    const result = await runTerminalSession({
      conn,
      tty: body.Tty === true,
      withStdin: body.AttachStdin === true,
      // Made on first write (a silent container needs neither).
      get stdout() {
        return ctx.stdout;
      },
      get stderr() {
        return ctx.stderr;
      },
      resize: (h, w) => api.resize(id, h, w),
      detachKeys,
      kill: isSigProxy(opts['sigProxy']) ? (s) => api.kill(id, s) : undefined,
    });
    if (result.detached) {
      waitAbort.abort();
      return 0;
    }
  }
  const status = await waiting;
  if (status.Error?.Message) ctx.warn(`berth: ${status.Error.Message}`);
  return status.StatusCode;
}
