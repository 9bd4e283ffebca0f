// POST /build (legacy builder protocol: tar context in, JSON lines out) and POST /build/prune.
import { z } from 'zod';
import type { BuildCacheRecord, BuildProgressWire, BuildPruneResponse, BuildStreamLine } from '../../client/index.js';
import type { BuildCacheUsage, BuildEvent, BuildOptions, BuildService } from '../../builder/index.js';
import { BerthError, errorMessage } from '../../util/index.js';
import type { RequestContext, Route } from '../router.js';

export type BuildBackend = Pick<BuildService, 'build' | 'prune' | 'validate' | 'openRemote'>;

const stringMap = z.record(z.string(), z.string().nullable());
const stringList = z.array(z.string());
const secretList = z.array(z.object({ id: z.string().min(1), src: z.string().min(1) }));

export function toWireBuildCache(u: BuildCacheUsage): BuildCacheRecord {
  return {
    ID: u.key.replace(/^sha256:/, '').slice(0, 25),
    Parent: u.parentKey.replace(/^sha256:/, '').slice(0, 25),
    Type: 'regular',
    Description: u.description,
    InUse: false,
    Shared: false,
    Size: u.size,
    CreatedAt: u.createdAt,
    LastUsedAt: u.lastUsedAt,
    UsageCount: u.usageCount,
  };
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Query → BuildOptions; every check that can fail runs before the stream starts. */
export function buildOptionsFrom(ctx: RequestContext): BuildOptions {
  const args = ctx.queryJson('buildargs', stringMap) ?? {};
  const buildArgs: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) if (v !== null) buildArgs[k] = v;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.queryJson('labels', stringMap) ?? {})) labels[k] = v ?? '';
  const net = ctx.queryString('networkmode') ?? 'default';
  if (!['default', 'none', 'host', 'bridge', ''].includes(net)) throw new BerthError('invalid-argument', `unsupported network mode "${net}" for RUN: expected default, none or host`);
  const secrets = ctx.queryJson('berthsecrets', secretList) ?? [];
  const extraHosts = (ctx.queryString('extrahosts') ?? '').split(',').filter(Boolean);
  // berth build over the local socket: the context directory on this host instead of a tar.
  const localContext = ctx.queryString('berthcontext') || undefined;
  if (localContext !== undefined && !localContext.startsWith('/')) throw new BerthError('invalid-argument', `invalid berthcontext "${localContext}": expected an absolute directory path`);
  // Reading host paths is the trust a root-only unix socket gives; a TCP client gets no such access.
  if (ctx.req.socket.remoteAddress !== undefined) {
    if (localContext !== undefined) throw new BerthError('invalid-argument', 'berthcontext is accepted only over the unix socket: send the context as a tar');
    if (secrets.length > 0) throw new BerthError('invalid-argument', 'berthsecrets is accepted only over the unix socket');
  }
  return {
    localContext,
    dockerfile: ctx.queryString('dockerfile') || 'Dockerfile',
    tags: ctx.query.getAll('t').filter(Boolean),
    buildArgs,
    labels,
    target: ctx.queryString('target') || undefined,
    noCache: ctx.queryBool('nocache'),
    pull: ctx.queryBool('pull'),
    cacheFrom: ctx.queryJson('cachefrom', stringList) ?? [],
    network: net === 'host' ? 'host' : net === 'none' ? 'none' : 'default',
    secrets,
    platform: ctx.queryString('platform') || undefined,
    extraHosts,
  };
}

/** The legacy `docker build` lines for one event. */
export function legacyLines(e: BuildEvent): BuildStreamLine[] {
  switch (e.type) {
    case 'step-start':
      return e.ref.stage === 0 && e.ref.step === 0 ? [] : [{ stream: `Step ${e.ref.step}/${e.ref.total} : ${e.ref.text}\n` }];
    case 'step-cached':
      return [{ stream: ' ---> Using cache\n' }];
    case 'step-miss':
      return [{ stream: ` ---> Cache miss: ${e.reason}\n` }];
    case 'step-log':
      return [{ stream: e.data }];
    case 'step-done':
      return e.imageId ? [{ stream: ` ---> ${shortId(e.imageId)}\n` }] : [];
    case 'warning':
      return [{ stream: `[Warning] ${e.message}\n` }];
    case 'step-error':
    case 'context':
      return [];
  }
}

export function buildRoutes(builder: BuildBackend): Route[] {
  return [
    {
      method: 'POST',
      path: '/build',
      handler: async (ctx) => {
        const opts = buildOptionsFrom(ctx);
        builder.validate(opts);
        // remote=: a git URL or a tarball/Dockerfile URL the daemon fetches (the body is unused).
        // Fetched before the stream starts, so an unreachable URL or a bad ref is an HTTP error.
        const remoteUrl = ctx.queryString('remote');
        if (remoteUrl !== undefined && remoteUrl !== '') ctx.body.resume();
        const remote = remoteUrl ? await builder.openRemote(remoteUrl, { signal: ctx.signal, allowLocal: ctx.req.socket.remoteAddress === undefined, buildArgs: opts.buildArgs }) : undefined;
        try {
          const quiet = ctx.queryBool('q');
          const structured = ctx.queryBool('berthprogress');
          const w = ctx.startJsonStream();
          let queue: Promise<void> = Promise.resolve();
          const send = (v: BuildStreamLine) => {
            queue = queue.then(() => w.write(v));
          };
          const onEvent = (e: BuildEvent) => {
            if (structured) send({ berth: e as BuildProgressWire });
            else if (!quiet) for (const l of legacyLines(e)) send(l);
          };
          try {
            const r = await builder.build(remote ?? ctx.body, opts, { signal: ctx.signal, onEvent });
            send({ aux: { ID: r.imageId } });
            if (structured) send({ berth: { type: 'result', imageId: r.imageId, tags: r.tags, cached: r.cached, executed: r.executed } });
            else if (quiet) send({ stream: `${r.imageId}\n` });
            else {
              send({ stream: `Successfully built ${shortId(r.imageId)}\n` });
              for (const t of r.tags) send({ stream: `Successfully tagged ${t.includes(':') && !/:[0-9]+\/[^:]*$/.test(t) ? t : `${t}:latest`}\n` });
            }
            await queue;
            w.end();
          } catch (err) {
            await queue;
            if (ctx.signal.aborted) throw err;
            ctx.log.debug('build failed', { error: errorMessage(err) });
            await w.error(errorMessage(err));
          }
        } finally {
          await remote?.close();
        }
      },
    },
    {
      method: 'POST',
      path: '/build/prune',
      handler: async (ctx) => {
        const r = await builder.prune({ signal: ctx.signal });
        const body: BuildPruneResponse = { CachesDeleted: r.cachesDeleted, SpaceReclaimed: r.spaceReclaimed };
        ctx.sendJson(200, body);
      },
    },
  ];
}
