// Content digests of files the builder reads from the daemon's own disk: local build contexts
// (`berth build` on the same host), ADD downloads. Never mtimes: a digest is over the bytes;
// stat data (size, mtime, ctime, inode, mode, device) only decide whether a file must be read
// again. The index persists in `<data-root>/builder/file-index.json` (atomic writes), so an
// unchanged file is not reread even after a daemon restart; a corrupt index is started afresh.
// Tar contexts never come here: context-intake hashes their members as they arrive.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { logger, writeFileAtomic, type Digest } from '../util/index.js';

const log = logger('builder');

/** Files kept in the stat index before the oldest half is dropped. */
const MAX_INDEX_ENTRIES = 100_000;
/**
 * A file changed less than this before it was hashed may change again without its mtime or
 * ctime moving (timestamps come from a coarse clock): its digest is used once, not remembered.
 */
const RACY_MS = 1000;

const INDEX_VERSION = 1;
const IndexFile = z.object({
  version: z.literal(INDEX_VERSION),
  /** Absolute path → [stat key, digest]. */
  files: z.record(z.string(), z.tuple([z.string(), z.string().regex(/^sha256:[0-9a-f]{64}$/)])),
});

function statKey(st: Stats): string {
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.mode}:${st.dev}`;
}

export class FileHasher {
  private readonly index = new Map<string, { key: string; digest: Digest }>();
  private dirty = false;
  private flushing: Promise<void> = Promise.resolve();
  /** Files read and hashed / answered from the index, since start (bench and tests). */
  readonly counts = { hashed: 0, reused: 0 };

  /**
   * In-memory only unless `indexPath` is given (see `open`). `racyMs`: how recently changed a
   * file may be and still be remembered (tests pass 0).
   */
  constructor(
    private readonly indexPath?: string,
    private readonly racyMs = RACY_MS,
  ) {}

  /** A hasher whose index is loaded from (and flushed to) `indexPath`; a bad file is ignored. */
  static async open(indexPath: string, opts: { racyMs?: number } = {}): Promise<FileHasher> {
    const h = new FileHasher(indexPath, opts.racyMs);
    let text: string | undefined;
    try {
      text = await readFile(indexPath, 'utf8');
    } catch (err) {
      // Absent on a first start; unreadable is a lost cache, never a reason not to start.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        log.warn('cannot read the file-hash index, starting a new one', { path: indexPath, error: String(err) });
        h.dirty = true;
      }
    }
    if (text !== undefined) {
      let parsed: z.infer<typeof IndexFile> | undefined;
      try {
        parsed = IndexFile.parse(JSON.parse(text));
      } catch (err) {
        // Only a cache: every file is hashed again and the index rewritten by the next flush.
        log.warn('file-hash index is unreadable, starting a new one', { path: indexPath, error: String(err) });
        h.dirty = true;
      }
      for (const [path, [key, digest]] of Object.entries(parsed?.files ?? {})) h.index.set(path, { key, digest: digest as Digest });
    }
    return h;
  }

  private remember(abs: string, key: string, digest: Digest): void {
    if (this.index.size >= MAX_INDEX_ENTRIES && !this.index.has(abs)) {
      let n = 0;
      for (const k of this.index.keys()) {
        this.index.delete(k);
        if (++n >= MAX_INDEX_ENTRIES / 2) break;
      }
    }
    this.index.delete(abs); // re-inserted last: the oldest entries are the first dropped
    this.index.set(abs, { key, digest });
    this.dirty = true;
  }

  /** sha256 of a regular file's bytes or of a symlink's target text. */
  async digestOf(abs: string, st?: Stats, opts: { signal?: AbortSignal } = {}): Promise<Digest> {
    const s = st ?? (await lstat(abs));
    const key = statKey(s);
    const hit = this.index.get(abs);
    if (hit && hit.key === key) {
      this.counts.reused++;
      return hit.digest;
    }
    const startedAt = Date.now();
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
    this.counts.hashed++;
    if (Math.max(s.mtimeMs, s.ctimeMs) < startedAt - this.racyMs || this.racyMs === 0) this.remember(abs, key, digest);
    else if (hit) {
      this.index.delete(abs);
      this.dirty = true;
    }
    return digest;
  }

  /** Writes the index when it changed (atomic: temp file + rename); concurrent calls queue. */
  flush(): Promise<void> {
    if (!this.indexPath) return Promise.resolve();
    const path = this.indexPath;
    this.flushing = this.flushing.catch(() => undefined).then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const files: Record<string, [string, string]> = {};
      for (const [p, e] of this.index) files[p] = [e.key, e.digest];
      try {
        await writeFileAtomic(path, JSON.stringify({ version: INDEX_VERSION, files }));
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    });
    return this.flushing;
  }
}
