// berth cp: copies between a container and the host with docker's path rules —
//   into an existing directory: keeps the source's base name;
//   to a path that does not exist: the copy takes that name (its parent must exist);
//   `SRC/.`: the directory's content rather than the directory;
//   `-` as the host side: a tar on stdin or stdout.
import { lstat, stat } from 'node:fs/promises';
import { basename, dirname, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ContainersApi, GO_MODE_DIR, GO_MODE_SYMLINK } from '../../client/index.js';
import { BerthError, errorKind } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { extractToHost, packHostPath } from './container-cp-tar.js';

interface Side {
  container?: string;
  path: string;
}

/** `name:/path` is a container side; a path with a slash before the colon is a host path. */
export function splitCpArg(arg: string): Side {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon <= 0) return { path: arg };
  const slash = arg.indexOf('/');
  if (slash >= 0 && slash < colon) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

function contentsOnly(p: string): boolean {
  return p.endsWith('/.') || p === '.';
}

function baseOf(p: string): string {
  return posix.basename(p.replace(/\/+\.?$/, '')) || '/';
}

async function fromContainer(ctx: CommandContext, api: ContainersApi, src: Side, dest: string, opts: CommandOptions): Promise<void> {
  let srcPath = src.path;
  if (opts['followLink'] === true) {
    const st = await api.statPath(src.container!, srcPath);
    if ((st.mode & GO_MODE_SYMLINK) !== 0) srcPath = posix.isAbsolute(st.linkTarget) ? st.linkTarget : posix.join(posix.dirname(srcPath), st.linkTarget);
  }
  const { stat: st, body } = await api.getArchive(src.container!, srcPath);
  if (dest === '-') {
    await pipeline(body, ctx.stdout, { end: false });
    return;
  }
  const topInTar = baseOf(srcPath);
  const srcIsDir = st ? (st.mode & GO_MODE_DIR) !== 0 : false;
  const destSt = await stat(dest).catch(() => undefined);
  let dir: string;
  let to: string;
  if (destSt?.isDirectory()) {
    dir = dest;
    to = contentsOnly(src.path) ? '' : baseOf(src.path);
  } else if (destSt) {
    if (srcIsDir) throw new BerthError('invalid-argument', 'cannot copy a directory to a file');
    dir = dirname(dest);
    to = basename(dest);
  } else {
    if (dest.endsWith('/')) throw new BerthError('not-found', `destination directory ${dest} does not exist`);
    const parent = await stat(dirname(dest)).catch(() => undefined);
    if (!parent?.isDirectory()) throw new BerthError('not-found', `no such directory: ${dirname(dest)}`);
    dir = dirname(dest);
    to = basename(dest);
  }
  await extractToHost(body, dir, { from: topInTar, to, keepOwner: true });
}

async function toContainer(api: ContainersApi, src: string, dest: Side, opts: CommandOptions): Promise<void> {
  const container = dest.container!;
  const copyUIDGID = opts['archive'] === true;
  if (src === '-') {
    await api.putArchive(container, dest.path, process.stdin, { copyUIDGID });
    return;
  }
  const srcSt = await (opts['followLink'] === true ? stat(src) : lstat(src)).catch((err: NodeJS.ErrnoException) => {
    throw new BerthError('not-found', `${opts['followLink'] === true ? 'stat' : 'lstat'} ${src}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  });
  let destSt;
  try {
    destSt = await api.statPath(container, dest.path);
  } catch (err) {
    if (errorKind(err) !== 'not-found') throw err;
  }
  let dir: string;
  let topName: string;
  if (destSt && (destSt.mode & GO_MODE_DIR) !== 0) {
    dir = dest.path;
    topName = contentsOnly(src) ? '' : basename(src.replace(/\/+\.?$/, ''));
  } else if (destSt) {
    if (srcSt.isDirectory()) throw new BerthError('invalid-argument', 'cannot copy a directory to a file');
    dir = posix.dirname(dest.path);
    topName = posix.basename(dest.path);
  } else {
    if (dest.path.endsWith('/')) throw new BerthError('not-found', `destination directory ${dest.path} does not exist`);
    dir = posix.dirname(dest.path);
    // Also for SRC/.: the directory itself, sent under the new name, holds its content.
    topName = posix.basename(dest.path);
  }
  const srcPath = contentsOnly(src) && topName === '' ? src : src.replace(/\/\.$/, '');
  const tar = packHostPath(srcPath, { topName, keepOwner: copyUIDGID, followLink: opts['followLink'] === true });
  await api.putArchive(container, dir, tar as unknown as AsyncIterable<Uint8Array>, { copyUIDGID });
}

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const [a, b] = args as [string, string];
  const src = splitCpArg(a);
  const dest = splitCpArg(b);
  if (src.container && dest.container) throw new UsageError('copying between containers is not supported');
  if (!src.container && !dest.container) throw new UsageError('must specify at least one container source');
  const api = new ContainersApi(await ctx.client());
  if (src.container) await fromContainer(ctx, api, src, b, opts);
  else await toContainer(api, a, dest, opts);
  if (opts['quiet'] !== true && ctx.stderr.isTTY) ctx.warn(`Successfully copied to ${b}`);
}
