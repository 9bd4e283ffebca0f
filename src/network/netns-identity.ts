// Identity of a network namespace file (nsfs device + inode): tells the same sandbox from a
// recycled pid or a removed bind mount.
import { stat } from 'node:fs/promises';
import { invalidArgument } from '../util/index.js';

export async function netnsIdentity(path: string): Promise<{ dev: number; ino: number }> {
  try {
    const st = await stat(path);
    return { dev: st.dev, ino: st.ino };
  } catch (e) {
    throw invalidArgument(`network namespace ${path} is not accessible: ${(e as Error).message}`, e);
  }
}

export async function isSameNetns(path: string, dev: number, ino: number): Promise<boolean> {
  try {
    const st = await stat(path);
    return st.dev === dev && st.ino === ino;
  } catch {
    // Gone (the process exited, the bind mount was removed): not the same sandbox.
    return false;
  }
}
