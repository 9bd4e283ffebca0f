import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, rename, rm, symlink, utimes } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { invalidArgument } from '../../util/index.js';
import { isEnoent } from '../metadata-file.js';
import { extractLayer, type ExtractResult } from './extract.js';

const MAX_LINK_HOPS = 40;

async function lstatOrUndefined(path: string) {
  return lstat(path).catch((err: unknown) => {
    if (isEnoent(err)) return undefined;
    throw err;
  });
}

/**
 * Resolves `path` (inside `root`) the way a process chrooted at `root` would see it: symlinks are
 * followed, absolute targets and `..` are clamped at `root`. Returns a host path inside `root`.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const rel = relative(root, path);
  if (rel.startsWith('..')) throw invalidArgument(`path "${path}" is outside "${root}"`);
  let pending = rel.split(sep).filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const cur = join(root, ...done, c);
    const st = await lstatOrUndefined(cur);
    if (!st?.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++hops > MAX_LINK_HOPS) throw invalidArgument(`too many levels of symbolic links at "${cur}"`);
    const target = await readlink(cur);
    const comps = target.split('/').filter((t) => t !== '' && t !== '.');
    if (target.startsWith('/')) done.length = 0;
    pending = [...comps, ...pending];
  }
  return join(root, ...done);
}

/**
 * Moves the tree `src` into `dst` without ever following a symlink of `dst` out of `root`:
 * directories on both sides are merged (taking the archive's mode, owner and mtime); a directory
 * landing on a symlink goes where the link points when resolved inside `root` (as `docker cp` in a
 * chroot would); anything else is replaced by rename, which acts on the name, not on a link's target.
 */
async function mergeInto(root: string, src: string, dst: string, rel: string): Promise<void> {
  for (const name of await readdir(src)) {
    const from = join(src, name);
    let to = join(dst, name);
    const relName = rel ? `${rel}/${name}` : name;
    const s = await lstat(from);
    let d = await lstatOrUndefined(to);
    if (s.isDirectory() && d?.isSymbolicLink()) {
      to = await resolveInRoot(root, to);
      d = await lstatOrUndefined(to);
    }
    if (s.isDirectory() && d?.isDirectory()) {
      await mergeInto(root, from, to, relName);
      await lchown(to, s.uid, s.gid);
      await chmod(to, s.mode & 0o7777);
      await utimes(to, s.atime, s.mtime);
      continue;
    }
    if (d?.isDirectory()) throw invalidArgument(`cannot overwrite directory "${relName}" with a non-directory`);
    if (d && s.isDirectory()) throw invalidArgument(`cannot overwrite non-directory "${relName}" with a directory`);
    try {
      await rename(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      // `to` is on another mount (a volume below dest): copy instead of moving.
      if (d) await rm(to, { force: true });
      await copyTree(from, to, relName);
    }
  }
}

/** Copies a fresh tree to a path that does not exist, keeping owners, modes and mtimes. */
async function copyTree(from: string, to: string, relName: string): Promise<void> {
  const st = await lstat(from);
  if (st.isDirectory()) {
    await mkdir(to, { mode: 0o700 });
    for (const name of await readdir(from)) await copyTree(join(from, name), join(to, name), `${relName}/${name}`);
  } else if (st.isSymbolicLink()) {
    await symlink(await readlink(from), to);
  } else if (st.isFile()) {
    await copyFile(from, to, fsConstants.COPYFILE_EXCL);
  } else {
    throw invalidArgument(`cannot copy special file "${relName}" onto another mount`);
  }
  await lchown(to, st.uid, st.gid);
  if (!st.isSymbolicLink()) await chmod(to, st.mode & 0o7777);
  await lutimes(to, st.atime, st.mtime);
}

/**
 * Unpacks a plain tar (gzip, zstd or none) into `dest`, an existing directory of a tree `root`
 * that may hold anything, including symlinks planted by a container (`docker cp - ctr:/dir`).
 * The archive is unpacked with every safety check into a fresh directory inside `dest`, then
 * merged into `dest` with renames resolved inside `root`. `.wh.*` members stay ordinary files.
 * A container that swaps a directory for a symlink while this runs can still race the merge;
 * stop or pause it for untrusted workloads.
 */
export async function extractArchive(
  input: Readable,
  dest: string,
  opts: { root?: string; signal?: AbortSignal; asRoot?: boolean; timeoutMs?: number } = {},
): Promise<ExtractResult> {
  const root = opts.root ?? dest;
  const target = await resolveInRoot(root, dest);
  const staging = join(target, `.berth-extract-${randomBytes(8).toString('hex')}`);
  await mkdir(staging, { mode: 0o700 });
  try {
    const result = await extractLayer(input, staging, { signal: opts.signal, asRoot: opts.asRoot, timeoutMs: opts.timeoutMs, whiteouts: false });
    await mergeInto(root, staging, target, '');
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
