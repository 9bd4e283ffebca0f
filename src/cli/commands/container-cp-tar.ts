// The host side of `berth cp`: a tar of a host path (top entry renamed as docker does) to
// send into a container, and the extraction of a container's tar onto the host that never
// writes outside its target, whatever the archive holds.
import { createReadStream, createWriteStream } from 'node:fs';
import { chown, lchown, link, lstat, mkdir, readdir, readlink, rm, stat, symlink, utimes } from 'node:fs/promises';
import { dirname, join, posix, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Header, type Pack } from 'tar-stream';
import { BerthError } from '../../util/index.js';

export interface PackOptions {
  /** Name of the top entry in the archive ('' puts the directory's children at the top). */
  topName: string;
  /** Keep uid/gid (`-a`); otherwise entries are owned by root, as docker sends them. */
  keepOwner: boolean;
  /** Follow the source itself when it is a symlink (`-L`). */
  followLink: boolean;
}

async function entryDone(p: Pack, header: Partial<Header> & { name: string }, body?: Readable): Promise<void> {
  if (!body) {
    await new Promise<void>((resolvePromise, reject) => p.entry(header, (err) => (err ? reject(err) : resolvePromise())));
    return;
  }
  // tar-stream's entries are streamx streams; Node's pipeline drives them like Writables.
  await pipeline(body, p.entry(header) as unknown as NodeJS.WritableStream);
}

/** Streams a tar of `src` (file, directory tree or symlink). The caller consumes the pack. */
export function packHostPath(src: string, opts: PackOptions): Pack {
  const p = pack();
  const owner = (st: { uid: number; gid: number }) => (opts.keepOwner ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 });
  const walk = async (path: string, name: string, top: boolean): Promise<void> => {
    const st = top && opts.followLink ? await stat(path) : await lstat(path);
    const common = { mode: st.mode & 0o7777, mtime: st.mtime, ...owner(st) };
    if (st.isDirectory()) {
      if (name) await entryDone(p, { ...common, name: `${name}/`, type: 'directory' });
      for (const child of (await readdir(path)).sort()) await walk(join(path, child), name ? `${name}/${child}` : child, false);
    } else if (st.isSymbolicLink()) {
      await entryDone(p, { ...common, name, type: 'symlink', linkname: await readlink(path) });
    } else if (st.isFile()) {
      await entryDone(p, { ...common, name, type: 'file', size: st.size }, createReadStream(path));
    }
    // Sockets, fifos and devices are not copied (docker cp skips them too).
  };
  walk(src, opts.topName, true).then(
    () => p.finalize(),
    (err: unknown) => p.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return p;
}

/**
 * A directory between the target root and an entry that is a symlink (placed there by an
 * earlier entry, or already on the host) could redirect the write outside the target.
 */
async function refuseSymlinkAncestors(root: string, dir: string, name: string): Promise<void> {
  if (dir === root) return;
  let cur = root;
  for (const part of dir.slice(root.length + 1).split(sep)) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) return;
    if (st.isSymbolicLink()) throw new BerthError('invalid-argument', `refusing to extract "${name}" through the symlink ${cur}`);
  }
}

/**
 * Extracts a tar into `destDir`. `rename` maps the archive's top component (e.g. the
 * container path's base name) to another name, or drops it when `''`.
 */
export async function extractToHost(tar: Readable, destDir: string, opts: { from: string; to: string; keepOwner: boolean }): Promise<void> {
  const root = resolve(destDir);
  const ex = extract();
  const dirTimes: { path: string; mtime: Date }[] = [];
  const target = (name: string): string | undefined => {
    const clean = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
    const parts = clean.split('/');
    if (parts[0] === opts.from) {
      if (opts.to === '') parts.shift();
      else parts[0] = opts.to;
    }
    if (parts.length === 0 || (parts.length === 1 && parts[0] === '')) return root;
    const full = resolve(root, ...parts);
    if (full !== root && !full.startsWith(root + sep)) throw new BerthError('invalid-argument', `refusing to extract "${name}": it points outside ${root}`);
    return full;
  };
  ex.on('entry', (header, stream, next) => {
    const go = async () => {
      const path = target(header.name)!;
      const mode = (header.mode ?? 0o644) & 0o7777;
      const parent = dirname(path);
      await refuseSymlinkAncestors(root, parent, header.name);
      switch (header.type) {
        case 'directory':
          await mkdir(path, { recursive: true, mode });
          dirTimes.push({ path, mtime: header.mtime ?? new Date() });
          stream.resume();
          break;
        case 'file':
        case 'contiguous-file':
          await mkdir(parent, { recursive: true });
          // A directory in the way makes the write below fail with its own clear error.
          await rm(path, { force: true, recursive: false }).catch(() => undefined);
          await pipeline(stream, createWriteStream(path, { mode }));
          await utimes(path, header.mtime ?? new Date(), header.mtime ?? new Date());
          break;
        case 'symlink':
          await mkdir(parent, { recursive: true });
          await rm(path, { force: true });
          await symlink(header.linkname ?? '', path);
          stream.resume();
          break;
        case 'link': {
          const to = target(header.linkname ?? '')!;
          await rm(path, { force: true });
          await link(to, path);
          stream.resume();
          break;
        }
        default:
          stream.resume();
          return;
      }
      if (opts.keepOwner && process.getuid?.() === 0 && header.uid !== undefined && header.gid !== undefined) {
        await (header.type === 'symlink' ? lchown : chown)(path, header.uid, header.gid);
      }
    };
    go().then(() => next(), (err: unknown) => next(err instanceof Error ? err : new Error(String(err))));
  });
  await pipeline(tar, ex);
  // Directory times are cosmetic; a directory replaced meanwhile is not an error.
  for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime).catch(() => undefined);
}
