// The state every image operation shares: the index, the storage, the event bus, the lock
// that orders changes against GC, and docker's lookup rules. Internal to image/: the public
// face is ImageService; the feature modules (queries, remove, create) take an ImageCore.
import type { ChainId, GcRoots, Lease, Storage } from '../storage/index.js';
import { BerthError, KeyedMutex, isDigest, notFound, type Digest, type EventBus } from '../util/index.js';
import type { IndexRecord } from './image-index-record.js';
import type { ImageRecord, ImageStore } from './image-store.js';
import { MAX_CONFIG_BYTES, buildManifest, makeRecord, type LayerBlob } from './image-writer.js';
import type { ImageContext } from './load.js';
import { MediaType } from './media-types.js';
import { formatPlatform, hostPlatform, selectManifest } from './platform.js';
import { familiarName, familiarString, isIdPrefix, parseImageRef, repositoryOf, splitImageRef, type ImageRef } from './reference.js';
import { imageConfigSchema, parseJson, type ImageConfig, type Platform } from './schemas.js';
import type { ImageUser, UsageCheck } from './types.js';

export interface Lookup {
  rec: ImageRecord;
  /** The reference the user named (undefined when they named an id or id prefix). */
  ref: ImageRef | undefined;
  /** The index the name resolved to, when `rec` was picked from one by platform. */
  index?: IndexRecord | undefined;
}

export interface IndexLookup {
  index: IndexRecord;
  /** The reference the user named (undefined when they named the index digest). */
  ref: ImageRef | undefined;
}

export type Signal = { signal?: AbortSignal };

export function noSuchImage(name: string): BerthError {
  return notFound(`No such image: ${name}`);
}

/** Unix seconds of an RFC 3339 time; 0 when absent or unparsable. */
export function createdSeconds(created: string): number {
  const t = Date.parse(created);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** A `name:tag` reference (not a digest one). */
export function isTagged(ref: ImageRef): boolean {
  const r = splitImageRef(ref);
  return r.tag !== undefined && r.digest === undefined;
}

export function normalizeUsers(users: ImageUser[]): Array<{ id: string; running: boolean }> {
  return users.map((u) => (typeof u === 'string' ? { id: u, running: true } : u));
}

export class ImageCore {
  usageCheck: UsageCheck = async () => [];
  /** Serialises every change to images (tag, remove, prune, record) against the GC that follows it. */
  readonly mutex = new KeyedMutex();
  private readonly configCache = new Map<Digest, ImageConfig>();

  constructor(
    readonly storage: Storage,
    readonly store: ImageStore,
    readonly events: EventBus,
  ) {}

  get ctx(): ImageContext {
    return { storage: this.storage, store: this.store, events: this.events };
  }

  /**
   * docker's GetImage: a full id, a reference, then an id prefix. A name that resolves to an
   * index yields the image for `platform` (the host's by default) among the stored ones.
   */
  lookup(nameOrId: string, platform?: Platform): Lookup {
    const idx = this.lookupIndex(nameOrId);
    if (idx) return { rec: this.selectFromIndex(idx.index, platform, nameOrId), ref: idx.ref, index: idx.index };
    return this.lookupImage(nameOrId);
  }

  /** The index a name (reference or full index digest) points to, if it points to one. */
  lookupIndex(nameOrId: string): IndexLookup | undefined {
    if (nameOrId === '') return undefined;
    const full = /^[a-f0-9]{64}$/.test(nameOrId) ? `sha256:${nameOrId}` : nameOrId;
    if (isDigest(full)) {
      const index = this.store.getIndex(full);
      return index ? { index, ref: undefined } : undefined;
    }
    let ref: ImageRef | undefined;
    try {
      ref = parseImageRef(nameOrId);
    } catch (e) {
      if (!(e instanceof BerthError && e.kind === 'invalid-argument')) throw e;
    }
    const target = ref ? this.store.lookupRef(ref) : undefined;
    if (target) {
      const index = this.store.getIndex(target);
      return index ? { index, ref } : undefined;
    }
    // An id prefix (`docker run 3e73b46d2e0a` after a multi-platform build), unless an image has it.
    if (this.store.searchId(nameOrId)) return undefined;
    const byPrefix = this.store.searchIndexId(nameOrId);
    const index = byPrefix ? this.store.getIndex(byPrefix) : undefined;
    return index ? { index, ref: undefined } : undefined;
  }

  /** The locally stored image of `index` for `want` (the host's platform by default). */
  selectFromIndex(index: IndexRecord, want: Platform | undefined, name: string): ImageRecord {
    const available = index.manifests.filter((m) => m.imageId && this.store.get(m.imageId));
    if (available.length === 0) throw noSuchImage(name);
    const descs = available.map((m) => ({ mediaType: m.mediaType, digest: m.digest, size: m.size, ...(m.platform ? { platform: m.platform } : {}) }));
    let picked;
    try {
      picked = selectManifest(descs, want ?? hostPlatform());
    } catch (e) {
      if (!(e instanceof BerthError && e.kind === 'not-found')) throw e;
      if (!want) return this.store.get(available[0]!.imageId!)!;
      throw notFound(`image with reference ${name} was found but does not provide the specified platform (${formatPlatform(want)})`);
    }
    const entry = available.find((m) => m.digest === picked.digest)!;
    return this.store.get(entry.imageId!)!;
  }

  /** Indexes that list `imageId` among their stored manifests. */
  indexesOf(imageId: Digest): IndexRecord[] {
    return this.store.listIndexes().filter((i) => i.manifests.some((m) => m.imageId === imageId));
  }

  private lookupImage(nameOrId: string): Lookup {
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

  async readConfigUncached(id: Digest): Promise<ImageConfig> {
    return parseJson(imageConfigSchema, await this.storage.content.readBytes(id, MAX_CONFIG_BYTES), `image config ${id}`);
  }

  /** Configs are immutable (addressed by digest); cached per image id, dropped when the image goes. */
  async readConfig(id: Digest): Promise<ImageConfig> {
    const hit = this.configCache.get(id);
    if (hit) return hit;
    const cfg = await this.readConfigUncached(id);
    if (this.store.get(id)) this.configCache.set(id, cfg);
    return cfg;
  }

  forgetConfig(id: Digest): void {
    this.configCache.delete(id);
  }

  tagsOf(id: Digest): string[] {
    return this.shownRefsOf(id)
      .filter(isTagged)
      .map((r) => familiarString(r));
  }

  /**
   * The image's own references plus those of every index it is shown for (the index's
   * host-platform image carries the index's tags in listings and inspect, as in Docker 25+).
   */
  shownRefsOf(id: Digest): ImageRef[] {
    const own = this.store.refsOf(id);
    const shown: ImageRef[] = [];
    for (const idx of this.indexesOf(id)) {
      const refs = this.store.refsOf(idx.digest);
      if (refs.length === 0) continue;
      let child: ImageRecord | undefined;
      try {
        child = this.selectFromIndex(idx, undefined, idx.digest);
      } catch (e) {
        // An index with no stored image shows nowhere.
        if (!(e instanceof BerthError && e.kind === 'not-found')) throw e;
      }
      if (child?.id === id) shown.push(...refs);
    }
    return shown.length === 0 ? own : [...new Set([...own, ...shown])].sort();
  }

  digestsOf(id: Digest): string[] {
    return this.shownRefsOf(id)
      .filter((r) => splitImageRef(r).digest !== undefined)
      .map((r) => {
        const p = splitImageRef(r);
        return `${familiarName(repositoryOf(p))}@${p.digest!}`;
      });
  }

  children(id: Digest): ImageRecord[] {
    return this.store.list().filter((r) => r.parent === id);
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
    for (const idx of this.store.listIndexes()) blobs.add(idx.digest);
    return { blobs, chains };
  }

  /** Other owners of blobs and layers (builder cache, …) whose roots every GC must keep. */
  readonly extraRoots: Array<() => GcRoots | Promise<GcRoots>> = [];

  async collectGarbage(opts: Signal): Promise<void> {
    const roots = this.gcRoots();
    for (const provider of this.extraRoots) {
      const more = await provider();
      for (const b of more.blobs) roots.blobs.add(b);
      for (const c of more.chains) roots.chains.add(c);
    }
    await this.storage.gc(roots, opts);
  }

  /**
   * Runs `fn` holding a lease; on failure releases it and lets GC remove what `fn` wrote,
   * so a failed load/import/commit/pull leaves the data-root as it was.
   */
  async withLease<T>(fn: (signal: AbortSignal | undefined, lease: Lease) => Promise<T>, opts: Signal): Promise<T> {
    const lease = this.storage.leases.acquire();
    try {
      return await fn(opts.signal, lease);
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

  /** Puts config + manifest into the content store and records (and tags) the image. */
  async storeImage(
    config: ImageConfig,
    layers: LayerBlob[],
    top: ChainId | undefined,
    parent: Digest | undefined,
    target: ImageRef | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Digest> {
    const o = signal ? { signal } : {};
    const cfgInfo = await this.storage.content.put(JSON.stringify(config), o);
    const manifest = buildManifest(cfgInfo.digest, cfgInfo.size, layers);
    const mInfo = await this.storage.content.put(JSON.stringify(manifest), o);
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
    if (old && old !== rec.id && target) this.events.publish('image', 'untag', old, { name: familiarString(target) });
    if (target) this.events.publish('image', 'tag', rec.id, { name: familiarString(target) });
    return rec.id;
  }
}
