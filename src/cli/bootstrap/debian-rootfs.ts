// The rootfs of `debian:bookworm-slim`: `mmdebstrap --variant=minbase` from the machine's
// Debian mirror, cached as one tarball so a second bootstrap is instant. The tarball is
// written under a temp name and renamed, so an interrupted run never leaves a bad cache.
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, run } from '../../util/index.js';

export const DEFAULT_CACHE_DIR = '/var/cache/berth';
export const DEBIAN_SUITE = 'bookworm';
export const DEBIAN_TARBALL = `debian-${DEBIAN_SUITE}-minbase.tar`;
/** mmdebstrap downloads and unpacks ~90 packages; a slow mirror can take minutes. */
const MMDEBSTRAP_TIMEOUT_MS = 15 * 60_000;

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    // Missing (or unreadable, which the later open reports): not cached.
    return false;
  }
}

export function debianTarballPath(cacheDir = DEFAULT_CACHE_DIR): string {
  return join(cacheDir, DEBIAN_TARBALL);
}

/** Returns the cached tarball, building it with mmdebstrap first when absent. */
export async function ensureDebianTarball(
  cacheDir = DEFAULT_CACHE_DIR,
  opts: { signal?: AbortSignal; onBuild?: () => void } = {},
): Promise<string> {
  const target = debianTarballPath(cacheDir);
  if (await exists(target)) return target;
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });
  opts.onBuild?.();
  const tmp = join(cacheDir, `.${DEBIAN_TARBALL}.tmp-${process.pid}-${randomUUID()}`);
  try {
    await run('mmdebstrap', ['--quiet', '--variant=minbase', '--format=tar', DEBIAN_SUITE, tmp], {
      timeoutMs: MMDEBSTRAP_TIMEOUT_MS,
      signal: opts.signal,
    });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || /cannot run mmdebstrap/.test(String((err as Error).message))) {
      throw new BerthError('not-found', 'build the Debian rootfs: mmdebstrap is not installed (apt-get install mmdebstrap)', { cause: err });
    }
    throw new BerthError('unavailable', `build the Debian rootfs with mmdebstrap: ${(err as Error).message}`, { cause: err });
  }
  return target;
}

export async function debianRootfs(cacheDir = DEFAULT_CACHE_DIR, opts: { signal?: AbortSignal; onBuild?: () => void } = {}): Promise<Readable> {
  return createReadStream(await ensureDebianTarball(cacheDir, opts));
}
