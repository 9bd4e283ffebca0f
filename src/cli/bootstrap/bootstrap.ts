// `berth bootstrap`: local base images without any registry, created through the Engine
// API exactly like `docker import` (POST /images/create?fromSrc=-), so it works against
// berthd or any Docker engine. An image that exists is skipped unless forced.
import type { Readable } from 'node:stream';
import type { EngineClient, ImageInspect } from '../../client/index.js';
import { BerthError, errorKind } from '../../util/index.js';
import { busyboxLayout, debianArch, foreignBusybox, type TargetPlatform } from './busybox-multiarch.js';
import { BUSYBOX_BINARY } from './busybox-rootfs.js';
import { busyboxRootfs } from './busybox-rootfs.js';
import { debianRootfs, DEFAULT_CACHE_DIR } from './debian-rootfs.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export type BaseImageKey = 'busybox' | 'debian';

export interface BaseImage {
  key: BaseImageKey;
  /** The reference it is imported as. */
  ref: string;
  /** Further tags of the same image. */
  alsoTagged: string[];
  /** docker import --change instructions. */
  changes: string[];
  rootfs(opts: BootstrapOptions): Promise<Readable>;
}

export interface BootstrapOptions {
  only?: BaseImageKey;
  /**
   * Platforms besides the host's (`linux/arm64`, comma list): busybox:latest becomes an image
   * index over the host's busybox and Debian's busybox-static of each.
   */
  platforms?: string | undefined;
  force?: boolean;
  cacheDir?: string;
  signal?: AbortSignal;
  /** Progress lines for the user ("building the Debian rootfs …"). */
  log?: (line: string) => void;
}

export interface BootstrapResult {
  ref: string;
  action: 'created' | 'skipped';
  id: string;
}

export const BASE_IMAGES: BaseImage[] = [
  {
    key: 'busybox',
    ref: 'busybox:latest',
    alsoTagged: [],
    changes: [`ENV ${DEFAULT_PATH}`, 'CMD ["sh"]'],
    rootfs: (o) => busyboxRootfs(undefined, { signal: o.signal }),
  },
  {
    key: 'debian',
    ref: 'debian:bookworm-slim',
    alsoTagged: ['debian:bookworm'],
    changes: [`ENV ${DEFAULT_PATH}`, 'CMD ["bash"]'],
    rootfs: (o) =>
      debianRootfs(o.cacheDir ?? DEFAULT_CACHE_DIR, {
        signal: o.signal,
        onBuild: () => o.log?.('debian: building the rootfs with mmdebstrap (first run only; this takes a few minutes)'),
      }),
  },
];

export function isBaseImageKey(s: string): s is BaseImageKey {
  return BASE_IMAGES.some((b) => b.key === s);
}

async function existingId(client: EngineClient, ref: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const img = await client.inspectImage<{ Id: string }>(ref, { signal });
    return img.Id;
  } catch (err) {
    if (errorKind(err) === 'not-found') return undefined;
    throw err;
  }
}

function splitRef(ref: string): [string, string] {
  const i = ref.lastIndexOf(':');
  return [ref.slice(0, i), ref.slice(i + 1)];
}

export async function bootstrap(client: EngineClient, opts: BootstrapOptions = {}): Promise<BootstrapResult[]> {
  const results: BootstrapResult[] = [];
  const platforms = targetPlatforms(opts.platforms);
  if (platforms.length > 1 && opts.only === 'debian') throw new BerthError('invalid-argument', '--platform applies to busybox only');
  for (const img of BASE_IMAGES) {
    if (opts.only && img.key !== opts.only) continue;
    if (img.key === 'busybox' && platforms.length > 1) {
      results.push(await bootstrapMultiArch(client, img, platforms, opts));
      continue;
    }
    const have = await existingId(client, img.ref, opts.signal);
    if (have && !opts.force) {
      results.push({ ref: img.ref, action: 'skipped', id: have });
      continue;
    }
    const rootfs = await img.rootfs(opts);
    opts.log?.(`${img.ref}: importing the rootfs`);
    let id = '';
    try {
      await client.importImage(rootfs, {
        repo: img.ref,
        changes: img.changes,
        message: `berth bootstrap ${img.key}`,
        signal: opts.signal,
        onMessage: (m) => {
          if (m.status?.startsWith('sha256:')) id = m.status.trim();
        },
      });
    } finally {
      rootfs.destroy();
    }
    if (!id) id = (await existingId(client, img.ref, opts.signal)) ?? '';
    for (const extra of img.alsoTagged) {
      const [repo, tag] = splitRef(extra);
      await client.tagImage(id || img.ref, repo, tag, { signal: opts.signal });
    }
    results.push({ ref: img.ref, action: 'created', id });
  }
  return results;
}

const ARCHES: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

function hostTarget(): TargetPlatform {
  const architecture = ARCHES[process.arch] ?? process.arch;
  return { os: 'linux', architecture, ...(architecture === 'arm' ? { variant: 'v7' } : {}) };
}

function platformKey(p: TargetPlatform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The host's platform first, then each other platform of a `linux/arm64,linux/riscv64` list. */
export function targetPlatforms(list: string | undefined): TargetPlatform[] {
  const out = [hostTarget()];
  for (const s of (list ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const [os, arch, variant] = s.split('/');
    if (os !== 'linux' || !arch) throw new BerthError('invalid-argument', `invalid platform "${s}": expected linux/arch[/variant]`);
    const architecture = arch === 'aarch64' ? 'arm64' : arch === 'x86_64' ? 'amd64' : arch;
    const p: TargetPlatform = { os, architecture, ...(variant && !(architecture === 'arm64' && variant === 'v8') ? { variant } : {}) };
    if (!out.some((o) => platformKey(o) === platformKey(p))) out.push(p);
  }
  return out;
}

/** The platforms `ref` already has when it names an index; undefined for a single image or none. */
async function indexPlatforms(client: EngineClient, ref: string, signal?: AbortSignal): Promise<{ id: string; platforms: string[] } | undefined> {
  try {
    const img = await client.request<ImageInspect>('GET', `/images/${encodeURIComponent(ref)}/json`, { query: { manifests: '1' }, ...(signal ? { signal } : {}) });
    if (!img.Descriptor) return undefined;
    const platforms = (img.Manifests ?? []).flatMap((m) => (m.Available && m.Descriptor.platform ? [platformKey(m.Descriptor.platform)] : []));
    return { id: img.Descriptor.digest, platforms };
  } catch (err) {
    if (errorKind(err) === 'not-found') return undefined;
    throw err;
  }
}

async function bootstrapMultiArch(client: EngineClient, img: BaseImage, platforms: TargetPlatform[], opts: BootstrapOptions): Promise<BootstrapResult> {
  const have = await indexPlatforms(client, img.ref, opts.signal);
  if (have && !opts.force && platforms.every((p) => have.platforms.includes(platformKey(p)))) return { ref: img.ref, action: 'skipped', id: have.id };
  const host = hostTarget();
  const binaries: Array<{ platform: TargetPlatform; binary: string }> = [];
  for (const p of platforms) {
    const binary = platformKey(p) === platformKey(host) ? BUSYBOX_BINARY : await foreignBusybox(opts.cacheDir ?? DEFAULT_CACHE_DIR, debianArch(p), { signal: opts.signal, log: opts.log });
    binaries.push({ platform: p, binary });
  }
  opts.log?.(`${img.ref}: loading an index for ${platforms.map(platformKey).join(', ')}`);
  const { archive, cleanup } = await busyboxLayout(img.ref, binaries, { signal: opts.signal });
  try {
    await client.loadImage(archive, { quiet: true, ...(opts.signal ? { signal: opts.signal } : {}) });
  } finally {
    archive.destroy();
    await cleanup();
  }
  const now = await indexPlatforms(client, img.ref, opts.signal);
  return { ref: img.ref, action: 'created', id: now?.id ?? '' };
}
