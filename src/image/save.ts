// docker save: the format Docker 25+ writes — an OCI image layout (`oci-layout`, `index.json`,
// `blobs/sha256/…`) plus the docker-archive `manifest.json` and `repositories`, so both new and
// old loaders read it. Blobs are streamed from the content store; nothing is buffered.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import { digestHex, type Digest } from '../util/index.js';
import type { IndexRecord } from './image-index-record.js';
import type { ImageRecord } from './image-store.js';
import { buildManifest } from './image-writer.js';
import type { ImageContext } from './load.js';
import { Annotation, MediaType } from './media-types.js';
import { familiarName, familiarString, splitImageRef, type ImageRef } from './reference.js';
import type { Descriptor } from './schemas.js';

export interface SaveItem {
  /** The image (for an index: the one docker-archive loaders get, the host's). */
  rec: ImageRecord;
  /** A multi-platform image: the index and every stored image it lists are written. */
  index?: IndexRecord | undefined;
  /** Tags to record for this image (empty when it was named by id). */
  tags: ImageRef[];
}

const MTIME = new Date(0);

function addEntry(pack: Pack, name: string, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, mtime: MTIME, mode: 0o644 }, data, (err) => (err ? reject(err) : resolve()));
  });
}

function addDir(pack: Pack, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, type: 'directory', mtime: MTIME, mode: 0o755 }, (err) => (err ? reject(err) : resolve()));
  });
}

async function addBlob(ctx: ImageContext, pack: Pack, digest: Digest, signal: AbortSignal | undefined): Promise<void> {
  const info = await ctx.storage.content.info(digest);
  if (!info) throw new Error(`blob ${digest} is missing from the content store`);
  const entry = pack.entry({ name: `blobs/sha256/${digestHex(digest)}`, size: info.size, mtime: MTIME, mode: 0o644 });
  await pipeline(ctx.storage.content.read(digest), entry as unknown as NodeJS.WritableStream, { signal });
}

/** The manifest of a record: the stored one, or one made from the record for images without. */
export async function manifestOf(ctx: ImageContext, rec: ImageRecord): Promise<{ digest: Digest; size: number; mediaType: string }> {
  if (rec.manifestDigest) {
    const info = await ctx.storage.content.info(rec.manifestDigest);
    if (info) return { digest: rec.manifestDigest, size: info.size, mediaType: rec.manifestMediaType ?? MediaType.ociManifest };
  }
  const cfg = await ctx.storage.content.info(rec.id);
  const m = buildManifest(rec.id, cfg?.size ?? 0, rec.layers);
  const info = await ctx.storage.content.put(JSON.stringify(m));
  return { digest: info.digest, size: info.size, mediaType: MediaType.ociManifest };
}

/** Writes the archive for `items` into a tar stream; errors destroy the stream. */
export function saveArchive(ctx: ImageContext, items: SaveItem[], opts: { signal?: AbortSignal | undefined } = {}): Readable {
  const pack = tarPack();
  const run = async () => {
    const written = new Set<Digest>();
    const blob = async (d: Digest) => {
      if (written.has(d)) return;
      written.add(d);
      await addBlob(ctx, pack, d, opts.signal);
    };
    const indexManifests: Descriptor[] = [];
    const dockerManifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
    const repositories: Record<string, Record<string, string>> = {};
    await addDir(pack, 'blobs/');
    await addDir(pack, 'blobs/sha256/');
    const imageBlobs = async (rec: ImageRecord) => {
      const manifest = await manifestOf(ctx, rec);
      // Manifest and config first, then layers: a reader can plan before the big blobs arrive.
      await blob(manifest.digest);
      await blob(rec.id);
      for (const l of rec.layers) await blob(l.digest);
      return manifest;
    };
    for (const { rec, tags, index } of items) {
      const manifest = await imageBlobs(rec);
      const layerDigests = rec.layers.map((l) => l.digest);
      let desc: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
      if (index) {
        await blob(index.digest);
        for (const m of index.manifests) {
          const child = m.imageId ? ctx.store.get(m.imageId) : undefined;
          if (child) await imageBlobs(child);
        }
        desc = { mediaType: index.mediaType, digest: index.digest, size: index.size };
      }
      if (tags.length === 0) indexManifests.push(desc);
      for (const t of tags) {
        const r = splitImageRef(t);
        indexManifests.push({
          ...desc,
          annotations: { [Annotation.containerdImageName]: t, ...(r.tag ? { [Annotation.refName]: r.tag } : {}) },
        });
        const repo = familiarName(`${r.domain}/${r.path}`);
        if (r.tag) (repositories[repo] ??= {})[r.tag] = digestHex(rec.id);
      }
      dockerManifest.push({
        Config: `blobs/sha256/${digestHex(rec.id)}`,
        RepoTags: tags.map((t) => familiarString(t)),
        Layers: layerDigests.map((d) => `blobs/sha256/${digestHex(d)}`),
      });
    }
    const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: indexManifests };
    await addEntry(pack, 'index.json', JSON.stringify(index) + '\n');
    await addEntry(pack, 'manifest.json', JSON.stringify(dockerManifest) + '\n');
    await addEntry(pack, 'oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
    if (Object.keys(repositories).length > 0) await addEntry(pack, 'repositories', JSON.stringify(repositories) + '\n');
    pack.finalize();
  };
  run().then(
    () => undefined,
    (err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return Readable.from(pack);
}
