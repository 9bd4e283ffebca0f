// Container endpoints of the Engine API. Each handler parses the request, calls one backend
// method and writes the reply (STYLE.md §1). Wire ⇄ domain conversion is in containers-wire.ts.
import type { Writable } from 'node:stream';
import { z } from 'zod';
import type { ContainerCreateResponse, ContainerPruneResponse, ContainerWaitResponse } from '../../client/index.js';
import {
  logAttributes,
  openAttachOutput,
  type Container,
  type ContainerService,
  type LogRecord,
} from '../../runtime/index.js';
import { BerthError } from '../../util/index.js';
import type { Filters } from '../filters.js';
import type { RequestContext, Route } from '../router.js';
import { parseTimestamp } from '../timestamps.js';
import { exposedKeys, portFilterKeys, publishedKeys } from './container-port-filters.js';
import { containerFsRoutes } from './containers-fs.js';
import { containerStatsRoutes } from './containers-stats.js';
import { checkResources, createBodySchema, inspectWire, restartPolicyFrom, specFromCreateBody, summaryWire } from './containers-wire.js';

/** What these routes need of the runtime. */
export type ContainerBackend = Pick<
  ContainerService,
  | 'create' | 'start' | 'stop' | 'restart' | 'kill' | 'wait' | 'remove' | 'get' | 'find' | 'list' | 'logs'
  | 'attachStdin' | 'sockets' | 'publish' | 'resize' | 'top' | 'stats'
  | 'archiveStat' | 'archiveGet' | 'archivePut' | 'exportRootfs' | 'changes' | 'commit' | 'sizeOf' | 'rename' | 'pause' | 'unpause' | 'update'
>;

export interface ContainerRoutesOptions {
  /** Size of a container's writable layer and of its whole rootfs (`size=1`), when available. */
  sizeOf?: (c: Container) => Promise<{ rw: number; rootFs: number }>;
  /**
   * The image a list shows for a container: its reference while that still names the image
   * the container was created from, else the image id (dockerd's list after `rmi -f` or a
   * re-tag of the name).
   */
  listedImage?: (ref: string, imageId: string) => string;
}

function writeChunk(w: Writable, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    w.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

const LIST_FILTERS = ['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'] as const;
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** Docker's container list filters. */
export function matchesListFilters(c: Container, f: Filters, lookup: (ref: string) => Container | undefined): boolean {
  const st = c.state;
  for (const s of f.get('status')) if (!STATUSES.includes(s)) throw new BerthError('invalid-argument', `invalid filter 'status=${s}'`);
  if (!f.matchExact('status', st.status)) return false;
  if (!f.matchAny('id', (v) => c.id.startsWith(v))) return false;
  if (!f.matchAny('name', (v) => new RegExp(v).test(`/${c.name}`) || new RegExp(v).test(c.name))) return false;
  if (!f.matchLabels({ ...(c.config.image.config.Labels ?? {}), ...c.config.spec.labels })) return false;
  if (f.has('exited')) {
    if (st.status !== 'exited') return false;
    if (!f.get('exited').some((v) => Number(v) === st.exitCode)) return false;
  }
  if (!f.matchAny('ancestor', (v) => c.config.image.ref === v || c.config.image.ref === `${v}:latest` || c.config.image.id === v || c.config.image.id.replace('sha256:', '').startsWith(v.replace('sha256:', '')))) return false;
  if (!f.matchAny('health', (v) => (c.state.health?.status ?? 'none') === v)) return false;
  if (!f.matchAny('network', (v) => {
    const mode = c.config.spec.host.networkMode;
    return v === mode || (v === 'bridge' && mode === 'default') || Object.keys(c.config.spec.endpoints).includes(v);
  })) return false;
  if (!f.matchAny('volume', (v) => c.config.mountPoints.some((m) => m.name === v || m.source === v || m.destination === v))) return false;
  for (const key of ['publish', 'expose'] as const) {
    if (!f.has(key)) continue;
    const have = key === 'publish' ? publishedKeys(c) : exposedKeys(c);
    if (!f.get(key).some((v) => portFilterKeys(key, v).some((k) => have.has(k)))) return false;
  }
  if (f.has('before')) {
    const ref = lookup(f.get('before')[0]!);
    if (!ref) throw new BerthError('not-found', `No such container: ${f.get('before')[0]}`);
    if (!(c.config.created < ref.config.created)) return false;
  }
  if (f.has('since')) {
    const ref = lookup(f.get('since')[0]!);
    if (!ref) throw new BerthError('not-found', `No such container: ${f.get('since')[0]}`);
    if (!(c.config.created > ref.config.created)) return false;
  }
  return true;
}

const updateSchema = z
  .object({
    Memory: z.number().optional(),
    MemorySwap: z.number().optional(),
    MemoryReservation: z.number().optional(),
    NanoCpus: z.number().optional(),
    CpuShares: z.number().optional(),
    CpuQuota: z.number().optional(),
    CpuPeriod: z.number().optional(),
    CpusetCpus: z.string().optional(),
    PidsLimit: z.number().nullish(),
    RestartPolicy: z.object({ Name: z.string().optional(), MaximumRetryCount: z.number().optional() }).optional(),
  })
  .passthrough();

/** Log records are sent in frames of up to this many bytes (one per record would be ~1M frames for 100 MB). */
const FRAME_BATCH_BYTES = 64 * 1024;

/**
 * Streams log records to the client, batching consecutive records of one stream into one
 * write. Records the reader already holds arrive within a tick; when the next one takes
 * longer (a followed log gone idle), what is held is sent at once, so follow stays live.
 */
async function pumpRecords(ctx: RequestContext, gen: AsyncGenerator<LogRecord>, out: { stdout: Writable; stderr: Writable }, opts: { stdout: boolean; stderr: boolean; signal?: AbortSignal }) {
  const signal = opts.signal ?? ctx.signal;
  let held: Buffer[] = [];
  let heldBytes = 0;
  let heldStream: LogRecord['stream'] = 'stdout';
  const flush = async () => {
    if (!held.length) return;
    const data = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
    held = [];
    heldBytes = 0;
    await writeChunk(heldStream === 'stdout' ? out.stdout : out.stderr, data);
  };
  // One timer turn per event-loop turn, shared by every record read in it.
  let turn: Promise<boolean> | undefined;
  const nextTurn = () =>
    (turn ??= new Promise<boolean>((r) =>
      setImmediate(() => {
        turn = undefined;
        r(true);
      }),
    ));
  try {
    while (!signal.aborted) {
      const next = gen.next();
      if (held.length) {
        const idle = await Promise.race([next.then(() => false), nextTurn()]);
        if (idle) await flush();
      }
      const r = await next;
      if (r.done) break;
      const rec = r.value;
      if (rec.stream === 'stdout' ? !opts.stdout : !opts.stderr) continue;
      const data = rec.data;
      if (rec.stream !== heldStream || heldBytes + data.length > FRAME_BATCH_BYTES) await flush();
      heldStream = rec.stream;
      held.push(data);
      heldBytes += data.length;
    }
    await flush();
  } finally {
    await gen.return(undefined);
  }
}

function stopTimeout(ctx: RequestContext): number | undefined {
  return ctx.queryInt('t') ?? ctx.queryInt('timeout');
}

export function containerRoutes(backend: ContainerBackend, opts: ContainerRoutesOptions = {}): Route[] {
  const sizeOf = opts.sizeOf ?? ((c: Container) => backend.sizeOf(c));
  const sizeIf = async (ctx: RequestContext, c: Container) => (ctx.queryBool('size') ? await sizeOf(c) : undefined);
  return [
    ...containerStatsRoutes(backend),
    ...containerFsRoutes(backend),
    {
      method: 'POST',
      path: '/containers/create',
      handler: async (ctx) => {
        const body = await ctx.readJson(createBodySchema.nullish());
        if (!body) throw new BerthError('invalid-argument', 'Config cannot be empty in order to create a container');
        const spec = specFromCreateBody(body);
        const platform = ctx.queryString('platform') || undefined;
        const r = await backend.create(spec, { name: ctx.queryString('name') || undefined, platform, signal: ctx.signal });
        const reply: ContainerCreateResponse = { Id: r.id, Warnings: r.warnings };
        ctx.sendJson(201, reply);
      },
    },
    {
      method: 'GET',
      path: '/containers/json',
      handler: async (ctx) => {
        const filters = ctx.queryFilters().validate(LIST_FILTERS);
        const all = ctx.queryBool('all');
        const limit = ctx.queryInt('limit') ?? -1;
        let list = backend.list().filter((c) => all || limit > 0 || filters.has('status') || filters.has('exited') || c.isRunning || c.state.status === 'restarting');
        list = list.filter((c) => matchesListFilters(c, filters, (r) => backend.find(r)));
        if (limit > 0) list = list.slice(0, limit);
        const out = [];
        for (const c of list) {
          const w = summaryWire(c, { size: await sizeIf(ctx, c) });
          if (opts.listedImage) w.Image = opts.listedImage(c.config.image.ref, c.config.image.id);
          out.push(w);
        }
        ctx.sendJson(200, out);
      },
    },
    {
      method: 'GET',
      path: '/containers/{id}/json',
      handler: async (ctx) => {
        const c = backend.get(ctx.param('id'));
        ctx.sendJson(200, inspectWire(c, { size: await sizeIf(ctx, c) }));
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/start',
      handler: async (ctx) => {
        await backend.start(ctx.param('id'), { signal: ctx.signal });
        ctx.sendNoContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/stop',
      handler: async (ctx) => {
        await backend.stop(ctx.param('id'), { timeoutS: stopTimeout(ctx), signal: ctx.queryString('signal') || undefined });
        ctx.sendNoContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/restart',
      handler: async (ctx) => {
        await backend.restart(ctx.param('id'), { timeoutS: stopTimeout(ctx), signal: ctx.queryString('signal') || undefined });
        ctx.sendNoContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/kill',
      handler: async (ctx) => {
        await backend.kill(ctx.param('id'), ctx.queryString('signal') || 'SIGKILL');
        ctx.sendNoContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/wait',
      handler: async (ctx) => {
        const cond = ctx.queryString('condition') || 'not-running';
        if (cond !== 'not-running' && cond !== 'next-exit' && cond !== 'removed') {
          throw new BerthError('invalid-argument', `invalid condition: "${cond}"`);
        }
        // A missing container is a 404 before any header goes out, as dockerd answers it (the
        // docker CLI read a cut 200 as "unexpected EOF").
        const id = backend.get(ctx.param('id')).id;
        const waiting = backend.wait(id, cond, { signal: ctx.signal });
        // Headers go out once the waiter is registered: the docker CLI starts the container
        // only after it has them, so a fast exit cannot be missed.
        ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
        ctx.res.flushHeaders();
        // After the headers a failure can only go into the body, as dockerd's WaitExitError.
        const reply: ContainerWaitResponse = await waiting.then(
          (r) => ({ StatusCode: r.exitCode, Error: r.error ? { Message: r.error } : null }),
          (err: unknown) => ({ StatusCode: -1, Error: { Message: err instanceof Error ? err.message : String(err) } }),
        );
        ctx.res.end(JSON.stringify(reply) + '\n');
      },
    },
    {
      method: 'DELETE',
      path: '/containers/{id}',
      handler: async (ctx) => {
        await backend.remove(ctx.param('id'), { force: ctx.queryBool('force'), removeVolumes: ctx.queryBool('v') });
        ctx.sendNoContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/attach',
      handler: async (ctx) => {
        const c = backend.get(ctx.param('id'));
        const stream = ctx.queryBool('stream');
        const logs = ctx.queryBool('logs');
        const stdout = ctx.queryBool('stdout');
        const stderr = ctx.queryBool('stderr');
        if (!stream && !logs) throw new BerthError('invalid-argument', 'Bad parameters: you must choose at least one stream');
        // The detach keys end this attach (not the container): output stops with them.
        const detach = new AbortController();
        const signal = AbortSignal.any([ctx.signal, detach.signal]);
        const withStdin = ctx.queryBool('stdin') && c.config.spec.openStdin;
        // Live output comes from conmon's attach socket (runtime/attach-output.ts).
        const gen = await openAttachOutput(c, backend.sockets, { logs, stream, withStdin, signal });
        backend.publish(c, 'attach');
        let h: ReturnType<typeof ctx.hijack>;
        try {
          h = ctx.hijack({ tty: c.config.spec.tty });
        } catch (err) {
          // The log was opened for this request: release it.
          await gen.return(undefined);
          throw err;
        }
        h.conn.on('error', () => undefined);
        if (withStdin) {
          backend
            .attachStdin(c.id, h.conn, { signal: ctx.signal, detachKeys: ctx.queryString('detachKeys') || undefined })
            .then((how) => {
              if (how === 'detached') detach.abort();
            })
            .catch((err: unknown) => ctx.log.debug('attach stdin ended', { error: String(err) }));
        } else {
          h.conn.resume();
        }
        try {
          await pumpRecords(ctx, gen, h.output, { stdout, stderr, signal });
        } finally {
          await gen.return(undefined);
          h.close();
        }
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/resize',
      handler: async (ctx) => {
        const hgt = ctx.queryInt('h', 0);
        const w = ctx.queryInt('w', 0);
        if (hgt < 0 || w < 0) throw new BerthError('invalid-argument', 'invalid resize dimensions');
        await backend.resize(ctx.param('id'), hgt, w);
        ctx.sendText(200, '');
      },
    },
    {
      method: 'GET',
      path: '/containers/{id}/logs',
      handler: async (ctx) => {
        const c = backend.get(ctx.param('id'));
        const stdout = ctx.queryBool('stdout');
        const stderr = ctx.queryBool('stderr');
        if (!stdout && !stderr) throw new BerthError('invalid-argument', 'Bad parameters: you must choose at least one stream');
        const tailRaw = ctx.queryString('tail');
        const tail = tailRaw === undefined || tailRaw === 'all' || tailRaw === '' ? undefined : Number(tailRaw);
        if (tail !== undefined && !Number.isInteger(tail)) throw new BerthError('invalid-argument', `invalid value for "tail": "${tailRaw}"`);
        const since = ctx.queryString('since');
        const until = ctx.queryString('until');
        const gen = backend.logs(c.id, {
          follow: ctx.queryBool('follow'),
          tail,
          since: since && since !== '0' ? parseTimestamp(since, 'since') : undefined,
          until: until && until !== '0' ? parseTimestamp(until, 'until') : undefined,
          timestamps: ctx.queryBool('timestamps'),
          ...(ctx.queryBool('details') ? { details: logAttributes(c) } : {}),
          signal: ctx.signal,
        });
        const out = ctx.startOutputStream({ tty: c.config.spec.tty });
        try {
          await pumpRecords(ctx, gen, out, { stdout, stderr });
        } finally {
          out.end();
        }
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/rename',
      handler: async (ctx) => {
        const name = ctx.queryString('name');
        if (!name) throw new BerthError('invalid-argument', 'Neither old nor new names may be empty');
        await backend.rename(ctx.param('id'), name);
        ctx.sendNoContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/pause',
      handler: async (ctx) => {
        await backend.pause(ctx.param('id'));
        ctx.sendNoContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/unpause',
      handler: async (ctx) => {
        await backend.unpause(ctx.param('id'));
        ctx.sendNoContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/update',
      handler: async (ctx) => {
        const b = await ctx.readJson(updateSchema);
        const c = backend.get(ctx.param('id'));
        checkResources({ ...b, Memory: b.Memory ?? c.config.spec.host.memory });
        const warnings = await backend.update(c.id, {
          memory: b.Memory,
          memorySwap: b.MemorySwap,
          memoryReservation: b.MemoryReservation,
          nanoCpus: b.NanoCpus,
          cpuShares: b.CpuShares,
          cpuQuota: b.CpuQuota,
          cpuPeriod: b.CpuPeriod,
          cpusetCpus: b.CpusetCpus,
          pidsLimit: b.PidsLimit ?? undefined,
          restartPolicy: b.RestartPolicy && b.RestartPolicy.Name ? restartPolicyFrom(b.RestartPolicy) : undefined,
        });
        ctx.sendJson(200, { Warnings: warnings });
      },
    },
    {
      method: 'POST',
      path: '/containers/prune',
      handler: async (ctx) => {
        const f = ctx.queryFilters().validate(['label', 'label!', 'until']);
        const until = f.has('until') ? parseTimestamp(f.get('until')[0]!, 'until') : undefined;
        const deleted: string[] = [];
        for (const c of backend.list()) {
          if (c.state.status !== 'exited' && c.state.status !== 'created' && c.state.status !== 'dead') continue;
          if (!f.matchLabels(c.config.spec.labels)) continue;
          if (f.get('label!').some((l) => {
            const [k, v] = l.split('=', 2) as [string, string | undefined];
            return k in c.config.spec.labels && (v === undefined || c.config.spec.labels[k] === v);
          })) continue;
          if (until !== undefined && BigInt(Date.parse(c.config.created)) * 1_000_000n > until) continue;
          await backend.remove(c.id, { force: false });
          deleted.push(c.id);
        }
        const reply: ContainerPruneResponse = { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: 0 };
        ctx.sendJson(200, reply);
      },
    },
  ];
}
