// Read-only views of images: docker images (with filters, shared size), inspect, history, df.
import { join } from 'node:path';
import type { ChainId } from '../storage/index.js';
import { BerthError, type Digest } from '../util/index.js';
import { createdSeconds, isTagged, type ImageCore, type Signal } from './image-core.js';
import { globToRegExp, labelsMatch, parseTimestampFilter, referenceMatches } from './image-filters.js';
import type { ImageRecord } from './image-store.js';
import { chainOf } from './image-writer.js';
import { familiarName, familiarString, repositoryOf } from './reference.js';
import type { HistoryEntry, Platform } from './schemas.js';
import type { HistoryItem, ImageDetails, ImageDiskUsage, ImageSummary, ListFilters } from './types.js';

export async function listImages(
  core: ImageCore,
  args: { all?: boolean; filters?: ListFilters; digests?: boolean; sharedSize?: boolean; containers?: boolean } = {},
  _opts: Signal = {},
): Promise<ImageSummary[]> {
  const f = args.filters ?? {};
  const patterns = (f.reference ?? []).map((p) => globToRegExp(p));
  const before = f.before ? createdSeconds(core.lookup(f.before).rec.created) : undefined;
  const since = f.since ? createdSeconds(core.lookup(f.since).rec.created) : undefined;
  const until = f.until ? parseTimestampFilter(f.until, Date.now()) / 1000 : undefined;
  const labelWant = (f.label ?? []).filter((l) => !l.includes('!='));
  const labelNot = (f.label ?? []).filter((l) => l.includes('!=')).map((l) => l.replace('!=', '='));
  const all = core.store.list();
  const parents = new Set(all.map((r) => r.parent).filter((p): p is Digest => p !== undefined));
  const layerSizes = args.sharedSize ? await layerUseCounts(core, all) : undefined;
  const out: ImageSummary[] = [];
  for (const rec of all) {
    const refs = core.shownRefsOf(rec.id);
    const tagged = refs.filter(isTagged);
    // An index's images are not dangling; those not shown with its tags are listed with --all only.
    const inIndex = refs.length === 0 && core.indexesOf(rec.id).length > 0;
    const dangling = refs.length === 0 && !inIndex;
    if (f.dangling !== undefined && f.dangling !== dangling) continue;
    if (inIndex && !args.all) continue;
    // Intermediate images (untagged parents of others) show only with --all.
    if (!args.all && dangling && parents.has(rec.id) && f.dangling === undefined) continue;
    const created = createdSeconds(rec.created);
    if (before !== undefined && !(created < before)) continue;
    if (since !== undefined && !(created > since)) continue;
    if (until !== undefined && !(created < until)) continue;
    let repoTags = tagged.map((r) => familiarString(r));
    if (patterns.length > 0) {
      const matching = tagged.filter((r) => {
        const fs = familiarString(r);
        const fn = familiarName(repositoryOf(r));
        return patterns.some((p) => referenceMatches(p, fs, fn));
      });
      if (matching.length === 0) continue;
      repoTags = matching.map((r) => familiarString(r));
    }
    const labels = rec.labels ?? (await core.readConfig(rec.id)).config?.Labels ?? {};
    if (!labelsMatch(labels, labelWant, labelNot)) continue;
    let containers = -1;
    if (args.containers) containers = (await core.usageCheck(rec.id)).length;
    out.push({
      id: rec.id,
      parentId: rec.parent ?? '',
      repoTags,
      repoDigests: core.digestsOf(rec.id),
      created,
      size: rec.size,
      sharedSize: layerSizes ? await sharedSizeOf(core, rec, layerSizes) : -1,
      labels,
      containers,
    });
  }
  out.sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1));
  return out;
}

/** How many images use each chainID, and its size. */
async function layerUseCounts(core: ImageCore, all: ImageRecord[]): Promise<Map<ChainId, { uses: number; size: number }>> {
  const m = new Map<ChainId, { uses: number; size: number }>();
  for (const rec of all) {
    for (const c of await chainOf(core.storage.layers, rec.topChainId as ChainId | undefined)) {
      const e = m.get(c);
      if (e) e.uses++;
      else m.set(c, { uses: 1, size: (await core.storage.layers.get(c))?.contentSize ?? 0 });
    }
  }
  return m;
}

async function sharedSizeOf(core: ImageCore, rec: ImageRecord, uses: Map<ChainId, { uses: number; size: number }>): Promise<number> {
  let shared = 0;
  for (const c of await chainOf(core.storage.layers, rec.topChainId as ChainId | undefined)) {
    const e = uses.get(c);
    if (e && e.uses > 1) shared += e.size;
  }
  return shared;
}

export async function inspectImage(core: ImageCore, nameOrId: string, opts: Signal & { platform?: Platform | undefined } = {}): Promise<ImageDetails> {
  const { rec } = core.lookup(nameOrId, opts.platform);
  const cfg = await core.readConfig(rec.id);
  const data: Record<string, string> = {};
  const chain = await chainOf(core.storage.layers, rec.topChainId as ChainId | undefined);
  if (chain.length > 0) {
    try {
      const dirs = chain.map((c) => core.storage.layers.diffPath(c));
      data['UpperDir'] = dirs[0]!;
      data['WorkDir'] = join(dirs[0]!, '..', 'work');
      data['MergedDir'] = join(dirs[0]!, '..', 'merged');
      if (dirs.length > 1) data['LowerDir'] = dirs.slice(1).join(':');
    } catch (e) {
      // A layer store without on-disk paths (tests) has no GraphDriver data to show.
      if (!(e instanceof BerthError)) throw e;
    }
  }
  const extra = cfg as Record<string, unknown>;
  return {
    id: rec.id,
    repoTags: core.tagsOf(rec.id),
    repoDigests: core.digestsOf(rec.id),
    parent: rec.parent ?? '',
    comment: cfg.comment ?? '',
    created: cfg.created ?? '',
    dockerVersion: typeof extra['docker_version'] === 'string' ? extra['docker_version'] : '',
    author: cfg.author ?? '',
    config: cfg.config ?? {},
    architecture: cfg.architecture,
    variant: cfg.variant,
    os: cfg.os,
    osVersion: cfg['os.version'],
    size: rec.size,
    graphDriver: { name: 'overlay2', data },
    rootFs: { type: 'layers', layers: [...cfg.rootfs.diff_ids] },
    lastTagTime: rec.lastTagTime,
    manifestDigest: rec.manifestDigest,
  };
}

export async function imageHistory(core: ImageCore, nameOrId: string, _opts: Signal = {}): Promise<HistoryItem[]> {
  const { rec } = core.lookup(nameOrId);
  const cfg = await core.readConfig(rec.id);
  const chain = (await chainOf(core.storage.layers, rec.topChainId as ChainId | undefined)).reverse();
  const history: HistoryEntry[] = cfg.history && cfg.history.length > 0 ? cfg.history : cfg.rootfs.diff_ids.map(() => ({}));
  const items: HistoryItem[] = [];
  let layer = 0;
  for (const h of history) {
    let size = 0;
    if (!h.empty_layer) {
      const c = chain[layer];
      if (c === undefined && layer >= cfg.rootfs.diff_ids.length) {
        throw new BerthError('internal', `image ${rec.id} has more non-empty history entries than layers`);
      }
      size = c ? ((await core.storage.layers.get(c))?.contentSize ?? 0) : 0;
      layer++;
    }
    items.unshift({
      id: '<missing>',
      created: h.created ? createdSeconds(h.created) : 0,
      createdBy: h.created_by ?? '',
      tags: [],
      size,
      comment: h.comment ?? '',
    });
  }
  // The newest entry belongs to this image; older ones to its parents when it has them.
  let cur: ImageRecord | undefined = rec;
  for (const item of items) {
    if (!cur) break;
    item.id = cur.id;
    item.tags = core.tagsOf(cur.id);
    cur = cur.parent ? core.store.get(cur.parent) : undefined;
  }
  return items;
}

export async function imageDiskUsage(core: ImageCore, _opts: Signal = {}): Promise<ImageDiskUsage> {
  const images = await listImages(core, { all: true, sharedSize: true, containers: true });
  const seen = new Set<ChainId>();
  let layersSize = 0;
  for (const rec of core.store.list()) {
    for (const c of await chainOf(core.storage.layers, rec.topChainId as ChainId | undefined)) {
      if (seen.has(c)) continue;
      seen.add(c);
      layersSize += (await core.storage.layers.get(c))?.contentSize ?? 0;
    }
  }
  return { layersSize, images };
}
