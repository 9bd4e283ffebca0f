// Multi-platform images: an OCI image index whose manifests are images in the store. A tag may
// name an index; lookups pick the image for a platform (image-core), listings show the index's
// tags on its host-platform image, and removing the last tag of an index removes the index and
// the images only it kept.
import { conflict, notFound, type Digest } from '../util/index.js';
import { normalizeUsers, type ImageCore, type Signal } from './image-core.js';
import type { IndexEntry, IndexRecord } from './image-index-record.js';
import type { ImageRecord } from './image-store.js';
import { MediaType } from './media-types.js';
import { familiarString, refWithTag, shortId, type ImageRef } from './reference.js';
import { manifestOf } from './save.js';
import type { Descriptor, Platform } from './schemas.js';
import type { DeleteItem } from './types.js';

/** One platform of an image as `image inspect --platforms` shows it. */
export interface PlatformImage {
  platform: Platform | undefined;
  manifestDigest: Digest;
  manifestMediaType: string;
  manifestSize: number;
  /** The config digest (image id) when the image is stored locally. */
  imageId: Digest | undefined;
  /** Unpacked size of the local image; 0 when it is not local. */
  size: number;
  available: boolean;
}

export interface PlatformsView {
  /** The index the name points to; undefined for a single-platform image. */
  index: { digest: Digest; mediaType: string; size: number } | undefined;
  images: PlatformImage[];
}

/** The manifest descriptor of a stored image (its recorded manifest, or one made for it). */
export function manifestDescriptorOf(core: ImageCore, rec: ImageRecord): Promise<{ digest: Digest; size: number; mediaType: string }> {
  return manifestOf(core.ctx, rec);
}

async function platformOf(core: ImageCore, id: Digest): Promise<Platform> {
  const cfg = await core.readConfig(id);
  return { os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) };
}

/**
 * Writes an OCI index over stored images (one per platform; a second image of a platform
 * already listed is refused), records it and points `tags` at it.
 */
export async function storeIndex(core: ImageCore, imageIds: Digest[], tags: string[], opts: Signal = {}): Promise<Digest> {
  const targets: ImageRef[] = tags.map((t) => refWithTag(t, undefined));
  // Under a lease: a GC between writing the blobs and recording the index must not take them.
  return core.withLease(async (signal) => {
    const entries: IndexEntry[] = [];
    const descriptors: Descriptor[] = [];
    const seen = new Set<string>();
    for (const id of imageIds) {
      const { rec } = core.lookup(id);
      const platform = await platformOf(core, rec.id);
      const key = [platform.os, platform.architecture, platform.variant ?? ''].join('/');
      if (seen.has(key)) throw conflict(`two images for platform ${key} in one index`);
      seen.add(key);
      const m = await manifestDescriptorOf(core, rec);
      descriptors.push({ mediaType: m.mediaType, digest: m.digest, size: m.size, platform });
      entries.push({ ...m, platform, imageId: rec.id });
    }
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: descriptors });
    const info = await core.storage.content.put(body, signal ? { signal } : {});
    const record: IndexRecord = { digest: info.digest, mediaType: MediaType.ociIndex, size: info.size, created: new Date().toISOString(), manifests: entries };
    await setIndexRefs(core, record, targets);
    return record.digest;
  }, opts);
}

/** Records `record` (keeping the first creation time) and points `targets` at it. */
async function setIndexRefs(core: ImageCore, record: IndexRecord, targets: ImageRef[]): Promise<void> {
  const now = new Date().toISOString();
  const untagged: Array<{ ref: ImageRef; old: Digest }> = [];
  await core.mutex.run('images', () =>
    core.store.update((txn) => {
      const prev = txn.getIndex(record.digest);
      txn.putIndex({ ...record, created: prev?.created ?? record.created, ...(targets.length > 0 ? { lastTagTime: now } : {}) });
      for (const t of targets) {
        const old = txn.setRef(t, record.digest);
        if (old && old !== record.digest) untagged.push({ ref: t, old });
      }
    }),
  );
  for (const u of untagged) core.events.publish('image', 'untag', u.old, { name: familiarString(u.ref) });
  for (const t of targets) core.events.publish('image', 'tag', record.digest, { name: familiarString(t) });
}

/** docker tag of a name that points to an index: the new reference names the same index. */
export async function tagIndex(core: ImageCore, digest: Digest, target: ImageRef): Promise<void> {
  const record = core.store.getIndex(digest);
  if (!record) throw notFound(`No such image: ${digest}`);
  await setIndexRefs(core, record, [target]);
}

/** Every platform of a name: the index's manifests, or the single image it names. */
export async function platformsOf(core: ImageCore, nameOrId: string): Promise<PlatformsView> {
  const idx = core.lookupIndex(nameOrId);
  if (!idx) {
    const { rec } = core.lookup(nameOrId);
    const m = await manifestDescriptorOf(core, rec);
    return {
      index: undefined,
      images: [{ platform: await platformOf(core, rec.id), manifestDigest: m.digest, manifestMediaType: m.mediaType, manifestSize: m.size, imageId: rec.id, size: rec.size, available: true }],
    };
  }
  const images: PlatformImage[] = [];
  for (const m of idx.index.manifests) {
    const rec = m.imageId ? core.store.get(m.imageId) : undefined;
    images.push({
      platform: m.platform,
      manifestDigest: m.digest,
      manifestMediaType: m.mediaType,
      manifestSize: m.size,
      imageId: rec?.id,
      size: rec?.size ?? 0,
      available: rec !== undefined,
    });
  }
  const { digest, mediaType, size } = idx.index;
  return { index: { digest, mediaType, size }, images };
}

/**
 * rmi of a name that points to an index: untags it; when no reference is left, the index
 * goes, then each of its images that nothing else references (no tag, no other index, no
 * container, no child image). Called with the images mutex held.
 */
export async function removeIndexLocked(
  core: ImageCore,
  index: IndexRecord,
  ref: ImageRef | undefined,
  force: boolean,
  opts: Signal,
): Promise<DeleteItem[]> {
  const records: DeleteItem[] = [];
  const refs = core.store.refsOf(index.digest);
  const removed = ref ? [ref] : refs;
  if (ref === undefined && refs.length > 1 && !force) {
    throw conflict(`conflict: unable to delete ${shortId(index.digest)} (must be forced) - image is referenced in multiple repositories`);
  }
  const children = index.manifests.flatMap((m) => (m.imageId && core.store.get(m.imageId) ? [m.imageId] : []));
  const remaining = refs.filter((r) => !removed.includes(r));
  if (remaining.length === 0 && !force) {
    for (const id of children) {
      const running = normalizeUsers(await core.usageCheck(id)).find((u) => u.running);
      if (running) {
        throw conflict(`conflict: unable to delete ${shortId(index.digest)} (cannot be forced) - image is being used by running container ${shortId(running.id)}`);
      }
    }
  }
  await core.store.update((txn) => {
    for (const r of removed) txn.deleteRef(r);
    if (remaining.length === 0) txn.deleteIndex(index.digest);
  });
  for (const r of removed) {
    records.push({ untagged: familiarString(r) });
    core.events.publish('image', 'untag', index.digest, { name: familiarString(r) });
  }
  if (remaining.length > 0) return records;
  core.events.publish('image', 'delete', index.digest, { name: index.digest });
  records.push({ deleted: index.digest });
  const doomed: Digest[] = [];
  for (const id of children) {
    if (core.store.refsOf(id).length > 0 || core.indexesOf(id).length > 0 || core.children(id).length > 0) continue;
    if ((await core.usageCheck(id)).length > 0) continue;
    doomed.push(id);
  }
  if (doomed.length > 0) {
    await core.store.update((txn) => {
      for (const id of doomed) txn.deleteImage(id);
    });
    for (const id of doomed) {
      core.forgetConfig(id);
      core.events.publish('image', 'delete', id, { name: id });
      records.push({ deleted: id });
    }
  }
  await core.collectGarbage(opts);
  return records;
}
