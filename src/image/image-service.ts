// The image service: everything `docker images|inspect|history|tag|rmi|load|save|import|image
// prune|system df` needs, over the ImageStore index and the storage layer. This class is the
// public face; the work is in image-queries, image-remove, image-create, load and save.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChainId, GcRoots, Storage } from '../storage/index.js';
import { BerthError, invalidArgument, type Digest, type EventBus } from '../util/index.js';
import { commitImage, importRootfs, pushContents, storePulled } from './image-create.js';
import { ImageCore, isTagged, type Signal } from './image-core.js';
import { platformsOf, storeIndex, tagIndex, type PlatformsView } from './image-index.js';
import { imageDiskUsage, imageHistory, inspectImage, listImages } from './image-queries.js';
import { pruneImages, removeImage } from './image-remove.js';
import type { IndexRecord } from './image-index-record.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import type { LayerBlob } from './image-writer.js';
import { loadArchive } from './load.js';
import { familiarString, formatReference, parseNormalizedNamed, refWithTag, repositoryOf, type ImageRef } from './reference.js';
import { parsePlatform } from './platform.js';
import type { Platform } from './schemas.js';
import { saveArchive, type SaveItem } from './save.js';
import type {
  CommitOptions,
  DeleteItem,
  HistoryItem,
  ImageDetails,
  ImageDiskUsage,
  ImageSummary,
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

export class ImageService {
  private constructor(private readonly core: ImageCore) {}

  static async open(opts: ImageServiceOptions): Promise<ImageService> {
    const store = await ImageStore.open(join(opts.root, 'images'));
    return new ImageService(new ImageCore(opts.storage, store, opts.events));
  }

  /** Lets the runtime tell which containers use an image (409 on rmi, prune skips, df counts). */
  setUsageCheck(fn: UsageCheck): void {
    this.core.usageCheck = fn;
  }

  /** Number of images (docker info's `Images`). */
  count(): number {
    return this.core.store.list().length;
  }

  /** The id an image name or id resolves to; throws not-found / invalid-argument like every lookup. */
  exists(nameOrId: string): Digest {
    return this.core.lookup(nameOrId).rec.id;
  }

  /**
   * Adds roots every GC that rmi/prune/a failed load runs must keep besides the images' own
   * (e.g. the builder's cache); without it those blobs and layers would be collected.
   */
  addGcRoots(provider: () => GcRoots | Promise<GcRoots>): void {
    this.core.extraRoots.push(provider);
  }

  /**
   * Collects blobs and layers no image (nor a registered root provider, lease or snapshot)
   * keeps: what a crash in the middle of a load left behind. For the daemon once every owner
   * has registered its roots.
   */
  gc(opts: Signal = {}): Promise<void> {
    return this.core.mutex.run('images', () => this.core.collectGarbage(opts));
  }

  /** What GC must keep for images (for a daemon-wide GC that adds containers' roots). */
  gcRoots(): GcRoots {
    return this.core.gcRoots();
  }

  /**
   * The image a name or id stands for; a name that points to an index yields its image for
   * `platform` (`os/arch[/variant]`; the host's, else any stored one, when absent).
   */
  async resolve(nameOrId: string, opts: Signal & { platform?: string | undefined } = {}): Promise<ResolvedImage> {
    const { rec } = this.core.lookup(nameOrId, opts.platform ? parsePlatform(opts.platform) : undefined);
    return {
      id: rec.id,
      config: await this.core.readConfig(rec.id),
      topChainId: rec.topChainId as ChainId | undefined,
      repoTags: this.core.tagsOf(rec.id),
    };
  }

  list(
    args: { all?: boolean; filters?: ListFilters; digests?: boolean; sharedSize?: boolean; containers?: boolean } = {},
    opts: Signal = {},
  ): Promise<ImageSummary[]> {
    return listImages(this.core, args, opts);
  }

  /** docker image inspect; a name that points to an index shows its image for `platform` (the host's by default). */
  inspect(nameOrId: string, opts: Signal & { platform?: Platform | undefined } = {}): Promise<ImageDetails> {
    return inspectImage(this.core, nameOrId, opts);
  }

  history(nameOrId: string, opts: Signal = {}): Promise<HistoryItem[]> {
    return imageHistory(this.core, nameOrId, opts);
  }

  diskUsage(opts: Signal = {}): Promise<ImageDiskUsage> {
    return imageDiskUsage(this.core, opts);
  }

  async tag(source: string, repo: string, tag?: string, _opts: Signal = {}): Promise<void> {
    const target = refWithTag(repo, tag);
    const core = this.core;
    const idx = core.lookupIndex(source);
    if (idx) {
      // Tagging a multi-platform name tags the index itself.
      await tagIndex(core, idx.index.digest, target);
      return;
    }
    const { rec } = this.core.lookup(source);
    await core.mutex.run('images', async () => {
      const old = core.store.lookupRef(target);
      await core.store.update((txn) => {
        txn.setRef(target, rec.id);
        txn.putImage({ ...txn.getImage(rec.id)!, lastTagTime: new Date().toISOString() });
      });
      if (old && old !== rec.id) core.events.publish('image', 'untag', old, { name: familiarString(target) });
    });
    core.events.publish('image', 'tag', rec.id, { name: familiarString(target) });
  }

  /**
   * Records an OCI index over stored images (one per platform) and points each of `tags` at it:
   * the result of a multi-platform build. Returns the index digest.
   */
  createIndex(imageIds: Digest[], tags: string[], opts: Signal = {}): Promise<Digest> {
    return storeIndex(this.core, imageIds, tags, opts);
  }

  /** `image inspect --platforms`: each platform's manifest, image id and size. */
  platforms(nameOrId: string, _opts: Signal = {}): Promise<PlatformsView> {
    return platformsOf(this.core, nameOrId);
  }

  remove(nameOrId: string, args: { force?: boolean; noprune?: boolean } = {}, opts: Signal = {}): Promise<DeleteItem[]> {
    return removeImage(this.core, nameOrId, args, opts);
  }

  prune(args: { all?: boolean; filters?: PruneFilters } = {}, opts: Signal = {}): Promise<PruneResult> {
    return pruneImages(this.core, args, opts);
  }

  async load(tar: Readable, args: { quiet?: boolean; onProgress?: (p: LoadProgress) => void } = {}, opts: Signal = {}): Promise<LoadResult> {
    const onProgress = args.quiet ? undefined : args.onProgress;
    const { leftovers, ...result } = await this.core.withLease(
      (signal, lease) => loadArchive(this.core.ctx, tar, { signal, onProgress, lease }),
      opts,
    );
    // Images that were there already kept their blobs; the copies this load stored go now,
    // after the lease is released, rather than lingering until the next rmi.
    if (leftovers) await this.core.mutex.run('images', () => this.core.collectGarbage(opts));
    return result;
  }

  /** Checks every name (404 before any byte is sent) and returns the archive stream. */
  save(names: string[], opts: Signal = {}): Readable {
    if (names.length === 0) throw invalidArgument('no image names given to save');
    const store = this.core.store;
    const items = new Map<Digest, SaveItem>();
    const add = (rec: ImageRecord, tag?: ImageRef, index?: IndexRecord) => {
      const key = index?.digest ?? rec.id;
      const item = items.get(key) ?? { rec, tags: [], ...(index ? { index } : {}) };
      if (tag && !item.tags.includes(tag)) item.tags.push(tag);
      items.set(key, item);
    };
    const addTarget = (target: Digest, name: string, tag?: ImageRef) => {
      const index = store.getIndex(target);
      // An index is saved whole; its host-platform image stands for it in manifest.json.
      if (index) add(this.core.selectFromIndex(index, undefined, name), tag, index);
      else add(store.get(target)!, tag);
    };
    for (const name of names) {
      // `docker save busybox` saves every tag of the repository.
      const repo = repositoryOnly(name);
      if (repo) {
        const repoRefs = store.allRefs().filter(([r]) => isTagged(r) && repositoryOf(r) === repo);
        if (repoRefs.length > 0) {
          for (const [r, id] of repoRefs) addTarget(id, familiarString(r), r);
          continue;
        }
      }
      const idx = this.core.lookupIndex(name);
      if (idx) {
        addTarget(idx.index.digest, name, idx.ref && isTagged(idx.ref) ? idx.ref : undefined);
        continue;
      }
      const { rec, ref } = this.core.lookup(name);
      add(rec, ref && isTagged(ref) && store.lookupRef(ref) === rec.id ? ref : undefined);
    }
    const stream = saveArchive(this.core.ctx, [...items.values()], opts);
    for (const item of items.values()) {
      this.core.events.publish('image', 'save', item.rec.id, { name: item.tags[0] ? familiarString(item.tags[0]) : item.rec.id });
    }
    return stream;
  }

  importRootfs(tar: Readable, args: ImportOptions = {}, opts: Signal = {}): Promise<Digest> {
    return importRootfs(this.core, tar, args, opts);
  }

  commit(args: CommitOptions, opts: Signal = {}): Promise<Digest> {
    return commitImage(this.core, args, opts);
  }

  /**
   * Records an image whose manifest, config and layer blobs a pull already put into the content
   * store; tags `ref` and records `repository@repoDigest` (the digest the registry named).
   */
  storePulled(
    args: { ref: string; manifestDigest: Digest; repoDigest?: Digest | undefined; onProgress?: ((p: LoadProgress) => void) | undefined },
    opts: Signal = {},
  ): Promise<Digest> {
    return storePulled(this.core, args, opts);
  }

  /** What a push sends: the manifest (as stored), its config and layer blobs, all in the content store. */
  pushContents(nameOrId: string, opts: Signal = {}): Promise<{ id: Digest; manifest: { digest: Digest; mediaType: string; size: number }; layers: LayerBlob[] }> {
    return pushContents(this.core, nameOrId, opts);
  }
}

/** `busybox` (no tag, no digest) → its repository; anything else → undefined. */
function repositoryOnly(name: string): string | undefined {
  try {
    const r = parseNormalizedNamed(name);
    if (r.tag !== undefined || r.digest !== undefined) return undefined;
    return repositoryOf(formatReference({ ...r, tag: 'x' }));
  } catch (e) {
    if (e instanceof BerthError && e.kind === 'invalid-argument') return undefined;
    throw e;
  }
}
