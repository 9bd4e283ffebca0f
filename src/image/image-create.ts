// Images made here rather than loaded: docker import, docker commit (and the builder), and
// the registry's pull (record what it downloaded) and push (what to upload).
import type { Readable } from 'node:stream';
import type { ChainId } from '../storage/index.js';
import { invalidArgument, type Digest } from '../util/index.js';
import { applyConfigChanges } from './config-changes.js';
import { isTagged, type ImageCore, type Signal } from './image-core.js';
import { MAX_MANIFEST_BYTES, applyLayers, buildManifest, describeLayerBlob, ingestAndApply, makeRecord, verifiedPairs } from './image-writer.js';
import { MediaType } from './media-types.js';
import { parsePlatform } from './platform.js';
import { familiarString, parseImageRef, refWithTag, repositoryOf, shortId } from './reference.js';
import {
  assertConfigMediaType,
  assertLayerMediaType,
  manifestKindOf,
  manifestSchema,
  parseJson,
  type ContainerConfig,
  type ImageConfig,
} from './schemas.js';
import type { CommitOptions, ImportOptions, LoadProgress } from './types.js';

export async function importRootfs(core: ImageCore, tar: Readable, args: ImportOptions = {}, opts: Signal = {}): Promise<Digest> {
  const target = args.repo ? refWithTag(args.repo, args.tag) : undefined;
  const platform = parsePlatform(args.platform ?? '');
  const baseConfig = applyConfigChanges({}, args.changes ?? []);
  const signal = opts.signal ?? args.signal;
  const id = await core.withLease(async (sig) => {
    const { blob, layer: info } = await ingestAndApply(core.storage, tar, undefined, { signal: sig });
    const layer = await describeLayerBlob(core.storage, blob.digest, blob.size);
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
    return core.storeImage(config, [layer], info.chainId, undefined, target, sig);
  }, { ...(signal ? { signal } : {}) });
  core.events.publish('image', 'import', id, { name: target ? familiarString(target) : id });
  return id;
}

/**
 * Records an image whose manifest, config and layer blobs a pull already put into the content
 * store: checks media types and diffIDs while applying the layers, tags `ref`, and records
 * `repository@repoDigest` (the digest the registry named: index or manifest) as docker does.
 */
export async function storePulled(
  core: ImageCore,
  args: { ref: string; manifestDigest: Digest; repoDigest?: Digest | undefined; onProgress?: ((p: LoadProgress) => void) | undefined },
  opts: Signal = {},
): Promise<Digest> {
  const named = parseImageRef(args.ref);
  const repo = repositoryOf(named);
  const digestRef = parseImageRef(`${repo}@${args.repoDigest ?? args.manifestDigest}`);
  const tagRef = isTagged(named) ? named : undefined;
  const id = await core.withLease(async (signal, lease) => {
    const bytes = await core.storage.content.readBytes(args.manifestDigest, MAX_MANIFEST_BYTES);
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
    const config = await core.readConfigUncached(m.config.digest);
    const layers = m.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
    const { chains } = await applyLayers(core.storage, undefined, layers, config.rootfs.diff_ids, {
      isVerifiedPair: verifiedPairs(core.store.list()),
      lease,
      signal,
      onLayer: args.onProgress
        ? (diffId, current, total) => args.onProgress!({ kind: 'layer', id: shortId(diffId), action: 'Loading layer', current, total })
        : undefined,
    });
    const rec = await makeRecord(core.storage, {
      id: m.config.digest,
      config,
      manifestDigest: args.manifestDigest,
      manifestMediaType: m.mediaType ?? MediaType.ociManifest,
      layers,
      topChainId: chains[chains.length - 1],
    });
    const now = new Date().toISOString();
    await core.mutex.run('images', () =>
      core.store.update((txn) => {
        const prev = txn.getImage(rec.id);
        txn.putImage({ ...rec, lastTagTime: tagRef ? now : prev?.lastTagTime, parent: prev?.parent });
        txn.setRef(digestRef, rec.id);
        if (tagRef) txn.setRef(tagRef, rec.id);
      }),
    );
    return rec.id;
  }, opts);
  if (tagRef) core.events.publish('image', 'tag', id, { name: familiarString(tagRef) });
  core.events.publish('image', 'pull', familiarString(tagRef ?? digestRef), { name: familiarString(tagRef ?? digestRef) });
  return id;
}

/** What a push sends: the manifest (as stored), its config and layer blobs, all in the content store. */
export async function pushContents(core: ImageCore, nameOrId: string, _opts: Signal = {}): Promise<{
  id: Digest;
  manifest: { digest: Digest; mediaType: string; size: number };
  layers: Array<{ digest: Digest; size: number; mediaType: string }>;
}> {
  const { rec } = core.lookup(nameOrId);
  let digest = rec.manifestDigest;
  let mediaType = rec.manifestMediaType ?? MediaType.ociManifest;
  let info = digest ? await core.storage.content.info(digest) : undefined;
  if (!digest || !info) {
    const cfg = await core.storage.content.info(rec.id);
    info = await core.storage.content.put(JSON.stringify(buildManifest(rec.id, cfg?.size ?? 0, rec.layers)));
    digest = info.digest;
    mediaType = MediaType.ociManifest;
  }
  return { id: rec.id, manifest: { digest, mediaType, size: info.size }, layers: rec.layers };
}

export async function commitImage(core: ImageCore, args: CommitOptions, opts: Signal = {}): Promise<Digest> {
  const target = args.repo ? refWithTag(args.repo, args.tag) : undefined;
  const parent = args.parent ? core.lookup(args.parent).rec : undefined;
  const parentConfig = parent ? await core.readConfig(parent.id) : undefined;
  const base: ContainerConfig = args.config ?? parentConfig?.config ?? {};
  const containerConfig = applyConfigChanges(base, args.changes ?? []);
  const signal = opts.signal ?? args.signal;
  return core.withLease(async (sig) => {
    const layers = [...(parent?.layers ?? [])];
    const diffIds = [...(parentConfig?.rootfs.diff_ids ?? [])];
    let top = parent?.topChainId as ChainId | undefined;
    const created = new Date().toISOString();
    let emptyLayer = true;
    if (args.layer) {
      const { blob, layer: info } = await ingestAndApply(core.storage, args.layer, top, { signal: sig });
      const layer = await describeLayerBlob(core.storage, blob.digest, blob.size);
      layers.push(layer);
      diffIds.push(info.diffId);
      top = info.chainId;
      emptyLayer = false;
    }
    const platform = parentConfig ?? { ...parsePlatform(args.platform ?? ''), os: 'linux' };
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
    const id = await core.storeImage(config, layers, top, parent?.id, target, sig);
    core.events.publish('image', 'commit', id, { name: target ? familiarString(target) : id });
    return id;
  }, { ...(signal ? { signal } : {}) });
}
