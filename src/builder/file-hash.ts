// Content digests of files the builder reads from disk (ADD downloads). Never mtimes: a digest
// is over the bytes; stat data (size, mtime, ino, mode, dev) only decide whether a file must be
// read again. Context members never come here: context-intake hashes them as they arrive.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../util/index.js';

/** Files kept in the in-memory stat index before the oldest half is dropped. */
const MAX_INDEX_ENTRIES = 200_000;

function statKey(st: Stats): string {
  return `${st.size}:${st.mtimeMs}:${st.ino}:${st.mode}:${st.dev}`;
}

export class FileHasher {
  private readonly index = new Map<string, { key: string; digest: Digest }>();

  private remember(abs: string, key: string, digest: Digest): void {
    if (this.index.size >= MAX_INDEX_ENTRIES) {
      let n = 0;
      for (const k of this.index.keys()) {
        this.index.delete(k);
        if (++n >= MAX_INDEX_ENTRIES / 2) break;
      }
    }
    this.index.set(abs, { key, digest });
  }

  /** sha256 of a regular file's bytes or of a symlink's target text. */
  async digestOf(abs: string, st?: Stats, opts: { signal?: AbortSignal } = {}): Promise<Digest> {
    const s = st ?? (await lstat(abs));
    const key = statKey(s);
    const hit = this.index.get(abs);
    if (hit && hit.key === key) return hit.digest;
    let digest: Digest;
    if (s.isSymbolicLink()) {
      digest = `sha256:${createHash('sha256').update(await readlink(abs)).digest('hex')}` as Digest;
    } else if (s.isFile()) {
      const h = createHash('sha256');
      await pipeline(createReadStream(abs), h, opts.signal ? { signal: opts.signal } : {});
      digest = `sha256:${h.digest('hex')}` as Digest;
    } else {
      digest = `sha256:${createHash('sha256').update('').digest('hex')}` as Digest;
    }
    this.remember(abs, key, digest);
    return digest;
  }
}
