// Copy-up: a volume that is empty on its first use gets the image's content at the
// mount path, with owners, modes, timestamps, hardlinks and xattrs kept (like Docker).
// `cp -a` is one process; a `tar | tar` pipe costs two and was not faster here
// (docs/volumes.md has the measurements).
import { chmod, chown, lstat, opendir } from 'node:fs/promises';
import { BerthError, run } from '../util/index.js';
import { COPY_UP_TIMEOUT_MS } from './constants.js';

export async function isEmptyDir(dir: string): Promise<boolean> {
  const d = await opendir(dir);
  try {
    return (await d.read()) === null;
  } finally {
    await d.close().catch(() => {
      // Closing after a completed read cannot lose data; an already-closed handle is harmless.
    });
  }
}

/**
 * Copies the contents of `fromDir` into the empty directory `toDir`, then gives `toDir`
 * the owner and mode of `fromDir` (Docker copies these even when `fromDir` is empty).
 * Returns false when `fromDir` is not a directory (nothing to copy).
 */
export async function copyDirContents(fromDir: string, toDir: string, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
  let st;
  try {
    st = await lstat(fromDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (!st.isDirectory()) return false;
  if (!(await isEmptyDir(fromDir))) {
    try {
      await run('cp', ['-a', '--', `${fromDir}/.`, `${toDir}/`], { timeoutMs: COPY_UP_TIMEOUT_MS, signal: opts.signal });
    } catch (err) {
      throw new BerthError('internal', `copy image content "${fromDir}" into volume: ${(err as Error).message}`, { cause: err });
    }
  }
  await chown(toDir, st.uid, st.gid);
  await chmod(toDir, st.mode & 0o7777);
  return true;
}
