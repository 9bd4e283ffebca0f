// The image service: everything `docker images|inspect|history|tag|rmi|load|save|import|image
// prune|system df` needs, over the ImageStore index and the storage layer.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChainId, GcRoots, Storage } from '../storage/index.js';
import {
  BerthError,
  KeyedMutex,
  conflict,
  invalidArgument,
  isDigest,
  notFound,
  type Digest,
  type EventBus,
} from '../util/index.js';
import { applyConfigChanges } from './config-changes.js';
import { globToRegExp, labelsMatch, parseTimestampFilter, referenceMatches } from './image-filters.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, applyLayers, buildManifest, chainOf, describeLayerBlob, makeRecord } from './image-writer.js';
import { loadArchive, type ImageContext } from './load.js';
import { MediaType } from './media-types.js';
import { parsePlatform } from './platform.js';
import {
  familiarName,
  familiarString,
  isIdPrefix,
  parseNormalizedNamed,
  parseImageRef,
  refWithTag,
  repositoryOf,
  shortId,
  splitImageRef,
  formatReference,
  type ImageRef,
} from './reference.js';
import { saveArchive, type SaveItem } from './save.js';
import {
  assertConfigMediaType,
  assertLayerMediaType,
  imageConfigSchema,
  manifestKindOf,
  manifestSchema,
  parseJson,
  type ContainerConfig,
  type HistoryEntry,
  type ImageConfig,
} from './schemas.js';
import type {
  CommitOptions,
  DeleteItem,
  HistoryItem,
  ImageDetails,
  ImageDiskUsage,
  ImageSummary,
  ImageUser,
  ImportOptions,
  ListFilters,
  LoadProgress,
  LoadResult,
  PruneFilters,
  PruneResult,
  ResolvedImage,
  UsageCheck,
} from './types.js';

export interface ImageServiceOptions {
  storage: Storage;
  /** The data-root; the index lives in `<root>/images/`. */
  root: string;
  events: EventBus;
}

interface Lookup {
  rec: ImageRecord;
  /** The reference the user named (undefined when they named an id or id prefix). */
  ref: ImageRef | undefined;
}

function noSuchImage(name: string): BerthError {
  return notFound(`No such image: ${name}`);
}

function createdSeconds(created: string): number {
  const t = Date.parse(created);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

function isTagged(ref: ImageRef): boolean {
  return splitImageRef(ref).tag !== undefined && splitImageRef(ref).digest === undefined;
}

function normalizeUsers(users: ImageUser[]): Array<{ id: string; running: boolean }> {
  return users.map((u) => (typeof u === 'string' ? { id: u, running: true } : u));
}

export class ImageService {
  private usageCheck: UsageCheck = async () => [];
  /** Serialises every change to images (tag, remove, prune) against the GC that follows it. */
  private readonly mutex = new KeyedMutex();
  private readonly configCache = new Map<Digest, ImageConfig>();

  private constructor(
    private readonly storage: Storage,
    private readonly store: ImageStore,
    private readonly events: EventBus,
  ) {}

  static async open(opts: ImageServiceOptions): Promise<ImageService> {
    const store = await ImageStore.open(join(opts.root, 'images'));
    return new ImageService(opts.storage, store, opts.events);
  }

  /** Lets the runtime tell which containers use an image (409 on rmi, prune skips, df counts). */
  setUsageCheck(fn: UsageCheck): void {
    this.usageCheck = fn;
  }

  private get ctx(): ImageContext {
    return { storage: this.storage, store: this.store, events: this.events };
  }

  // ---- lookup ---------------------------------------------------------------------------------

  /** docker's GetImage: a full id, a reference, then an id prefix. */
  private lookup(nameOrId: string): Lookup {
    if (nameOrId === '') throw noSuchImage(nameOrId);
    const full = /^[a-f0-9]{64}$/.test(nameOrId) ? `sha256:${nameOrId}` : nameOrId;
    if (isDigest(full)) {
      const rec = this.store.get(full);
      if (!rec) throw noSuchImage(nameOrId);
      return { rec, ref: undefined };
    }
    let ref: ImageRef | undefined;
    try {
      ref = parseImageRef(nameOrId);
    } catch (e) {
      if (!(e instanceof BerthError && e.kind === 'invalid-argument') || !isIdPrefix(nameOrId)) throw e;
    }
    if (ref) {
      const id = this.store.lookupRef(ref);
      const rec = id ? this.store.get(id) : undefined;
      if (rec) return { rec, ref };
    }
    const byPrefix = this.store.searchId(nameOrId);
    if (byPrefix) return { rec: this.store.get(byPrefix)!, ref: undefined };
    throw noSuchImage(ref ? familiarString(ref) : nameOrId);
  }

  private async readConfigUncached(id: Digest): Promise<ImageConfig> {
    return parseJson(imageConfigSchema, await this.storage.content.readBytes(id, MAX_CONFIG_BYTES), `image config ${id}`);
  }

  /** Configs are immutable (addressed by digest); cached per image id, dropped when the image goes. */
  private async readConfig(id: Digest): Promise<ImageConfig> {
    const hit = this.configCache.get(id);
    if (hit) return hit;
    const cfg = await this.readConfigUncached(id);
    if (this.store.get(id)) this.configCache.set(id, cfg);
    return cfg;
  }

  private tagsOf(id: Digest): string[] {
    return this.store
      .refsOf(id)
      .filter(isTagged)
      .map((r) => familiarString(r));
  }

  private digestsOf(id: Digest): string[] {
    return this.store
      .refsOf(id)
      .filter((r) => splitImageRef(r).digest !== undefined)
      .map((r) => {
        const p = splitImageRef(r);
        return `${familiarName(repositoryOf(p))}@${p.digest!}`;
      });
  }

  private children(id: Digest): ImageRecord[] {
    return this.store.list().filter((r) => r.parent === id);
  }

  /** Number of images (docker info's `Images`). */
  count(): number {
    return this.store.list().length;
  }

  /** Throws not-found / invalid-argument exactly as the lookup would; for API pre-checks. */
  exists(nameOrId: string): Digest {
    return this.lookup(nameOrId).rec.id;
  }

  // ---- queries --------------------------------------------------------------------------------

  async resolve(nameOrId: string, _opts: { signal?: AbortSignal } = {}): Promise<ResolvedImage> {
    const { rec } = this.lookup(nameOrId);
    return { id: rec.id, config: await this.readConfig(rec.id), topChainId: rec.topChainId as ChainId | undefined, repoTags: this.tagsOf(rec.id) };
  }

  async list(
    args: { all?: boolean; filters?: ListFilters; digests?: boolean; sharedSize?: boolean; containers?: boolean } = {},
    _opts: { signal?: AbortSignal } = {},
  ): Promise<ImageSummary[]> {
    const f = args.filters ?? {};
    const patterns = (f.reference ?? []).map((p) => globToRegExp(p));
    const before = f.before ? createdSeconds(this.lookup(f.before).rec.created) : undefined;
    const since = f.since ? createdSeconds(this.lookup(f.since).rec.created) : undefined;
    const until = f.until ? parseTimestampFilter(f.until, Date.now()) / 1000 : undefined;
    const labelWant = (f.label ?? []).filter((l) => !l.includes('!='));
    const labelNot = (f.label ?? []).filter((l) => l.includes('!=')).map((l) => l.replace('!=', '='));
    const all = this.store.list();
    const parents = new Set(all.map((r) => r.parent).filter((p): p is Digest => p !== undefined));
    const layerSizes = args.sharedSize ? await this.layerUseCounts(all) : undefined;
    const out: ImageSummary[] = [];
    for (const rec of all) {
      const refs = this.store.refsOf(rec.id);
      const tagged = refs.filter(isTagged);
      const dangling = refs.length === 0;
      if (f.dangling !== undefined && f.dangling !== dangling) continue;
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
      const labels = (await this.readConfig(rec.id)).config?.Labels ?? {};
      if (!labelsMatch(labels, labelWant, labelNot)) continue;
      let containers = -1;
      if (args.containers) containers = (await this.usageCheck(rec.id)).length;
      out.push({
        id: rec.id,
        parentId: rec.parent ?? '',
        repoTags,
        repoDigests: this.digestsOf(rec.id),
        created,
        size: rec.size,
        sharedSize: layerSizes ? await this.sharedSizeOf(rec, layerSizes) : -1,
        labels,
        containers,
      });
    }
    out.sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1));
    return out;
  }

  /** How many images use each chainID, and its size. */
  private async layerUseCounts(all: ImageRecord[]): Promise<Map<ChainId, { uses: number; size: number }>> {
    const m = new Map<ChainId, { uses: number; size: number }>();
    for (const rec of all) {
      for (const c of await chainOf(this.storage.layers, rec.topChainId as ChainId | undefined)) {
        const e = m.get(c);
        if (e) e.uses++;
        else m.set(c, { uses: 1, size: (await this.storage.layers.get(c))?.size ?? 0 });
      }
    }
    return m;
  }

  private async sharedSizeOf(rec: ImageRecord, uses: Map<ChainId, { uses: number; size: number }>): Promise<number> {
    let shared = 0;
    for (const c of await chainOf(this.storage.layers, rec.topChainId as ChainId | undefined)) {
      const e = uses.get(c);
      if (e && e.uses > 1) shared += e.size;
    }
    return shared;
  }

  async inspect(nameOrId: string, _opts: { signal?: AbortSignal } = {}): Promise<ImageDetails> {
    const { rec } = this.lookup(nameOrId);
    const cfg = await this.readConfig(rec.id);
    const data: Record<string, string> = {};
    const chain = await chainOf(this.storage.layers, rec.topChainId as ChainId | undefined);
    if (chain.length > 0) {
      try {
        const dirs = chain.map((c) => this.storage.layers.diffPath(c));
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
      repoTags: this.tagsOf(rec.id),
      repoDigests: this.digestsOf(rec.id),
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

  async history(nameOrId: string, _opts: { signal?: AbortSignal } = {}): Promise<HistoryItem[]> {
    const { rec } = this.lookup(nameOrId);
    const cfg = await this.readConfig(rec.id);
    const chain = (await chainOf(this.storage.layers, rec.topChainId as ChainId | undefined)).reverse();
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
        size = c ? ((await this.storage.layers.get(c))?.size ?? 0) : 0;
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
      item.tags = this.tagsOf(cur.id);
      cur = cur.parent ? this.store.get(cur.parent) : undefined;
    }
    return items;
  }

  // ---- tags -----------------------------------------------------------------------------------

  async tag(source: string, repo: string, tag?: string, _opts: { signal?: AbortSignal } = {}): Promise<void> {
    const target = refWithTag(repo, tag);
    const { rec } = this.lookup(source);
    await this.mutex.run('images', async () => {
      const old = this.store.lookupRef(target);
      await this.store.update((txn) => {
        txn.setRef(target, rec.id);
        txn.putImage({ ...txn.getImage(rec.id)!, lastTagTime: new Date().toISOString() });
      });
      if (old && old !== rec.id) this.events.publish('image', 'untag', old, { name: old });
    });
    this.events.publish('image', 'tag', rec.id, { name: familiarString(target) });
  }

  // ---- remove ---------------------------------------------------------------------------------

  async remove(nameOrId: string, args: { force?: boolean; noprune?: boolean } = {}, opts: { signal?: AbortSignal } = {}): Promise<DeleteItem[]> {
    return this.mutex.run('images', () => this.removeLocked(nameOrId, args.force ?? false, !(args.noprune ?? false), opts));
  }

  private async removeLocked(nameOrId: string, force: boolean, prune: boolean, opts: { signal?: AbortSignal }): Promise<DeleteItem[]> {
    const { rec, ref } = this.lookup(nameOrId);
    const id = rec.id;
    const records: DeleteItem[] = [];
    const repoRefs = this.store.refsOf(id);
    const users = normalizeUsers(await this.usageCheck(id));
    const namedById = ref === undefined || this.store.lookupRef(ref) !== id;

    if (!namedById && ref) {
      if (!force && isSingleReference(repoRefs) && users.length > 0) {
        throw conflict(
          `conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${shortId(users[0]!.id)} is using its referenced image ${shortId(id)}`,
        );
      }
      const removed: ImageRef[] = [ref];
      const refRepo = repositoryOf(ref);
      const refIsCanonical = splitImageRef(ref).digest !== undefined;
      const remaining = repoRefs.filter((r) => r !== ref);
      let after = remaining;
      if (!refIsCanonical && !remaining.some((r) => isTagged(r) && repositoryOf(r) === refRepo)) {
        // The last tag of a repository takes the digest references of that repository with it.
        const sameRepoDigests = remaining.filter((r) => !isTagged(r) && repositoryOf(r) === refRepo);
        removed.push(...sameRepoDigests);
        after = remaining.filter((r) => !sameRepoDigests.includes(r));
      }
      await this.store.update((txn) => {
        for (const r of removed) txn.deleteRef(r);
      });
      for (const r of removed) {
        records.push({ untagged: familiarString(r) });
        this.events.publish('image', 'untag', id, { name: familiarString(r) });
      }
      if (after.length > 0) return records;
      // That was the last reference: delete the image too, unless a container still uses it.
      return this.deleteImage(rec, { force, prune, untag: [], users, records, quiet: true }, opts);
    }

    if (isSingleReference(repoRefs)) {
      const hard = this.hardConflict(rec, users);
      if (hard) throw hard;
      if (!force) {
        const stopped = users.find((u) => !u.running);
        if (stopped) throw deleteConflict(id, false, `image is being used by stopped container ${shortId(stopped.id)}`);
      }
      return this.deleteImage(rec, { force, prune, untag: repoRefs, users, records, quiet: false }, opts);
    }
    return this.deleteImage(rec, { force, prune, untag: [], users, records, quiet: false }, opts);
  }

  private hardConflict(rec: ImageRecord, users: Array<{ id: string; running: boolean }>): BerthError | undefined {
    if (this.children(rec.id).length > 0) return deleteConflict(rec.id, true, 'image has dependent child images');
    const running = users.find((u) => u.running);
    if (running) return deleteConflict(rec.id, true, `image is being used by running container ${shortId(running.id)}`);
    return undefined;
  }

  /** docker's imageDeleteHelper: conflicts, then all references, the record, its layers, then parents. */
  private async deleteImage(
    rec: ImageRecord,
    s: { force: boolean; prune: boolean; untag: ImageRef[]; users: Array<{ id: string; running: boolean }>; records: DeleteItem[]; quiet: boolean },
    opts: { signal?: AbortSignal },
  ): Promise<DeleteItem[]> {
    const id = rec.id;
    const records = s.records;
    // References other than the ones being untagged are a soft conflict.
    const otherRefs = this.store.refsOf(id).filter((r) => !s.untag.includes(r));
    let c = this.hardConflict(rec, s.users);
    let used = c !== undefined && this.children(id).length === 0;
    if (!c && !s.force) {
      if (otherRefs.length > 0) c = deleteConflict(id, false, 'image is referenced in multiple repositories');
      else {
        const stopped = s.users.find((u) => !u.running);
        if (stopped) {
          c = deleteConflict(id, false, `image is being used by stopped container ${shortId(stopped.id)}`);
          used = true;
        }
      }
    }
    if (c) {
      // Quiet mode (after an untag, or pruning parents): only a dangling image nobody uses reports its
      // conflict; docker counts an image with children as not dangling.
      if (s.quiet && (otherRefs.length > 0 || this.children(id).length > 0 || used)) return records;
      throw c;
    }
    const allRefs = this.store.refsOf(id);
    const chainsBefore = await chainOf(this.storage.layers, rec.topChainId as ChainId | undefined);
    await this.store.update((txn) => {
      for (const r of allRefs) txn.deleteRef(r);
      txn.deleteImage(id);
    });
    for (const r of allRefs) {
      records.push({ untagged: familiarString(r) });
      this.events.publish('image', 'untag', id, { name: familiarString(r) });
    }
    this.configCache.delete(id);
    this.events.publish('image', 'delete', id, { name: id });
    records.push({ deleted: id });
    await this.collectGarbage(opts);
    for (const chain of chainsBefore) {
      if (!(await this.storage.layers.get(chain))) records.push({ deleted: chain });
    }
    if (s.prune && rec.parent) {
      const parent = this.store.get(rec.parent);
      if (parent && this.store.refsOf(parent.id).length === 0) {
        const users = normalizeUsers(await this.usageCheck(parent.id));
        await this.deleteImage(parent, { force: false, prune: true, untag: [], users, records, quiet: true }, opts);
      }
    }
    return records;
  }

  /** The roots GC must keep: every blob and layer chain an image record names. */
  gcRoots(): GcRoots {
    const blobs = new Set<Digest>();
    const chains = new Set<ChainId>();
    for (const rec of this.store.list()) {
      blobs.add(rec.id);
      if (rec.manifestDigest) blobs.add(rec.manifestDigest);
      for (const l of rec.layers) blobs.add(l.digest);
      if (rec.topChainId) chains.add(rec.topChainId as ChainId);
    }
    return { blobs, chains };
  }

  private async collectGarbage(opts: { signal?: AbortSignal }): Promise<void> {
    await this.storage.gc(this.gcRoots(), opts);
  }

  // ---- prune / df -----------------------------------------------------------------------------

  async prune(args: { all?: boolean; filters?: PruneFilters } = {}, opts: { signal?: AbortSignal } = {}): Promise<PruneResult> {
    const f = args.filters ?? {};
    const until = f.until ? parseTimestampFilter(f.until, Date.now()) : undefined;
    const danglingOnly = !args.all;
    return this.mutex.run('images', async () => {
      const all = this.store.list();
      const sizes = new Map<string, number>();
      for (const rec of all) {
        for (const c of await chainOf(this.storage.layers, rec.topChainId as ChainId | undefined)) {
          sizes.set(c, (await this.storage.layers.get(c))?.size ?? 0);
        }
      }
      const heads = all.filter((r) => (danglingOnly ? this.children(r.id).length === 0 : true));
      const deleted: DeleteItem[] = [];
      for (const rec of heads) {
        if (!this.store.get(rec.id)) continue;
        const refs = this.store.refsOf(rec.id);
        if (refs.length === 0 && this.children(rec.id).length > 0) continue;
        if (until !== undefined && Date.parse(rec.created) >= until) continue;
        if ((f.label?.length ?? 0) > 0 || (f.labelNot?.length ?? 0) > 0) {
          const labels = (await this.readConfig(rec.id)).config?.Labels ?? {};
          if (!labelsMatch(labels, f.label ?? [], f.labelNot ?? [])) continue;
        }
        const targets = refs.length > 0 ? (danglingOnly && refs.some(isTagged) ? [] : refs) : [rec.id as string];
        for (const t of targets) {
          try {
            deleted.push(...(await this.removeLocked(t, false, true, opts)));
          } catch (e) {
            // An image in use or with children is skipped, as dockerd's prune does.
            if (e instanceof BerthError && (e.kind === 'conflict' || e.kind === 'not-found')) continue;
            throw e;
          }
        }
      }
      let spaceReclaimed = 0;
      for (const d of deleted) if ('deleted' in d) spaceReclaimed += sizes.get(d.deleted) ?? 0;
      if (deleted.length > 0) this.events.publish('image', 'prune', '', { reclaimed: String(spaceReclaimed) });
      return { imagesDeleted: deleted, spaceReclaimed };
    });
  }

  async diskUsage(_opts: { signal?: AbortSignal } = {}): Promise<ImageDiskUsage> {
    const images = await this.list({ all: true, sharedSize: true, containers: true });
    const seen = new Set<ChainId>();
    let layersSize = 0;
    for (const rec of this.store.list()) {
      for (const c of await chainOf(this.storage.layers, rec.topChainId as ChainId | undefined)) {
        if (seen.has(c)) continue;
        seen.add(c);
        layersSize += (await this.storage.layers.get(c))?.size ?? 0;
      }
    }
    return { layersSize, images };
  }

  // ---- load / save ----------------------------------------------------------------------------

  async load(
    tar: Readable,
    args: { quiet?: boolean; onProgress?: (p: LoadProgress) => void } = {},
    opts: { signal?: AbortSignal } = {},
  ): Promise<LoadResult> {
    return this.withLease((signal) => loadArchive(this.ctx, tar, { signal, onProgress: args.quiet ? undefined : args.onProgress }), opts);
  }

  /**
   * Runs `fn` holding a lease; on failure releases it and lets GC remove what `fn` wrote,
   * so a failed load/import/commit leaves the data-root as it was.
   */
  private async withLease<T>(fn: (signal: AbortSignal | undefined) => Promise<T>, opts: { signal?: AbortSignal }): Promise<T> {
    const lease = this.storage.leases.acquire();
    try {
      return await fn(opts.signal);
    } catch (e) {
      lease.release();
      await this.mutex.run('images', () => this.collectGarbage({})).catch((gcErr: unknown) => {
        // The original error is what the caller must see; a failed cleanup is retried by the next GC.
        void gcErr;
      });
      throw e;
    } finally {
      lease.release();
    }
  }

  /** Validates the names (404 before any byte is sent) and returns the archive stream. */
  save(names: string[], opts: { signal?: AbortSignal } = {}): Readable {
    if (names.length === 0) throw invalidArgument('no image names given to save');
    const items = new Map<Digest, SaveItem>();
    const add = (rec: ImageRecord, tag?: ImageRef) => {
      const item = items.get(rec.id) ?? { rec, tags: [] };
      if (tag && !item.tags.includes(tag)) item.tags.push(tag);
      items.set(rec.id, item);
    };
    for (const name of names) {
      // `docker save busybox` saves every tag of the repository.
      const parsed = tryRepositoryOnly(name);
      if (parsed) {
        const repoRefs = this.store.allRefs().filter(([r]) => isTagged(r) && repositoryOf(r) === parsed);
        if (repoRefs.length > 0) {
          for (const [r, id] of repoRefs) add(this.store.get(id)!, r);
          continue;
        }
      }
      const { rec, ref } = this.lookup(name);
      add(rec, ref && isTagged(ref) && this.store.lookupRef(ref) === rec.id ? ref : undefined);
    }
    const stream = saveArchive(this.ctx, [...items.values()], opts);
    for (const item of items.values()) this.events.publish('image', 'save', item.rec.id, { name: item.tags[0] ? familiarString(item.tags[0]) : item.rec.id });
    return stream;
  }

  // ---- import / commit ------------------------------------------------------------------------

  async importRootfs(tar: Readable, args: ImportOptions = {}, opts: { signal?: AbortSignal } = {}): Promise<Digest> {
    const target = args.repo ? refWithTag(args.repo, args.tag) : undefined;
    const platform = parsePlatform(args.platform ?? '');
    const baseConfig = applyConfigChanges({}, args.changes ?? []);
    const signal = opts.signal ?? args.signal;
    const id = await this.withLease(async (sig) => {
      const blob = await this.storage.content.ingest(tar, {}, { signal: sig });
      const layer = await describeLayerBlob(this.storage, blob.digest, blob.size);
      const info = await this.storage.layers.apply(undefined, this.storage.content.read(blob.digest), { signal: sig });
      const created = new Date().toISOString();
      const comment = args.message || 'Imported from -';
      const config: ImageConfig = {
        architecture: platform.architecture,
        ...(platform.variant ? { variant: platform.variant } : {}),
        os: platform.os,
        created,
        comment,
        config: baseConfig,
        rootfs: { type: 'layers', diff_ids: [info.diffId] },
        history: [{ created, comment }],
      };
      return this.storeImage(config, [layer], info.chainId, undefined, target, sig);
    }, { ...(signal ? { signal } : {}) });
    this.events.publish('image', 'import', id, { name: target ? familiarString(target) : id });
    return id;
  }

  // ---- registry ------------------------------------------------------------------------------

  /**
   * Records an image whose manifest, config and layer blobs a pull already put into the content
   * store: checks media types and diffIDs while applying the layers, tags `ref`, and records
   * `repository@repoDigest` (the digest the registry named: index or manifest) as docker does.
   */
  async storePulled(
    args: { ref: string; manifestDigest: Digest; repoDigest?: Digest | undefined; onProgress?: ((p: LoadProgress) => void) | undefined },
    opts: { signal?: AbortSignal } = {},
  ): Promise<Digest> {
    const named = parseImageRef(args.ref);
    const repo = repositoryOf(named);
    const digestRef = parseImageRef(`${repo}@${args.repoDigest ?? args.manifestDigest}`);
    const tagRef = isTagged(named) ? named : undefined;
    const id = await this.withLease(async (signal) => {
      const bytes = await this.storage.content.readBytes(args.manifestDigest, MAX_MANIFEST_BYTES);
      let raw: unknown;
      try {
        raw = JSON.parse(bytes.toString('utf8'));
      } catch (e) {
        throw invalidArgument(`manifest "${args.manifestDigest}" is not valid JSON`, e);
      }
      if (manifestKindOf((raw as { mediaType?: string }).mediaType, raw) !== 'manifest') {
        throw invalidArgument(`"${args.manifestDigest}" is an index, not an image manifest`);
      }
      const m = parseJson(manifestSchema, bytes, `manifest ${args.manifestDigest}`);
      assertConfigMediaType(m.config.mediaType);
      for (const l of m.layers) assertLayerMediaType(l.mediaType);
      const config = await this.readConfigUncached(m.config.digest);
      const layers = m.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
      const { chains } = await applyLayers(this.storage, undefined, layers, config.rootfs.diff_ids, {
        signal,
        onLayer: args.onProgress
          ? (diffId, current, total) => args.onProgress!({ kind: 'layer', id: shortId(diffId), action: 'Loading layer', current, total })
          : undefined,
      });
      const rec = await makeRecord(this.storage, {
        id: m.config.digest,
        config,
        manifestDigest: args.manifestDigest,
        manifestMediaType: m.mediaType ?? MediaType.ociManifest,
        layers,
        topChainId: chains[chains.length - 1],
      });
      const now = new Date().toISOString();
      await this.mutex.run('images', () =>
        this.store.update((txn) => {
          const prev = txn.getImage(rec.id);
          txn.putImage({ ...rec, lastTagTime: tagRef ? now : prev?.lastTagTime, parent: prev?.parent });
          txn.setRef(digestRef, rec.id);
          if (tagRef) txn.setRef(tagRef, rec.id);
        }),
      );
      return rec.id;
    }, opts);
    if (tagRef) this.events.publish('image', 'tag', id, { name: familiarString(tagRef) });
    this.events.publish('image', 'pull', familiarString(tagRef ?? digestRef), { name: familiarString(tagRef ?? digestRef) });
    return id;
  }

  /** What a push sends: the manifest (as stored), its config and layer blobs, all in the content store. */
  async pushContents(nameOrId: string, _opts: { signal?: AbortSignal } = {}): Promise<{
    id: Digest;
    manifest: { digest: Digest; mediaType: string; size: number };
    layers: Array<{ digest: Digest; size: number; mediaType: string }>;
  }> {
    const { rec } = this.lookup(nameOrId);
    let digest = rec.manifestDigest;
    let mediaType = rec.manifestMediaType ?? MediaType.ociManifest;
    let info = digest ? await this.storage.content.info(digest) : undefined;
    if (!digest || !info) {
      const cfg = await this.storage.content.info(rec.id);
      info = await this.storage.content.put(JSON.stringify(buildManifest(rec.id, cfg?.size ?? 0, rec.layers)));
      digest = info.digest;
      mediaType = MediaType.ociManifest;
    }
    return { id: rec.id, manifest: { digest, mediaType, size: info.size }, layers: rec.layers };
  }

  async commit(args: CommitOptions, opts: { signal?: AbortSignal } = {}): Promise<Digest> {
    const target = args.repo ? refWithTag(args.repo, args.tag) : undefined;
    const parent = args.parent ? this.lookup(args.parent).rec : undefined;
    const parentConfig = parent ? await this.readConfig(parent.id) : undefined;
    const base: ContainerConfig = args.config ?? parentConfig?.config ?? {};
    const containerConfig = applyConfigChanges(base, args.changes ?? []);
    const signal = opts.signal ?? args.signal;
    return this.withLease(async (sig) => {
      const layers = [...(parent?.layers ?? [])];
      const diffIds = [...(parentConfig?.rootfs.diff_ids ?? [])];
      let top = parent?.topChainId as ChainId | undefined;
      const created = new Date().toISOString();
      let emptyLayer = true;
      if (args.layer) {
        const blob = await this.storage.content.ingest(args.layer, {}, { signal: sig });
        const layer = await describeLayerBlob(this.storage, blob.digest, blob.size);
        const info = await this.storage.layers.apply(top, this.storage.content.read(blob.digest), { signal: sig });
        layers.push(layer);
        diffIds.push(info.diffId);
        top = info.chainId;
        emptyLayer = false;
      }
      const platform = parentConfig ?? { ...parsePlatform(''), os: 'linux' };
      const config: ImageConfig = {
        architecture: platform.architecture,
        ...(platform.variant ? { variant: platform.variant } : {}),
        os: platform.os,
        created,
        ...(args.author ? { author: args.author } : {}),
        ...(args.comment ? { comment: args.comment } : {}),
        config: containerConfig,
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: [
          ...(parentConfig?.history ?? []),
          {
            created,
            ...(args.author ? { author: args.author } : {}),
            ...(args.createdBy ? { created_by: args.createdBy } : {}),
            ...(args.comment ? { comment: args.comment } : {}),
            ...(emptyLayer ? { empty_layer: true } : {}),
          },
        ],
      };
      const id = await this.storeImage(config, layers, top, parent?.id, target, sig);
      this.events.publish('image', 'commit', id, { name: target ? familiarString(target) : id });
      return id;
    }, { ...(signal ? { signal } : {}) });
  }

  /** Puts config + manifest into the content store and records (and tags) the image. */
  private async storeImage(
    config: ImageConfig,
    layers: Awaited<ReturnType<typeof describeLayerBlob>>[],
    top: ChainId | undefined,
    parent: Digest | undefined,
    target: ImageRef | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Digest> {
    const cfgInfo = await this.storage.content.put(JSON.stringify(config), { ...(signal ? { signal } : {}) });
    const manifest = buildManifest(cfgInfo.digest, cfgInfo.size, layers);
    const mInfo = await this.storage.content.put(JSON.stringify(manifest), { ...(signal ? { signal } : {}) });
    const rec = await makeRecord(this.storage, {
      id: cfgInfo.digest,
      config,
      manifestDigest: mInfo.digest,
      manifestMediaType: MediaType.ociManifest,
      layers,
      topChainId: top,
      parent,
    });
    let old: Digest | undefined;
    await this.mutex.run('images', () =>
      this.store.update((txn) => {
        txn.putImage(target ? { ...rec, lastTagTime: new Date().toISOString() } : rec);
        if (target) old = txn.setRef(target, rec.id);
      }),
    );
    if (old && old !== rec.id) this.events.publish('image', 'untag', old, { name: old });
    if (target) this.events.publish('image', 'tag', rec.id, { name: familiarString(target) });
    return rec.id;
  }
}

function deleteConflict(id: Digest, hard: boolean, message: string): BerthError {
  return conflict(`conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${message}`);
}

/** docker's isSingleReference: at most one tag, and every reference in one repository. */
function isSingleReference(refs: ImageRef[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: ImageRef | undefined;
  const repos = new Set<string>();
  for (const r of refs) {
    if (!isTagged(r)) repos.add(repositoryOf(r));
    else if (single === undefined) {
      repos.add(repositoryOf(r));
      single = r;
    } else return false;
  }
  const first = single ?? refs[0]!;
  return repos.size === 1 && repos.has(repositoryOf(first));
}

/** `busybox` (no tag, no digest) → its repository; anything else → undefined. */
function tryRepositoryOnly(name: string): string | undefined {
  try {
    const r = parseNormalizedNamed(name);
    if (r.tag !== undefined || r.digest !== undefined) return undefined;
    return repositoryOf(formatReference({ ...r, tag: 'x' }));
  } catch (e) {
    if (e instanceof BerthError && e.kind === 'invalid-argument') return undefined;
    throw e;
  }
}
