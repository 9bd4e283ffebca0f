// `berth bootstrap --platform linux/arm64`: busybox:latest as an OCI image index holding the
// host's busybox and Debian's busybox-static of each other platform (downloaded once with
// `apt-get download busybox-static:<arch>`, cached under the cache dir). The images are
// written as an OCI layout and sent through POST /images/load, so the index reaches the store
// through the plain Engine API. Layers are uncompressed, every timestamp is the binary's
// mtime: the same busybox always gives the same digests.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import { BerthError, run } from '../../util/index.js';
import { BUSYBOX_BINARY, busyboxRootfs, listApplets } from './busybox-rootfs.js';

const APT_TIMEOUT_MS = 5 * 60_000;
const DPKG_TIMEOUT_MS = 60_000;
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export interface TargetPlatform {
  os: string;
  architecture: string;
  variant?: string | undefined;
}

/** Debian's name for an OCI architecture (`arm64`, `armhf` for arm/v7, `ppc64el`, …). */
export function debianArch(p: TargetPlatform): string {
  if (p.architecture === 'arm') return p.variant === 'v6' || p.variant === 'v5' ? 'armel' : 'armhf';
  const map: Record<string, string> = { amd64: 'amd64', arm64: 'arm64', '386': 'i386', ppc64le: 'ppc64el', riscv64: 'riscv64', s390x: 's390x', mips64le: 'mips64el' };
  const a = map[p.architecture];
  if (!a) throw new BerthError('invalid-argument', `no Debian busybox-static for architecture "${p.architecture}"`);
  return a;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/**
 * The busybox binary of a Debian architecture, extracted from `busybox-static:<arch>` into
 * `<cacheDir>/busybox-static-<arch>/` (downloaded and unpacked once; a temp dir renamed into place).
 */
export async function foreignBusybox(cacheDir: string, arch: string, opts: { signal?: AbortSignal | undefined; log?: ((l: string) => void) | undefined } = {}): Promise<string> {
  const root = join(cacheDir, `busybox-static-${arch}`);
  const binary = join(root, 'bin', 'busybox');
  if (await isFile(binary)) return binary;
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });
  const work = await mkdtemp(join(cacheDir, `.busybox-${arch}-`));
  try {
    opts.log?.(`busybox: downloading Debian's busybox-static:${arch}`);
    try {
      await run('apt-get', ['download', `busybox-static:${arch}`], { cwd: work, timeoutMs: APT_TIMEOUT_MS, signal: opts.signal });
    } catch (err) {
      throw new BerthError(
        'unavailable',
        `cannot download busybox-static:${arch} (run berth's scripts/setup, or: dpkg --add-architecture ${arch} && apt-get update): ${(err as Error).message}`,
        { cause: err },
      );
    }
    const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new BerthError('internal', `apt-get download busybox-static:${arch} left no .deb`);
    const tree = join(work, 'tree');
    await run('dpkg-deb', ['-x', join(work, deb), tree], { timeoutMs: DPKG_TIMEOUT_MS, signal: opts.signal });
    if (!(await isFile(join(tree, 'bin', 'busybox')))) throw new BerthError('internal', `busybox-static:${arch} has no /bin/busybox`);
    await rm(root, { recursive: true, force: true });
    await rename(tree, root);
    return binary;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface Blob {
  digest: string;
  size: number;
  /** A file holding the bytes, or the bytes. */
  path?: string;
  data?: Buffer;
}

function jsonBlob(v: unknown): Blob {
  const data = Buffer.from(JSON.stringify(v));
  return { digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length, data };
}

/** Writes a stream to `path` and returns its digest and size. */
async function spool(src: Readable, path: string): Promise<Blob> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(src, tap, createWriteStream(path));
  return { digest: `sha256:${hash.digest('hex')}`, size, path };
}

function addBlob(pack: Pack, b: Blob): Promise<void> {
  const name = `blobs/sha256/${b.digest.slice(7)}`;
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (b.data) {
      pack.entry({ name, size: b.size, mode: 0o644, mtime: new Date(0) }, b.data, cb);
      return;
    }
    const entry = pack.entry({ name, size: b.size, mode: 0o644, mtime: new Date(0) }, cb);
    const src = createReadStream(b.path!);
    src.on('error', (err) => {
      entry.destroy(err);
      reject(err);
    });
    src.pipe(entry as unknown as NodeJS.WritableStream);
  });
}

/**
 * The OCI layout tar of busybox for `platforms` (the host's first), as one index named `ref`.
 * `binaries` gives each platform's busybox; applet names come from the host's binary (the
 * same Debian version), since a foreign one may not run here.
 */
export async function busyboxLayout(
  ref: string,
  platforms: Array<{ platform: TargetPlatform; binary: string }>,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<{ archive: Readable; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bootstrap-'));
  try {
    const applets = await listApplets(BUSYBOX_BINARY, opts.signal ? { signal: opts.signal } : {});
    const blobs: Blob[] = [];
    const manifests: Array<Record<string, unknown>> = [];
    for (const { platform, binary } of platforms) {
      const mtime = (await stat(binary)).mtime.toISOString();
      const layer = await spool(await busyboxRootfs(binary, { applets, ...(opts.signal ? { signal: opts.signal } : {}) }), join(dir, `layer-${randomUUID()}`));
      const config = jsonBlob({
        architecture: platform.architecture,
        ...(platform.variant ? { variant: platform.variant } : {}),
        os: platform.os,
        created: mtime,
        config: { Env: [DEFAULT_PATH], Cmd: ['sh'] },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
        history: [{ created: mtime, created_by: 'berth bootstrap busybox', comment: `Debian busybox-static (${debianArch(platform)})` }],
      });
      const manifest = jsonBlob({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
      });
      blobs.push(manifest, config, layer);
      const p = { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) };
      manifests.push({ mediaType: OCI_MANIFEST, digest: manifest.digest, size: manifest.size, platform: p });
    }
    const index = jsonBlob({ schemaVersion: 2, mediaType: OCI_INDEX, manifests });
    const [name, tag] = splitTag(ref);
    const top = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_INDEX,
          digest: index.digest,
          size: index.size,
          annotations: { 'io.containerd.image.name': `docker.io/library/${name}:${tag}`, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    };
    const pack = tarPack();
    const out = new PassThrough();
    pack.pipe(out);
    const fill = async () => {
      await addBlob(pack, index);
      for (const b of blobs) await addBlob(pack, b);
      const small = (name: string, v: unknown) =>
        new Promise<void>((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, JSON.stringify(v), (err) => (err ? reject(err) : resolve())));
      await small('index.json', top);
      await small('oci-layout', { imageLayoutVersion: '1.0.0' });
      pack.finalize();
    };
    fill().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
    return { archive: out, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function splitTag(ref: string): [string, string] {
  const i = ref.lastIndexOf(':');
  return i < 0 ? [ref, 'latest'] : [ref.slice(0, i), ref.slice(i + 1)];
}
