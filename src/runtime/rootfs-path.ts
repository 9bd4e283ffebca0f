// Path resolution inside a container rootfs as the container will see it: symlinks
// (absolute or relative) are followed with the rootfs as `/`, so nothing resolves outside.
import { lstat, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';

const MAX_SYMLINKS = 40;

/**
 * Resolves `path` (absolute, as seen in the container) to a host path under `root`.
 * Missing trailing components are kept as they are (the result may not exist).
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const pending = posix.normalize('/' + path).split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let isLink = false;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch {
      // A missing component: nothing more to resolve; keep the rest literally.
      done.push(part, ...pending.filter((p) => p !== '.'));
      return join(root, ...done);
    }
    if (!isLink) {
      done.push(part);
      continue;
    }
    if (++hops > MAX_SYMLINKS) return join(root, ...done, part, ...pending);
    const target = await readlink(host);
    const parts = target.split('/').filter(Boolean);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...parts);
  }
  return join(root, ...done);
}
