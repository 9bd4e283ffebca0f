// Builds small image archives in memory for tests and benchmarks: docker-archive (legacy and
// Docker 25+) and OCI layout tars, with plain or gzip layers. Not used by the daemon.
import { gzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import { digestHex, sha256Digest, spawnStreaming, type Digest } from '../util/index.js';
import { MediaType } from './media-types.js';

export interface FixtureFile {
  name: string;
  data?: string | Buffer;
  type?: 'file' | 'dir' | 'symlink';
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** A tar of `files` (layers, archives) as one Buffer. */
export async function tarOf(files: FixtureFile[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const f of files) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      const type = f.type === 'dir' ? 'directory' : f.type === 'symlink' ? 'symlink' : 'file';
      const header = {
        name: f.name,
        type,
        mode: f.mode ?? (type === 'directory' ? 0o755 : 0o644),
        mtime: new Date(1_700_000_000_000),
        uid: f.uid ?? 0,
        gid: f.gid ?? 0,
        ...(f.linkname ? { linkname: f.linkname } : {}),
      } as const;
      if (type === 'file') p.entry(header, f.data ?? '', cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The members of a tar stream by name, with their contents (the inverse of `tarOf`). */
export async function tarEntries(r: Readable): Promise<Map<string, Buffer>> {
  const ex = tarExtract();
  const out = new Map<string, Buffer>();
  const done = (async () => {
    for await (const e of ex) {
      const parts: Buffer[] = [];
      for await (const c of e) parts.push(c as Buffer);
      out.set(e.header.name, Buffer.concat(parts));
    }
  })();
  r.pipe(ex);
  await done;
  return out;
}

export interface FixtureImage {
  /** Layer tars (uncompressed); compressed per `gzip`. */
  layers: Buffer[];
  tags: string[];
  gzip?: boolean;
  cmd?: string[];
  labels?: Record<string, string>;
  created?: string;
}

export interface BuiltImage {
  config: Buffer;
  configDigest: Digest;
  diffIds: Digest[];
  blobs: Array<{ digest: Digest; data: Buffer; mediaType: string }>;
  manifest: Buffer;
  manifestDigest: Digest;
}

export function buildImage(img: FixtureImage): BuiltImage {
  const diffIds = img.layers.map((l) => sha256Digest(l));
  const created = img.created ?? '2024-01-02T03:04:05Z';
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created,
      config: { Cmd: img.cmd ?? ['sh'], Env: ['PATH=/usr/bin:/bin'], ...(img.labels ? { Labels: img.labels } : {}) },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: [
        ...img.layers.map((_, i) => ({ created, created_by: `/bin/sh -c #(nop) ADD layer${i}` })),
        { created, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
      ],
    }),
  );
  const configDigest = sha256Digest(config);
  const blobs = img.layers.map((l) => {
    const data = img.gzip ? gzipSync(l) : l;
    return { digest: sha256Digest(data), data, mediaType: img.gzip ? MediaType.ociLayerGzip : MediaType.ociLayer };
  });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
      layers: blobs.map((b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.data.length })),
    }),
  );
  return { config, configDigest, diffIds, blobs, manifest, manifestDigest: sha256Digest(manifest) };
}

/** Legacy docker-archive (Docker < 25): `<id>.json`, `<n>/layer.tar`, `manifest.json`, `repositories`. */
export async function legacyDockerArchive(images: FixtureImage[]): Promise<Buffer> {
  const files: FixtureFile[] = [];
  const manifest = [];
  for (const [i, img] of images.entries()) {
    const b = buildImage(img);
    const layerPaths: string[] = [];
    for (const [j, blob] of b.blobs.entries()) {
      const dir = `${String(i).padStart(2, '0')}${String(j).padStart(62, 'a')}`;
      files.push({ name: `${dir}/`, type: 'dir' }, { name: `${dir}/VERSION`, data: '1.0' }, { name: `${dir}/layer.tar`, data: blob.data });
      layerPaths.push(`${dir}/layer.tar`);
    }
    files.push({ name: `${digestHex(b.configDigest)}.json`, data: b.config });
    manifest.push({ Config: `${digestHex(b.configDigest)}.json`, RepoTags: img.tags, Layers: layerPaths });
  }
  files.push({ name: 'manifest.json', data: JSON.stringify(manifest) });
  return tarOf(files);
}

/** OCI image layout tar; with `dockerManifest` also Docker 25+'s `manifest.json`. */
export async function ociArchive(images: FixtureImage[], opts: { dockerManifest?: boolean; fullNames?: boolean } = {}): Promise<Buffer> {
  const files: FixtureFile[] = [{ name: 'blobs/', type: 'dir' }, { name: 'blobs/sha256/', type: 'dir' }];
  const seen = new Set<string>();
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] as unknown[] };
  const manifest = [];
  const blob = (d: Digest, data: Buffer) => {
    if (seen.has(d)) return;
    seen.add(d);
    files.push({ name: `blobs/sha256/${digestHex(d)}`, data });
  };
  for (const img of images) {
    const b = buildImage(img);
    for (const l of b.blobs) blob(l.digest, l.data);
    blob(b.configDigest, b.config);
    blob(b.manifestDigest, b.manifest);
    const desc = { mediaType: MediaType.ociManifest, digest: b.manifestDigest, size: b.manifest.length };
    if (img.tags.length === 0) index.manifests.push(desc);
    for (const t of img.tags) {
      index.manifests.push({
        ...desc,
        annotations: opts.fullNames === false ? { 'org.opencontainers.image.ref.name': t } : { 'io.containerd.image.name': `docker.io/library/${t}`, 'org.opencontainers.image.ref.name': t.split(':')[1] ?? 'latest' },
      });
    }
    manifest.push({ Config: `blobs/sha256/${digestHex(b.configDigest)}`, RepoTags: img.tags, Layers: b.blobs.map((l) => `blobs/sha256/${digestHex(l.digest)}`) });
  }
  files.push({ name: 'index.json', data: JSON.stringify(index) });
  if (opts.dockerManifest) files.push({ name: 'manifest.json', data: JSON.stringify(manifest) });
  files.push({ name: 'oci-layout', data: JSON.stringify({ imageLayoutVersion: '1.0.0' }) });
  return tarOf(files);
}

/** `tool -c` of `data` (xz, bzip2, zstd) for tests of compressed archives; rejects when the tool is missing. */
export async function runCompressor(tool: 'xz' | 'bzip2' | 'zstd', data: Buffer): Promise<Buffer> {
  const child = spawnStreaming(tool, ['-c', '-q'], { timeoutMs: 60_000 });
  const out: Buffer[] = [];
  const reading = (async () => {
    for await (const c of child.stdout) out.push(c as Buffer);
  })();
  child.stdin.end(data);
  await Promise.all([reading, child.done]);
  return Buffer.concat(out);
}
