// /images/* — parse the request, call the ImageService, spell the reply as Docker does.
import { z } from 'zod';
import type {
  HistoryResponseItem,
  ImageConfigWire,
  ImageDeleteResponseItem,
  ImageInspect,
  ImageManifestSummary,
  ImagePruneResponse,
  ImageSummary as WireImageSummary,
  ProgressMessage,
} from '../../client/index.js';
import type {
  ContainerConfig,
  DeleteItem,
  ImageDetails,
  ImageService,
  ImageSummary,
  ListFilters,
  LoadProgress,
  PlatformsView,
  PruneFilters,
} from '../../image/index.js';
import { BerthError, errorMessage } from '../../util/index.js';
import type { JsonLineWriter } from '../streams.js';
import { apiVersionAtLeast, type Filters, type RequestContext, type Route } from '../router.js';

/** The slice of ImageService the routes call (tests may pass a fake). */
export type ImageBackend = Pick<
  ImageService,
  'list' | 'inspect' | 'history' | 'tag' | 'remove' | 'load' | 'save' | 'importRootfs' | 'prune' | 'exists' | 'platforms'
>;

const platformQuery = z.object({ os: z.string().min(1), architecture: z.string().min(1), variant: z.string().optional() });

/** `?manifests=1`: one summary per platform of the image (Docker's ImageManifestSummary). */
function toWireManifests(v: PlatformsView): ImageManifestSummary[] {
  return v.images.map((i) => {
    const platform = i.platform ? { architecture: i.platform.architecture, os: i.platform.os, ...(i.platform.variant ? { variant: i.platform.variant } : {}) } : undefined;
    return {
      ID: i.manifestDigest,
      Descriptor: { mediaType: i.manifestMediaType, digest: i.manifestDigest, size: i.manifestSize, ...(platform ? { platform } : {}) },
      Available: i.available,
      Size: { Total: i.size, Content: i.size },
      Kind: platform?.os === 'unknown' ? 'attestation' : 'image',
      ...(platform && i.available ? { ImageData: { Platform: platform, Containers: [], Size: { Unpacked: i.size } } } : {}),
      ...(i.imageId ? { ImageID: i.imageId } : {}),
    };
  });
}

/** Pulls from a registry; absent until registry/ has a client. */
export interface ImagePullBackend {
  pull(
    ref: string,
    opts: { platform?: string | undefined; auth?: string | undefined; signal?: AbortSignal; onProgress: (m: ProgressMessage) => void },
  ): Promise<void>;
}

function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** Docker's progress bar text: `[=====>     ]  1.2MB/3.4MB`. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return current > 0 ? humanSize(current) : '';
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  return `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

function progressMessage(p: LoadProgress): ProgressMessage {
  if (p.kind === 'message') return { stream: `${p.text}\n` };
  return { status: p.action, progressDetail: { current: p.current, total: p.total }, progress: progressBar(p.current, p.total), id: p.id };
}

export function toWireSummary(s: ImageSummary, apiVersion: string): WireImageSummary {
  const out: WireImageSummary = {
    Containers: s.containers,
    Created: s.created,
    Id: s.id,
    Labels: s.labels,
    ParentId: s.parentId,
    RepoDigests: s.repoDigests,
    RepoTags: s.repoTags,
    SharedSize: s.sharedSize,
    Size: s.size,
  };
  if (!apiVersionAtLeast(apiVersion, '1.44')) out.VirtualSize = s.size;
  return out;
}

export function toWireConfig(c: ContainerConfig): ImageConfigWire {
  // Docker always shows these keys; the rest appear when the image sets them.
  return {
    User: c.User ?? '',
    ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts as Record<string, Record<string, never>> } : {}),
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    ...(c.ArgsEscaped ? { ArgsEscaped: c.ArgsEscaped } : {}),
    Volumes: (c.Volumes as Record<string, Record<string, never>> | null | undefined) ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(c.Shell ? { Shell: c.Shell } : {}),
  };
}

export function toWireInspect(d: ImageDetails, apiVersion: string): ImageInspect {
  const out: ImageInspect = {
    Id: d.id,
    RepoTags: d.repoTags,
    RepoDigests: d.repoDigests,
    Parent: d.parent,
    Comment: d.comment,
    Created: d.created,
    DockerVersion: d.dockerVersion,
    Author: d.author,
    Config: toWireConfig(d.config),
    Architecture: d.architecture,
    ...(d.variant ? { Variant: d.variant } : {}),
    Os: d.os,
    ...(d.osVersion ? { OsVersion: d.osVersion } : {}),
    Size: d.size,
    GraphDriver: { Name: d.graphDriver.name, Data: d.graphDriver.data },
    RootFS: { Type: d.rootFs.type, Layers: d.rootFs.layers },
    Metadata: d.lastTagTime ? { LastTagTime: d.lastTagTime } : { LastTagTime: '0001-01-01T00:00:00Z' },
  };
  if (!apiVersionAtLeast(apiVersion, '1.44')) out.VirtualSize = d.size;
  if (!apiVersionAtLeast(apiVersion, '1.45')) {
    out.Container = '';
    out.ContainerConfig = { Hostname: '', Domainname: '', User: '', Env: null, Cmd: null, Image: '', WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null };
  }
  return out;
}

function toWireDelete(items: DeleteItem[]): ImageDeleteResponseItem[] {
  return items.map((i) => ('untagged' in i ? { Untagged: i.untagged } : { Deleted: i.deleted }));
}

function boolFilter(f: Filters, key: string): boolean | undefined {
  const values = f.get(key);
  if (values.length === 0) return undefined;
  const v = values[0]!.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new BerthError('invalid-argument', `invalid filter '${key}=${values[0]}'`);
}

function single(f: Filters, key: string): string | undefined {
  const v = f.get(key);
  if (v.length > 1) throw new BerthError('invalid-argument', `invalid filter '${key}': only one value is allowed`);
  return v[0];
}

export function listFiltersOf(f: Filters, legacyFilter: string | undefined): ListFilters {
  f.validate(['dangling', 'label', 'before', 'since', 'reference', 'until']);
  const reference = [...f.get('reference'), ...(legacyFilter ? [legacyFilter] : [])];
  return {
    dangling: boolFilter(f, 'dangling'),
    label: f.get('label'),
    reference: reference.length > 0 ? reference : undefined,
    before: single(f, 'before'),
    since: single(f, 'since'),
    until: single(f, 'until'),
  };
}

export function pruneFiltersOf(f: Filters): { all: boolean; filters: PruneFilters } {
  f.validate(['dangling', 'label', 'label!', 'until']);
  const dangling = boolFilter(f, 'dangling');
  return { all: dangling === false, filters: { until: single(f, 'until'), label: f.get('label'), labelNot: f.get('label!') } };
}

const tagQuery = z.object({ repo: z.string().min(1, 'repo is required'), tag: z.string().optional() });

/** Starts the JSON stream on the first line, so errors before any output still get a real status. */
function lazyStream(ctx: RequestContext): { write(m: ProgressMessage): void; started(): JsonLineWriter | undefined; get(): JsonLineWriter } {
  let w: JsonLineWriter | undefined;
  const get = () => (w ??= ctx.startJsonStream());
  return {
    write: (m) => void get().write(m),
    started: () => w,
    get,
  };
}

async function finishStream(ctx: RequestContext, body: (out: ReturnType<typeof lazyStream>) => Promise<void>): Promise<void> {
  const out = lazyStream(ctx);
  try {
    await body(out);
    out.get().end();
  } catch (e) {
    const w = out.started();
    if (!w) throw e;
    await w.error(errorMessage(e));
  }
}

export function imageRoutes(images: ImageBackend, puller?: ImagePullBackend): Route[] {
  return [
    {
      method: 'GET',
      path: '/images/json',
      handler: async (ctx) => {
        const filters = listFiltersOf(ctx.queryFilters(), ctx.queryString('filter'));
        const list = await images.list(
          { all: ctx.queryBool('all'), filters, digests: ctx.queryBool('digests'), sharedSize: ctx.queryBool('shared-size') },
          { signal: ctx.signal },
        );
        ctx.sendJson(200, list.map((s) => toWireSummary(s, ctx.apiVersion)));
      },
    },
    {
      method: 'GET',
      path: '/images/{name*}/json',
      handler: async (ctx) => {
        const name = ctx.param('name');
        const platform = ctx.queryJson('platform', platformQuery);
        const manifests = ctx.queryBool('manifests');
        if (platform && manifests) throw new BerthError('invalid-argument', 'conflicting options: manifests and platform options cannot both be set');
        const out = toWireInspect(await images.inspect(name, { signal: ctx.signal, platform }), ctx.apiVersion);
        if (manifests) {
          const v = await images.platforms(name, { signal: ctx.signal });
          if (v.index) out.Descriptor = { mediaType: v.index.mediaType, digest: v.index.digest, size: v.index.size };
          out.Manifests = toWireManifests(v);
        }
        ctx.sendJson(200, out);
      },
    },
    {
      method: 'GET',
      path: '/images/{name*}/history',
      handler: async (ctx) => {
        const items = await images.history(ctx.param('name'), { signal: ctx.signal });
        const wire: HistoryResponseItem[] = items.map((h) => ({
          Id: h.id,
          Created: h.created,
          CreatedBy: h.createdBy,
          Tags: h.tags.length > 0 ? h.tags : null,
          Size: h.size,
          Comment: h.comment,
        }));
        ctx.sendJson(200, wire);
      },
    },
    {
      method: 'POST',
      path: '/images/{name*}/tag',
      handler: async (ctx) => {
        const q = tagQuery.safeParse({ repo: ctx.queryString('repo') ?? '', tag: ctx.queryString('tag') });
        if (!q.success) throw new BerthError('invalid-argument', q.error.issues[0]?.message ?? 'invalid tag request');
        await images.tag(ctx.param('name'), q.data.repo, q.data.tag, { signal: ctx.signal });
        ctx.sendText(201, '');
      },
    },
    {
      method: 'DELETE',
      path: '/images/{name*}',
      handler: async (ctx) => {
        const res = await images.remove(ctx.param('name'), { force: ctx.queryBool('force'), noprune: ctx.queryBool('noprune') }, { signal: ctx.signal });
        ctx.sendJson(200, toWireDelete(res));
      },
    },
    {
      method: 'POST',
      path: '/images/load',
      handler: async (ctx) => {
        const quiet = ctx.queryBool('quiet');
        await finishStream(ctx, async (out) => {
          const res = await images.load(ctx.body, { quiet, onProgress: (p) => out.write(progressMessage(p)) }, { signal: ctx.signal });
          for (const m of res.messages) out.write({ stream: `${m}\n` });
        });
      },
    },
    {
      method: 'GET',
      path: '/images/get',
      handler: async (ctx) => saveTo(ctx, images, ctx.query.getAll('names')),
    },
    {
      method: 'GET',
      path: '/images/{name*}/get',
      handler: async (ctx) => saveTo(ctx, images, [ctx.param('name')]),
    },
    {
      method: 'POST',
      path: '/images/create',
      handler: async (ctx) => {
        const fromImage = ctx.queryString('fromImage');
        const fromSrc = ctx.queryString('fromSrc');
        if (fromImage !== undefined && fromImage !== '') {
          if (!puller) {
            throw new BerthError(
              'not-implemented',
              `cannot pull "${fromImage}": berth has no registry client yet (use docker load, docker import or berth bootstrap)`,
            );
          }
          const tag = ctx.queryString('tag');
          const ref = tag ? (tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
          await finishStream(ctx, (out) =>
            puller.pull(ref, {
              platform: ctx.queryString('platform'),
              auth: ctx.req.headers['x-registry-auth'] as string | undefined,
              signal: ctx.signal,
              onProgress: (m) => out.write(m),
            }),
          );
          return;
        }
        if (fromSrc === undefined || fromSrc === '') throw new BerthError('invalid-argument', 'fromImage or fromSrc is required');
        if (fromSrc !== '-') {
          throw new BerthError('invalid-argument', `cannot import from "${fromSrc}": only fromSrc=- (the request body) is supported`);
        }
        const id = await images.importRootfs(
          ctx.body,
          {
            repo: ctx.queryString('repo') || undefined,
            tag: ctx.queryString('tag') || undefined,
            changes: ctx.query.getAll('changes'),
            message: ctx.queryString('message') || undefined,
            platform: ctx.queryString('platform') || undefined,
          },
          { signal: ctx.signal },
        );
        await finishStream(ctx, async (out) => out.write({ status: id }));
      },
    },
    {
      method: 'POST',
      path: '/images/prune',
      handler: async (ctx) => {
        const { all, filters } = pruneFiltersOf(ctx.queryFilters());
        const res = await images.prune({ all, filters }, { signal: ctx.signal });
        const body: ImagePruneResponse = {
          ImagesDeleted: res.imagesDeleted.length > 0 ? toWireDelete(res.imagesDeleted) : null,
          SpaceReclaimed: res.spaceReclaimed,
        };
        ctx.sendJson(200, body);
      },
    },
  ];
}

function saveTo(ctx: RequestContext, images: ImageBackend, names: string[]): Promise<void> {
  if (names.length === 0) throw new BerthError('invalid-argument', 'no image names given: use ?names=<image>');
  // save() checks every name before returning, so a missing image is still a 404.
  const tar = images.save(names, { signal: ctx.signal });
  const res = ctx.startDownload('application/x-tar');
  return new Promise<void>((resolve) => {
    tar.on('error', (err) => {
      // Headers are out: all we can do is cut the connection so the client sees a truncated tar.
      ctx.log.warn('image save failed mid-stream', { error: errorMessage(err) });
      res.destroy(err);
      resolve();
    });
    res.on('close', () => {
      tar.destroy();
      resolve();
    });
    tar.pipe(res);
  });
}
