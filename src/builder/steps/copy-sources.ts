// Where COPY/ADD sources come from: the context spool or a mounted rootfs, seen through one
// SourceNode shape; Go filepath.Match globs; --chown names from the image's /etc files; ADD's
// archive sniffing and URL downloads.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, open, readFile, readdir, readlink, rm } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { randomBytes, type Hash } from 'node:crypto';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { resolveInRoot } from '../../runtime/index.js';
import { BerthError } from '../../util/index.js';
import type { ContextFiles, IntakeEntry } from '../context-intake.js';
import type { StepContext } from './step.js';

/** A file, directory or symlink to copy, from the context spool or a mounted rootfs. */
export interface SourceNode {
  type: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size: number;
  linkname(): Promise<string>;
  /** Whole content (small files). */
  data(): Promise<Buffer>;
  stream(): Readable;
  head(n: number): Promise<Buffer>;
}

export interface ResolvedSource {
  /** The matched path relative to the source root (`''` = root). */
  path: string;
  node: SourceNode;
  /** Downloaded (ADD URL) or inline (`COPY <<EOF`): name under a directory dest. */
  name?: string;
  /** A download: mode and mtime come from the download, not the temp file. */
  download?: { mtime: Date };
  inline?: string;
}

export function diskNode(abs: string, st: Stats): SourceNode {
  return {
    type: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtime,
    size: st.size,
    linkname: () => readlink(abs),
    data: () => readFile(abs),
    stream: () => createReadStream(abs),
    head: (n) => readHead(abs, n),
  };
}

export function contextNode(spool: ContextFiles, e: IntakeEntry): SourceNode {
  return {
    type: e.type,
    mode: e.mode,
    uid: 0,
    gid: 0,
    mtime: e.mtime,
    size: e.size,
    linkname: async () => e.linkname ?? '',
    data: () => spool.read(e),
    stream: () => spool.stream(e),
    head: (n) => spool.read(e, n),
  };
}

export const CONTEXT_ROOT: IntakeEntry = { type: 'dir', mode: 0o755, size: 0, mtime: new Date(0) };

/** Context members under `dir` (`''` = all), parents first, paths relative to `dir`. */
export function* contextDescendants(ctx: StepContext, dir: string): Generator<[string, SourceNode]> {
  const prefix = dir === '' ? '' : dir + '/';
  const found: Array<[string, IntakeEntry]> = [];
  for (const [p, e] of ctx.context.entries) if (p.startsWith(prefix) && p !== dir) found.push([p.slice(prefix.length), e]);
  found.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  for (const [rel, e] of found) yield [rel, contextNode(ctx.context.spool, e)];
}

export const GLOB = /[*?[]/;

/** filepath.Match as a RegExp over a whole slash-separated path. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new BerthError('invalid-argument', `syntax error in pattern "${pattern}"`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function cleanRel(p: string): string {
  return posix.normalize('/' + p).slice(1).replace(/\/$/, '');
}

export function isUrl(s: string): boolean {
  return /^https?:\/\//.test(s);
}

export async function parseOwner(rootfs: string, chown: string): Promise<{ uid: number; gid: number }> {
  const [u, g] = chown.split(':') as [string, string | undefined];
  const readDb = async (file: string) => (await readFile(await resolveInRoot(rootfs, file), 'utf8').catch(() => '')).split('\n').map((l) => l.split(':'));
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) uid = Number(u);
  else {
    const row = (await readDb('/etc/passwd')).find((r) => r[0] === u);
    if (!row) throw new BerthError('invalid-argument', `unable to find user ${u}: no matching entries in passwd file`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const row = (await readDb('/etc/group')).find((r) => r[0] === g);
      if (!row) throw new BerthError('invalid-argument', `unable to find group ${g}: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid: gid ?? uid };
}

/** Descendants of a directory on disk, parents first, names sorted. */
export async function* walk(abs: string, rel: string): AsyncGenerator<[string, SourceNode]> {
  const names = (await readdir(abs)).sort();
  for (const n of names) {
    const r = rel ? `${rel}/${n}` : n;
    const a = join(abs, n);
    const st = await lstat(a);
    yield [r, diskNode(a, st)];
    if (st.isDirectory()) yield* walk(a, r);
  }
}

export function isTarArchive(head: Buffer): 'gzip' | 'tar' | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}

export async function readHead(abs: string, n: number): Promise<Buffer> {
  const fh = await open(abs, 'r');
  try {
    const b = Buffer.alloc(n);
    const { bytesRead } = await fh.read(b, 0, n, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Downloads `url` into a temp file in `dir`; with `hash`, the bytes are hashed on the way. */
export async function download(
  url: string,
  dir: string,
  signal: AbortSignal,
  hash?: Hash,
): Promise<{ abs: string; name: string; mtime: Date }> {
  const u = new URL(url);
  const res = await fetch(url, { signal });
  if (!res.ok || !res.body) throw new BerthError('invalid-argument', `cannot download "${url}": HTTP ${res.status}`);
  const abs = join(dir, `dl-${randomBytes(8).toString('hex')}`);
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  try {
    if (hash) body.on('data', (c: Buffer) => hash.update(c));
    await pipeline(body, createWriteStream(abs, { mode: 0o600 }), { signal });
  } catch (err) {
    await rm(abs, { force: true });
    throw err;
  }
  const lm = res.headers.get('last-modified');
  return { abs, name: posix.basename(u.pathname) || 'index.html', mtime: lm ? new Date(lm) : new Date() };
}

/** Context paths a source names: the path itself, or glob matches. */
export function matchContext(ctx: StepContext, src: string): string[] {
  const c = cleanRel(src);
  if (!GLOB.test(src)) {
    if (c === '' || ctx.context.entries.has(c)) return [c];
    return [];
  }
  const re = globToRegExp(c);
  return [...ctx.context.entries.keys()].filter((p) => re.test(p)).sort();
}
