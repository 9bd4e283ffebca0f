// A build context read in place from a directory on the daemon's host (`berth build` over the
// local socket sends the path instead of a tar): walked with `.dockerignore` applied, each
// file's digest taken from the stat-keyed FileHasher index (an unchanged file is never read),
// COPY reading the files where they are. The entries look exactly like a tar intake's (mode,
// whole-second mtime, symlink digests) so both give the same cache keys and layers.
import { open, readlink, lstat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { isAbsolute } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError, invalidArgument, logger, type Digest } from '../util/index.js';
import { createHash } from 'node:crypto';
import { loadDockerignore, walkContext } from './context/index.js';
import { writeContextTree, type ContextFiles, type IntakeEntry, type IntakeResult } from './context-intake.js';
import type { FileHasher } from './file-hash.js';

const log = logger('builder');

/** Files hashed at the same time on a cold index. */
const HASH_PARALLEL = 4;

class DirectoryFiles implements ContextFiles {
  private materialized: Promise<string> | undefined;

  constructor(
    private readonly entries: Map<string, IntakeEntry>,
    private readonly treeDir: string,
  ) {}

  async read(e: IntakeEntry, max = e.size): Promise<Buffer> {
    const n = Math.min(max, e.size);
    const buf = Buffer.alloc(n);
    if (n === 0) return buf;
    const fh = await open(pathOf(e), 'r');
    try {
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      if (bytesRead !== n) throw new BerthError('conflict', `build context file "${pathOf(e)}" changed while it was read`);
    } finally {
      await fh.close();
    }
    return buf;
  }

  stream(e: IntakeEntry): Readable {
    if (e.size === 0) return Readable.from([]);
    return createReadStream(pathOf(e), { start: 0, end: e.size - 1 });
  }

  materialize(): Promise<string> {
    this.materialized ??= writeContextTree(this.entries, this.treeDir, (e) => this.stream(e));
    return this.materialized;
  }

  async close(): Promise<void> {
    // Nothing held open: files are opened per read.
  }
}

function pathOf(e: IntakeEntry): string {
  if (!e.path) throw new BerthError('internal', 'local context entry without a path');
  return e.path;
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/**
 * Indexes the directory `root` as a build context (`dockerfile` relative to it). Files are
 * hashed through `hasher` (its index is flushed at the end); `treeDir` is where a bind mount
 * of the context gets its copy.
 */
export async function readLocalContext(
  root: string,
  dockerfile: string,
  hasher: FileHasher,
  treeDir: string,
  opts: { signal?: AbortSignal } = {},
): Promise<IntakeResult> {
  if (!isAbsolute(root)) throw invalidArgument(`local build context "${root}" is not an absolute path`);
  const st = await lstat(root).catch((err: unknown) => {
    throw invalidArgument(`local build context "${root}" is not accessible: ${(err as Error).message}`, err);
  });
  if (!st.isDirectory()) throw invalidArgument(`local build context "${root}" is not a directory`);
  const ignore = await loadDockerignore(root, dockerfile, opts);
  const matcher = ignore?.matcher.keeping([dockerfile, '.dockerignore']);
  const entries = new Map<string, IntakeEntry>();
  let bytes = 0;
  let pending: Array<Promise<void>> = [];
  for await (const e of walkContext(root, matcher, opts)) {
    const s = e.stats;
    const mtime = wholeSeconds(s.mtimeMs);
    if (s.isDirectory()) entries.set(e.path, { type: 'dir', mode: s.mode & 0o7777, size: 0, mtime });
    else if (s.isSymbolicLink()) {
      const target = await readlink(e.absPath);
      const digest = `sha256:${createHash('sha256').update(target).digest('hex')}` as Digest;
      entries.set(e.path, { type: 'symlink', mode: 0o777, size: 0, mtime, linkname: target, digest });
    } else if (s.isFile()) {
      const entry: IntakeEntry = { type: 'file', mode: s.mode & 0o7777, size: s.size, mtime, path: e.absPath };
      entries.set(e.path, entry);
      bytes += s.size;
      pending.push(
        hasher.digestOf(e.absPath, s, opts).then(
          (d) => {
            entry.digest = d;
          },
          (err: unknown) => {
            if (err instanceof Error && err.name === 'AbortError') throw err;
            throw invalidArgument(`cannot read build context file "${e.path}": ${(err as Error).message}`, err);
          },
        ),
      );
      if (pending.length >= HASH_PARALLEL) {
        await Promise.all(pending);
        pending = [];
      }
    }
    // Sockets, fifos and devices are left out, as the CLI's tar leaves them out.
  }
  await Promise.all(pending);
  await hasher.flush().catch((err: unknown) => {
    // The index only saves work: the build goes on, the next one hashes again.
    log.warn('cannot write the file-hash index', { error: String(err) });
  });
  return { entries, bytes, spool: new DirectoryFiles(entries, treeDir) };
}
