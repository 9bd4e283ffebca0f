// docker load: docker-archive (legacy `manifest.json` + `<id>/layer.tar`, and Docker 25+'s OCI
// layout with `manifest.json`) and plain OCI layout tars (`index.json`). Blobs are streamed into
// the content store under a lease; everything is parsed and checked before any layer is applied;
// layers are verified against their diffIDs while they unpack; the index is updated last, once.
import type { Readable } from 'node:stream';
import type { Lease, StagedLayer, Storage } from '../storage/index.js';
import { digestHex, invalidArgument, sha256Digest, type Digest, type EventBus } from '../util/index.js';
import { discardStaged, readArchive, resolveArchiveFile, type ArchiveContents, type ArchiveFile } from './archive-reader.js';
import type { IndexEntry, IndexRecord } from './image-index-record.js';
import type { ImageRecord, ImageStore } from './image-store.js';
import {
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  applyLayers,
  verifiedPairs,
  buildManifest,
  describeLayerBlob,
  makeRecord,
  type LayerBlob,
} from './image-writer.js';
import { Annotation, MediaType } from './media-types.js';
import { hostPlatform, selectManifest } from './platform.js';
import { familiarString, parseImageRef, shortId, type ImageRef } from './reference.js';
import {
  archiveManifestSchema,
  assertConfigMediaType,
  assertLayerMediaType,
  imageConfigSchema,
  indexSchema,
  manifestKindOf,
  manifestSchema,
  ociLayoutSchema,
  parseJson,
  type Descriptor,
  type ImageConfig,
} from './schemas.js';
import type { LoadProgress, LoadResult } from './types.js';

export interface ImageContext {
  storage: Storage;
  store: ImageStore;
  events: EventBus;
}

interface LoadPlan {
  configDigest: Digest;
  configSize: number;
  config: ImageConfig;
  layers: LayerBlob[];
  manifest: { digest: Digest; mediaType: string } | undefined;
  tags: ImageRef[];
}

const bad = (msg: string) => invalidArgument(`invalid image archive: ${msg}`);

function member(contents: ArchiveContents, path: string, what: string): ArchiveFile {
  const f = resolveArchiveFile(contents, path);
  if (!f) throw bad(`${what} "${path}" is not in the archive`);
  return f;
}

async function bytesOf(ctx: ImageContext, f: ArchiveFile, max: number): Promise<Buffer> {
  if (f.kind === 'memory') return f.data;
  if (f.kind === 'blob') return ctx.storage.content.readBytes(f.digest, max);
  throw bad('unresolved link');
}

async function blobOf(ctx: ImageContext, f: ArchiveFile, opts: { signal?: AbortSignal | undefined }): Promise<{ digest: Digest; size: number }> {
  if (f.kind === 'blob') return { digest: f.digest, size: f.size };
  if (f.kind === 'memory') return ctx.storage.content.put(f.data, { signal: opts.signal });
  throw bad('unresolved link');
}

function blobPath(d: Digest): string {
  return `blobs/sha256/${digestHex(d)}`;
}

/** Reads a manifest or index blob from the archive, following nested indexes to the host's manifest. */
async function manifestsFromIndex(
  ctx: ImageContext,
  contents: ArchiveContents,
  index: Descriptor[],
  depth = 0,
): Promise<Array<{ desc: Descriptor; top: Descriptor }>> {
  if (depth > 4) throw bad('indexes nest too deeply');
  const out: Array<{ desc: Descriptor; top: Descriptor }> = [];
  for (const top of index) {
    let desc = top;
    for (let hops = 0; ; hops++) {
      if (hops > 4) throw bad('indexes nest too deeply');
      const bytes = await bytesOf(ctx, member(contents, blobPath(desc.digest), 'manifest'), MAX_MANIFEST_BYTES);
      if (sha256Digest(bytes) !== desc.digest) throw bad(`manifest "${desc.digest}" does not match its digest`);
      let raw: unknown;
      try {
        raw = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw bad(`manifest "${desc.digest}" is not valid JSON`);
      }
      const kind = manifestKindOf(desc.mediaType ?? (raw as { mediaType?: string }).mediaType, raw);
      if (kind === 'manifest') break;
      const idx = parseJson(indexSchema, bytes, `index ${desc.digest}`);
      // Attestation manifests and other platforms are skipped: pick the host's.
      const candidates = idx.manifests.filter((m) => m.platform?.os !== 'unknown');
      desc = selectManifest(candidates, hostPlatform());
    }
    out.push({ desc, top });
  }
  return out;
}

async function planFromManifest(ctx: ImageContext, contents: ArchiveContents, desc: Descriptor, tags: ImageRef[]): Promise<LoadPlan> {
  const bytes = await bytesOf(ctx, member(contents, blobPath(desc.digest), 'manifest'), MAX_MANIFEST_BYTES);
  const m = parseJson(manifestSchema, bytes, `manifest ${desc.digest}`);
  assertConfigMediaType(m.config.mediaType);
  for (const l of m.layers) assertLayerMediaType(l.mediaType);
  const cfgFile = member(contents, blobPath(m.config.digest), 'config');
  const config = parseJson(imageConfigSchema, await bytesOf(ctx, cfgFile, MAX_CONFIG_BYTES), `image config ${m.config.digest}`);
  const layers = m.layers.map((l) => {
    const f = member(contents, blobPath(l.digest), 'layer');
    if (f.kind === 'blob' && f.size !== l.size) throw bad(`layer "${l.digest}" has ${f.size} bytes, the manifest says ${l.size}`);
    return { digest: l.digest, size: l.size, mediaType: l.mediaType };
  });
  return {
    configDigest: m.config.digest,
    configSize: m.config.size,
    config,
    layers,
    manifest: { digest: desc.digest, mediaType: m.mediaType ?? desc.mediaType },
    tags,
  };
}

function tagsFromAnnotations(desc: Descriptor): ImageRef[] {
  const a = desc.annotations ?? {};
  const full = a[Annotation.containerdImageName];
  if (full) return [parseImageRef(full)];
  const refName = a[Annotation.refName];
  // A bare tag (`latest`) names no repository; such images load untagged.
  if (refName && /[:/]/.test(refName)) return [parseImageRef(refName)];
  return [];
}

/** A multi-platform image of the archive: its index (image ids of the loaded manifests filled in). */
interface IndexPlan {
  record: IndexRecord;
  tags: ImageRef[];
}

/** The kind of the blob a top-level index.json entry points to. */
async function entryKind(ctx: ImageContext, contents: ArchiveContents, desc: Descriptor): Promise<'manifest' | 'index'> {
  const bytes = await bytesOf(ctx, member(contents, blobPath(desc.digest), 'manifest'), MAX_MANIFEST_BYTES);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad(`manifest "${desc.digest}" is not valid JSON`);
  }
  return manifestKindOf(desc.mediaType ?? (raw as { mediaType?: string }).mediaType, raw);
}

/** An index entry kept as an index: every image manifest of it the archive holds is loaded. */
async function planIndex(
  ctx: ImageContext,
  contents: ArchiveContents,
  top: Descriptor,
  opts: { signal?: AbortSignal | undefined },
): Promise<{ index: IndexPlan; images: LoadPlan[] }> {
  const file = member(contents, blobPath(top.digest), 'index');
  const bytes = await bytesOf(ctx, file, MAX_MANIFEST_BYTES);
  if (sha256Digest(bytes) !== top.digest) throw bad(`index "${top.digest}" does not match its digest`);
  const idx = parseJson(indexSchema, bytes, `index ${top.digest}`);
  await blobOf(ctx, file, opts);
  const images: LoadPlan[] = [];
  const manifests: IndexEntry[] = [];
  for (const m of idx.manifests) {
    const entry: IndexEntry = { digest: m.digest, mediaType: m.mediaType, size: m.size, ...(m.platform ? { platform: m.platform } : {}) };
    // Attestations (platform unknown/unknown) and manifests the archive lacks stay listed, not loaded.
    const present = resolveArchiveFile(contents, blobPath(m.digest)) !== undefined;
    if (present && m.platform?.os !== 'unknown' && (await entryKind(ctx, contents, m)) === 'manifest') {
      const plan = await planFromManifest(ctx, contents, m, []);
      images.push(plan);
      entry.imageId = plan.configDigest;
    }
    manifests.push(entry);
  }
  if (images.length === 0) throw bad(`index "${top.digest}" has no image manifest in the archive`);
  const record: IndexRecord = {
    digest: top.digest,
    mediaType: idx.mediaType ?? top.mediaType,
    size: bytes.length,
    created: new Date().toISOString(),
    manifests,
  };
  return { index: { record, tags: tagsFromAnnotations(top) }, images };
}

async function planArchive(
  ctx: ImageContext,
  contents: ArchiveContents,
  opts: { signal?: AbortSignal | undefined },
): Promise<{ plans: LoadPlan[]; indexes: IndexPlan[] }> {
  const indexJson = contents.files.get('index.json');
  if (indexJson) {
    // An archive naming an index (a multi-platform save) loads as an OCI layout, index kept.
    const idx = parseJson(indexSchema, await bytesOf(ctx, indexJson, MAX_MANIFEST_BYTES), 'index.json');
    const kinds = await Promise.all(idx.manifests.map((d) => entryKind(ctx, contents, d)));
    if (kinds.includes('index')) {
      const plans: LoadPlan[] = [];
      const indexes: IndexPlan[] = [];
      for (const [i, top] of idx.manifests.entries()) {
        if (kinds[i] === 'manifest') {
          plans.push(await planFromManifest(ctx, contents, top, tagsFromAnnotations(top)));
          continue;
        }
        const r = await planIndex(ctx, contents, top, opts);
        plans.push(...r.images);
        indexes.push(r.index);
      }
      return { plans, indexes };
    }
  }
  return { plans: await planImages(ctx, contents, opts), indexes: [] };
}

async function planImages(ctx: ImageContext, contents: ArchiveContents, opts: { signal?: AbortSignal | undefined }): Promise<LoadPlan[]> {
  const manifestJson = contents.files.get('manifest.json');
  const indexJson = contents.files.get('index.json');
  // Manifests an OCI index in the archive describes, by config digest (Docker 25+ keeps them).
  const ociManifests = new Map<Digest, Descriptor>();
  let indexDescs: Array<{ desc: Descriptor; top: Descriptor }> = [];
  if (indexJson) {
    const layout = contents.files.get('oci-layout');
    if (layout) {
      const l = parseJson(ociLayoutSchema, await bytesOf(ctx, layout, 4096), 'oci-layout');
      if (!l.imageLayoutVersion.startsWith('1.')) throw bad(`unsupported OCI layout version "${l.imageLayoutVersion}"`);
    }
    const idx = parseJson(indexSchema, await bytesOf(ctx, indexJson, MAX_MANIFEST_BYTES), 'index.json');
    indexDescs = await manifestsFromIndex(ctx, contents, idx.manifests);
  }

  if (manifestJson) {
    for (const { desc } of indexDescs) {
      const bytes = await bytesOf(ctx, member(contents, blobPath(desc.digest), 'manifest'), MAX_MANIFEST_BYTES);
      const m = parseJson(manifestSchema, bytes, `manifest ${desc.digest}`);
      ociManifests.set(m.config.digest, desc);
    }
    const entries = parseJson(archiveManifestSchema, await bytesOf(ctx, manifestJson, MAX_MANIFEST_BYTES), 'manifest.json');
    if (entries.length === 0) throw bad('manifest.json lists no images');
    const plans: LoadPlan[] = [];
    for (const e of entries) {
      const tags = (e.RepoTags ?? []).map((t) => parseImageRef(t));
      const cfgFile = member(contents, e.Config, 'config');
      const cfgBytes = await bytesOf(ctx, cfgFile, MAX_CONFIG_BYTES);
      const configDigest = sha256Digest(cfgBytes);
      const legacyName = /^([a-f0-9]{64})\.json$/.exec(e.Config);
      if (legacyName && `sha256:${legacyName[1]}` !== configDigest) throw bad(`config "${e.Config}" does not match its digest`);
      const known = ociManifests.get(configDigest);
      if (known) {
        plans.push(await planFromManifest(ctx, contents, known, tags));
        continue;
      }
      const config = parseJson(imageConfigSchema, cfgBytes, `image config ${e.Config}`);
      const stored = await blobOf(ctx, cfgFile, opts);
      const layers: LayerBlob[] = [];
      for (const lp of e.Layers) {
        const f = member(contents, lp, 'layer');
        const b = await blobOf(ctx, f, opts);
        const source = e.LayerSources?.[b.digest];
        if (source) assertLayerMediaType(source.mediaType);
        layers.push(await describeLayerBlob(ctx.storage, b.digest, b.size));
      }
      plans.push({ configDigest: stored.digest, configSize: stored.size, config, layers, manifest: undefined, tags });
    }
    return plans;
  }
  if (indexJson) {
    if (indexDescs.length === 0) throw bad('index.json lists no images');
    const plans: LoadPlan[] = [];
    for (const { desc, top } of indexDescs) plans.push(await planFromManifest(ctx, contents, desc, tagsFromAnnotations(top)));
    return plans;
  }
  throw bad('neither manifest.json nor index.json found (is this a docker save or OCI layout tar?)');
}

/**
 * Loads every image of the archive. On any error nothing is recorded and the caller's GC pass
 * removes what was written (the lease is released first).
 */
export async function loadArchive(
  ctx: ImageContext,
  tar: Readable,
  opts: { signal?: AbortSignal | undefined; onProgress?: ((p: LoadProgress) => void) | undefined; lease?: Lease | undefined },
): Promise<LoadResult & { leftovers: boolean }> {
  // Layers are unpacked (staged) while the archive is read; those the configs' diffIDs vouch for
  // are committed below, the others discarded.
  const contents = await readArchive(tar, ctx.storage.content, { signal: opts.signal, layers: ctx.storage.layers });
  try {
    return await loadContents(ctx, contents, opts);
  } finally {
    await discardStaged(contents, ctx.storage.layers);
  }
}

async function loadContents(
  ctx: ImageContext,
  contents: ArchiveContents,
  opts: { signal?: AbortSignal | undefined; onProgress?: ((p: LoadProgress) => void) | undefined; lease?: Lease | undefined },
): Promise<LoadResult & { leftovers: boolean }> {
  const staged = new Map<Digest, StagedLayer>();
  for (const f of contents.files.values()) if (f.kind === 'blob' && f.staged) staged.set(f.digest, f.staged);
  const { plans, indexes } = await planArchive(ctx, contents, opts);
  for (const p of plans) {
    if (p.layers.length !== p.config.rootfs.diff_ids.length) {
      throw bad(`image config ${p.configDigest} lists ${p.config.rootfs.diff_ids.length} diff_ids but there are ${p.layers.length} layers`);
    }
  }
  const records: Array<{ rec: ImageRecord; tags: ImageRef[] }> = [];
  for (const p of plans) {
    const { chains } = await applyLayers(ctx.storage, undefined, p.layers, p.config.rootfs.diff_ids, {
      isVerifiedPair: verifiedPairs(ctx.store.list()),
      staged,
      lease: opts.lease,
      signal: opts.signal,
      onLayer: opts.onProgress
        ? (diffId, current, total) => opts.onProgress!({ kind: 'layer', id: shortId(diffId), action: 'Loading layer', current, total })
        : undefined,
    });
    let manifest = p.manifest;
    if (!manifest) {
      const m = buildManifest(p.configDigest, p.configSize, p.layers);
      const info = await ctx.storage.content.put(JSON.stringify(m), { signal: opts.signal });
      manifest = { digest: info.digest, mediaType: MediaType.ociManifest };
    }
    const rec = await makeRecord(ctx.storage, {
      id: p.configDigest,
      config: p.config,
      manifestDigest: manifest.digest,
      manifestMediaType: manifest.mediaType,
      layers: p.layers,
      topChainId: chains[chains.length - 1],
    });
    records.push({ rec, tags: p.tags });
  }

  const messages: string[] = [];
  const now = new Date().toISOString();
  const untagged: Array<{ ref: ImageRef; id: Digest }> = [];
  let leftovers = false;
  await ctx.store.update((txn) => {
    for (const { rec, tags } of records) {
      // An image that exists keeps its record: its manifest may be a RepoDigest, and its blobs
      // are the ones already checked. What this load stored for it becomes garbage.
      if (txn.getImage(rec.id)) leftovers = true;
      else txn.putImage(rec);
      for (const t of tags) {
        const old = txn.setRef(t, rec.id);
        if (old && old !== rec.id) {
          untagged.push({ ref: t, id: old });
          messages.push(`The image ${familiarString(t)} already exists, renaming the old one with ID ${old} to empty string`);
        }
        const cur = txn.getImage(rec.id)!;
        txn.putImage({ ...cur, lastTagTime: now });
      }
    }
    for (const { record, tags } of indexes) {
      const prev = txn.getIndex(record.digest);
      txn.putIndex({ ...record, created: prev?.created ?? record.created, ...(tags.length > 0 ? { lastTagTime: now } : {}) });
      for (const t of tags) {
        const old = txn.setRef(t, record.digest);
        if (old && old !== record.digest) untagged.push({ ref: t, id: old });
      }
    }
  });
  const images = records.map(({ rec, tags }) => ({ id: rec.id, tags: tags.map((t) => familiarString(t)) }));
  for (const { record, tags } of indexes) images.push({ id: record.digest, tags: tags.map((t) => familiarString(t)) });
  // An index's images are reported through the index (`Loaded image: name:tag`).
  const indexChildren = new Set(indexes.flatMap((i) => i.record.manifests.flatMap((m) => (m.imageId ? [m.imageId] : []))));
  for (const img of images) {
    if (indexChildren.has(img.id) && img.tags.length === 0) continue;
    if (img.tags.length === 0) messages.push(`Loaded image ID: ${img.id}`);
    for (const t of img.tags) messages.push(`Loaded image: ${t}`);
  }
  for (const u of untagged) ctx.events.publish('image', 'untag', u.id, { name: familiarString(u.ref) });
  for (const img of images) {
    for (const t of img.tags) ctx.events.publish('image', 'tag', img.id, { name: t });
    ctx.events.publish('image', 'load', img.id, { name: img.tags[0] ?? img.id });
  }
  return { images, messages, leftovers };
}
