// Bytes used by a volume, as Docker counts them for `system df -v`: the apparent size of
// every non-directory, hardlinked files once. The walk never follows symlinks.
import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';

export async function directorySize(dir: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
  let total = 0;
  const seenLinks = new Set<string>();
  const stack = [dir];
  while (stack.length > 0) {
    opts.signal?.throwIfAborted();
    const cur = stack.pop()!;
    let d;
    try {
      d = await opendir(cur);
    } catch (err) {
      // A directory removed or made unreadable meanwhile counts as empty, like Docker's walk.
      if (['ENOENT', 'EACCES', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) continue;
      throw err;
    }
    for await (const ent of d) {
      const p = join(cur, ent.name);
      if (ent.isDirectory()) {
        stack.push(p);
        continue;
      }
      let st;
      try {
        st = await lstat(p, { bigint: false });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seenLinks.has(key)) continue;
        seenLinks.add(key);
      }
      total += st.size;
    }
  }
  return total;
}
