// Resolves a path inside a root (an image rootfs, a volume's `_data`) the way the
// kernel would if the root were `/`: symlinks are followed but never leave the root.
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { BerthError } from '../util/index.js';

const MAX_SYMLINKS = 255;

/**
 * `root` + `unsafePath` with every symlink resolved inside `root`. Missing components
 * are kept as they are (the result may not exist).
 */
export async function secureJoin(root: string, unsafePath: string): Promise<string> {
  const pending = unsafePath.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = posix.join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++hops > MAX_SYMLINKS) throw new BerthError('invalid-argument', `resolve "${unsafePath}": too many levels of symbolic links`);
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return posix.join(root, ...resolved);
}

/** True when `rel` is a relative path that stays inside its base (`a/b`, not `../x` or `/x`). */
export function isLocalPath(rel: string): boolean {
  if (rel === '' || rel.startsWith('/')) return false;
  const n = posix.normalize(rel);
  return n !== '..' && !n.startsWith('../');
}
