// Exec endpoints: create, start (hijacked, or detached), resize, inspect.
import { z } from 'zod';
import type { ExecInspectResponse } from '../../client/index.js';
import type { ExecManager } from '../../runtime/index.js';
import { BerthError, errorMessage } from '../../util/index.js';
import type { Route } from '../router.js';

/** What these routes need of the runtime. */
export type ExecBackend = Pick<ExecManager, 'create' | 'start' | 'get' | 'resize'>;

const execConfigSchema = z
  .object({
    AttachStdin: z.boolean().optional(),
    AttachStdout: z.boolean().optional(),
    AttachStderr: z.boolean().optional(),
    DetachKeys: z.string().optional(),
    Tty: z.boolean().optional(),
    Env: z.array(z.string()).nullish(),
    Cmd: z.union([z.array(z.string()), z.string()]).nullish(),
    Privileged: z.boolean().optional(),
    User: z.string().optional(),
    WorkingDir: z.string().optional(),
  })
  .passthrough();

const execStartSchema = z.object({ Detach: z.boolean().optional(), Tty: z.boolean().optional() }).passthrough().nullish();

export function execRoutes(backend: ExecBackend): Route[] {
  return [
    {
      method: 'POST',
      path: '/containers/{id}/exec',
      handler: async (ctx) => {
        const b = await ctx.readJson(execConfigSchema);
        const cmd = typeof b.Cmd === 'string' ? [b.Cmd] : b.Cmd ?? [];
        if (b.WorkingDir && !b.WorkingDir.startsWith('/')) {
          throw new BerthError('invalid-argument', `the working directory '${b.WorkingDir}' is invalid, it needs to be an absolute path`);
        }
        const s = await backend.create(ctx.param('id'), {
          cmd,
          env: b.Env ?? [],
          user: b.User ?? '',
          workingDir: b.WorkingDir ?? '',
          tty: !!b.Tty,
          attachStdin: !!b.AttachStdin,
          attachStdout: b.AttachStdout ?? true,
          attachStderr: b.AttachStderr ?? true,
          privileged: !!b.Privileged,
          detachKeys: b.DetachKeys ?? '',
        });
        ctx.sendJson(201, { Id: s.id });
      },
    },
    {
      method: 'POST',
      path: '/exec/{id}/start',
      handler: async (ctx) => {
        const b = (await ctx.readJson(execStartSchema)) ?? {};
        const s = backend.get(ctx.param('id'));
        if (b.Detach) {
          // Like dockerd, nothing keeps a detached session's output.
          await backend.start(s.id, { detach: true });
          ctx.sendText(200, '', 'application/json');
          return;
        }
        // As dockerd: the connection is upgraded before the process starts. A client that
        // parses the 101 through a buffered reader (docker-py, so docker-compose 1.29) loses
        // output that arrives with the head, and a quick command's output would.
        const h = ctx.hijack({ tty: s.spec.tty });
        h.conn.on('error', () => undefined);
        let run: Awaited<ReturnType<ExecBackend['start']>>;
        try {
          run = await backend.start(s.id, { signal: ctx.signal });
        } catch (err) {
          // A start failure (command not found, missing working directory or user) is a line
          // on the stream's stdout; the client takes the status from the exec's inspect.
          h.conn.resume();
          await new Promise<void>((resolve) => h.output.stdout.write(Buffer.from(`${errorMessage(err)}\r\n`), () => resolve()));
          h.close();
          return;
        }
        if (s.spec.attachStdin) {
          run.attachStdin(h.conn).catch((err: unknown) => ctx.log.debug('exec stdin ended', { error: String(err) }));
        } else {
          h.conn.resume();
        }
        try {
          for await (const rec of run.output) {
            if (rec.stream === 'stdout' ? !s.spec.attachStdout : !s.spec.attachStderr) continue;
            const w = rec.stream === 'stdout' ? h.output.stdout : h.output.stderr;
            await new Promise<void>((resolve, reject) => w.write(rec.data, (err) => (err ? reject(err) : resolve())));
          }
        } finally {
          h.close();
        }
      },
    },
    {
      method: 'POST',
      path: '/exec/{id}/resize',
      handler: async (ctx) => {
        await backend.resize(ctx.param('id'), ctx.queryInt('h', 0), ctx.queryInt('w', 0));
        ctx.sendText(200, '');
      },
    },
    {
      method: 'GET',
      path: '/exec/{id}/json',
      handler: async (ctx) => {
        const s = backend.get(ctx.param('id'));
        const reply: ExecInspectResponse = {
          CanRemove: false,
          DetachKeys: s.spec.detachKeys,
          ID: s.id,
          Running: s.running,
          ExitCode: s.exitCode,
          ProcessConfig: {
            privileged: s.spec.privileged,
            user: s.spec.user,
            tty: s.spec.tty,
            entrypoint: s.spec.cmd[0] ?? '',
            arguments: s.spec.cmd.slice(1),
          },
          OpenStdin: s.spec.attachStdin,
          OpenStderr: s.spec.attachStderr,
          OpenStdout: s.spec.attachStdout,
          ContainerID: s.containerId,
          Pid: s.pid,
        };
        ctx.sendJson(200, reply);
      },
    },
  ];
}
