// `berth bootstrap`: local base images without any registry, created through the Engine
// API exactly like `docker import` (POST /images/create?fromSrc=-), so it works against
// berthd or any Docker engine. An image that exists is skipped unless forced.
import type { Readable } from 'node:stream';
import type { EngineClient } from '../../client/index.js';
import { errorKind } from '../../util/index.js';
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
  for (const img of BASE_IMAGES) {
    if (opts.only && img.key !== opts.only) continue;
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
