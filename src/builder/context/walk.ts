// Walks a build context directory and yields what `.dockerignore` lets through, with lstat
// data (for the context tar and the file-hash cache). Depth-first in byte order of names,
// like Docker's walk, so anything derived from it is deterministic. Excluded directories are
// not entered unless a `!` exception could re-include something below them.

import { lstat, readdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import type { DockerignoreMatcher, ParentMatchInfo } from './dockerignore.js';

export interface ContextEntry {
  /** Slash-separated path relative to the context root. */
  path: string;
  /** Absolute path on disk. */
  absPath: string;
  /** lstat data (symlinks are not followed). */
  stats: Stats;
  /**
   * The directory is itself excluded but holds re-included entries; it is yielded before
   * them so that its metadata travels with them.
   */
  implied?: boolean;
}

export interface WalkOptions {
  signal?: AbortSignal;
}

/** An excluded directory on the current path, yielded only if something below is included. */
interface Held {
  entry: ContextEntry;
  yielded: boolean;
}

const LSTAT_BATCH = 16;

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Yields every included entry under `root` (not `root` itself), parents before children. */
export function walkContext(root: string, ignore: DockerignoreMatcher | undefined, opts: WalkOptions = {}): AsyncGenerator<ContextEntry> {
  return walkDir(root, '', undefined, [], ignore, opts);
}

async function* walkDir(
  abs: string,
  rel: string,
  info: ParentMatchInfo | undefined,
  held: readonly Held[],
  ignore: DockerignoreMatcher | undefined,
  opts: WalkOptions,
): AsyncGenerator<ContextEntry> {
  opts.signal?.throwIfAborted();
  const names = (await readdir(abs)).sort(compareNames);
  let batch: Stats[] = [];
  for (let n = 0; n < names.length; n++) {
    const name = names[n]!;
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const childAbs = join(abs, name);
    if (n % LSTAT_BATCH === 0) {
      // a few lstat calls in flight at once; order is kept by consuming the batch in order
      batch = await Promise.all(names.slice(n, n + LSTAT_BATCH).map((x) => lstat(join(abs, x))));
    }
    const stats = batch[n % LSTAT_BATCH]!;
    const entry: ContextEntry = { path: childRel, absPath: childAbs, stats };
    let childInfo: ParentMatchInfo | undefined;
    if (ignore) {
      const r = ignore.matchWithParent(childRel, info);
      childInfo = r.info;
      if (r.excluded) {
        if (stats.isDirectory() && !ignore.canSkipExcludedDir(childRel)) {
          yield* walkDir(childAbs, childRel, childInfo, [...held, { entry: { ...entry, implied: true }, yielded: false }], ignore, opts);
        }
        continue;
      }
    }
    for (const h of held) {
      if (h.yielded) continue;
      h.yielded = true;
      yield h.entry;
    }
    yield entry;
    if (stats.isDirectory()) yield* walkDir(childAbs, childRel, childInfo, held, ignore, opts);
  }
}
