// Container filesystem endpoints: archive (docker cp) GET/HEAD/PUT, export, changes, commit.
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { ContainerChange, ContainerCommitResponse } from '../../client/index.js';
import type { ContainerService, PathStat } from '../../runtime/index.js';
import { BerthError } from '../../util/index.js';
import type { Route } from '../router.js';

export type FsBackend = Pick<ContainerService, 'archiveStat' | 'archiveGet' | 'archivePut' | 'exportRootfs' | 'changes' | 'commit' | 'get'>;

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function statHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify({ name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget })).toString('base64');
}

const commitConfigSchema = z
  .object({
    User: z.string().optional(),
    Env: z.array(z.string()).nullish(),
    Cmd: z.array(z.string()).nullish(),
    Entrypoint: z.array(z.string()).nullish(),
    WorkingDir: z.string().optional(),
    Labels: z.record(z.string(), z.string()).nullish(),
    ExposedPorts: z.record(z.string(), z.object({}).passthrough()).nullish(),
    Volumes: z.record(z.string(), z.object({}).passthrough()).nullish(),
    StopSignal: z.string().optional(),
  })
  .passthrough()
  .nullish();

export function containerFsRoutes(backend: FsBackend): Route[] {
  return [
    {
      method: 'GET',
      path: '/containers/{id}/archive',
      handler: async (ctx) => {
        const path = ctx.queryString('path') ?? '';
        if (ctx.req.method === 'HEAD') {
          const st = await backend.archiveStat(ctx.param('id'), path);
          ctx.res.writeHead(200, { [STAT_HEADER]: statHeader(st), 'Content-Type': 'application/json' });
          ctx.res.end();
          return;
        }
        await backend.archiveGet(
          ctx.param('id'),
          path,
          async (st, tar) => {
            const out = ctx.startDownload('application/x-tar', { [STAT_HEADER]: statHeader(st) });
            await pipeline(tar, out, { signal: ctx.signal });
          },
          { signal: ctx.signal },
        );
      },
    },
    {
      method: 'PUT',
      path: '/containers/{id}/archive',
      handler: async (ctx) => {
        await backend.archivePut(ctx.param('id'), ctx.queryString('path') ?? '', ctx.body, { signal: ctx.signal });
        ctx.sendText(200, '');
      },
    },
    {
      method: 'GET',
      path: '/containers/{id}/export',
      handler: async (ctx) => {
        await backend.exportRootfs(
          ctx.param('id'),
          async (tar) => {
            await pipeline(tar, ctx.startDownload('application/x-tar'), { signal: ctx.signal });
          },
          { signal: ctx.signal },
        );
      },
    },
    {
      method: 'GET',
      path: '/containers/{id}/changes',
      handler: async (ctx) => {
        const changes = await backend.changes(ctx.param('id'));
        const reply: ContainerChange[] = changes.map((ch) => ({ Path: ch.path, Kind: ch.kind }));
        ctx.sendJson(200, reply.length ? reply : null);
      },
    },
    {
      method: 'POST',
      path: '/commit',
      handler: async (ctx) => {
        const ref = ctx.queryString('container');
        if (!ref) throw new BerthError('invalid-argument', 'No container specified');
        const body = await ctx.readJson(commitConfigSchema);
        const config = body
          ? Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)))
          : undefined;
        const id = await backend.commit(
          ref,
          {
            repo: ctx.queryString('repo') || undefined,
            tag: ctx.queryString('tag') || undefined,
            comment: ctx.queryString('comment') || undefined,
            author: ctx.queryString('author') || undefined,
            changes: ctx.query.getAll('changes').filter(Boolean),
            pause: ctx.queryBool('pause', true),
            config,
          },
          { signal: ctx.signal },
        );
        const reply: ContainerCommitResponse = { Id: id };
        ctx.sendJson(201, reply);
      },
    },
  ];
}
