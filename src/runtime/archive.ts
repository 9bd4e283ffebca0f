// Filesystem access to a container: `docker cp` (archive GET/HEAD/PUT), `docker export`,
// `docker diff` (overlay upper dir → changes). A stopped container's rootfs is mounted for
// the time of the operation. Streams are tar; GNU tar does the packing, and unpacking goes
// through storage's validating extractor.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, notFound, spawnStreaming } from '../util/index.js';
import { INIT_PATH, NETWORK_FILES } from './oci-spec.js';
import { resolveInRoot } from './rootfs-path.js';

/** How long one archive may take to stream. */
export const ARCHIVE_TIMEOUT_MS = 30 * 60_000;

export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits, as the docker CLI decodes them. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

/** Unix st_mode → Go FileMode. */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  const type = mode & 0o170000;
  if (type === 0o040000) m += GO_DIR;
  else if (type === 0o120000) m += GO_SYMLINK;
  else if (type === 0o060000) m += GO_DEVICE;
  else if (type === 0o020000) m += GO_DEVICE + GO_CHARDEV;
  else if (type === 0o010000) m += GO_PIPE;
  else if (type === 0o140000) m += GO_SOCKET;
  if (mode & 0o4000) m += GO_SETUID;
  if (mode & 0o2000) m += GO_SETGID;
  if (mode & 0o1000) m += GO_STICKY;
  return m;
}

/**
 * The host path of a container path: parents resolved inside the rootfs, the last
 * component kept as is (a symlink is reported, not followed), as dockerd does.
 */
export async function hostPathOf(rootfs: string, containerPath: string): Promise<string> {
  const clean = posix.normalize('/' + containerPath);
  if (clean === '/') return rootfs;
  const followLast = containerPath.endsWith('/') || containerPath.endsWith('/.');
  if (followLast) return resolveInRoot(rootfs, clean);
  const parent = await resolveInRoot(rootfs, posix.dirname(clean));
  return join(parent, posix.basename(clean));
}

export async function statPath(rootfs: string, containerPath: string, containerRef: string): Promise<PathStat> {
  const host = await hostPathOf(rootfs, containerPath);
  const st = await lstat(host).catch(() => undefined);
  if (!st) throw notFound(`Could not find the file ${containerPath} in container ${containerRef}`);
  return {
    name: basename(containerPath.replace(/\/+\.?$/, '')) || '/',
    size: st.size,
    mode: goFileMode(st.mode),
    mtime: st.mtime.toISOString(),
    linkTarget: st.isSymbolicLink() ? await readlink(host) : '',
  };
}

/** A tar of `containerPath` whose top entry is its base name (`docker cp ctr:/a/b .`). */
export function tarPath(hostPath: string, opts: { signal?: AbortSignal } = {}): { stream: Readable; done: Promise<number> } {
  const parent = dirname(hostPath);
  const base = basename(hostPath);
  const child = spawnStreaming('tar', ['-c', '-f', '-', '-C', parent, '--numeric-owner', '--xattrs', '--', base], {
    timeoutMs: ARCHIVE_TIMEOUT_MS,
    signal: opts.signal,
  });
  child.stdin.end();
  return { stream: child.stdout, done: child.done };
}

/** `docker export`: the whole rootfs as a tar. */
export function tarRootfs(rootfs: string, opts: { signal?: AbortSignal } = {}): { stream: Readable; done: Promise<number> } {
  const child = spawnStreaming('tar', ['-c', '-f', '-', '-C', rootfs, '--numeric-owner', '--xattrs', '.'], {
    timeoutMs: ARCHIVE_TIMEOUT_MS,
    signal: opts.signal,
  });
  child.stdin.end();
  return { stream: child.stdout, done: child.done };
}

export interface Change {
  path: string;
  /** 0 modified, 1 added, 2 deleted (Docker's ChangeType). */
  kind: 0 | 1 | 2;
}

/** What berth makes in a container's rootfs, which dockerd keeps in the init layer below it. */
const GENERATED = new Set(['/.dockerenv', INIT_PATH, ...NETWORK_FILES.map(([, dest]) => dest)].map((p) => p.slice(1)));

/** Whether `rel` (relative to the rootfs, no trailing slash) is one of those. */
export function isGenerated(rel: string): boolean {
  return GENERATED.has(rel);
}

async function existsIn(lowers: string[], rel: string): Promise<boolean> {
  for (const l of lowers) {
    const st = await lstat(join(l, rel)).catch(() => undefined);
    if (st) {
      // A whiteout in a higher layer hides it from the layers below.
      return !(st.isCharacterDevice() && st.rdev === 0);
    }
  }
  return false;
}

/**
 * Walks the overlay upper dir: whiteouts are deletions, entries present below are changes. A
 * directory there only to hold the mount points runc made (`/etc` for the network files) is no
 * change of the user's: dockerd makes those in an init layer below the container's, so its
 * diff never shows them.
 */
export async function overlayChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const out: Change[] = [];
  /** Whether `rel` holds anything but generated mount points. */
  const walk = async (rel: string): Promise<boolean> => {
    const names = await readdir(join(upper, rel)).catch(() => [] as string[]);
    let userEntries = names.length === 0;
    for (const name of names.sort()) {
      const r = rel ? `${rel}/${name}` : name;
      // Mount points runc creates for the userdata binds are not the user's changes.
      if (isGenerated(r)) continue;
      userEntries = true;
      const st = await lstat(join(upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ path: `/${r}`, kind: 2 });
        continue;
      }
      const change: Change = { path: `/${r}`, kind: (await existsIn(lowers, r)) ? 0 : 1 };
      out.push(change);
      if (st.isDirectory() && !(await walk(r))) out.splice(out.indexOf(change), 1);
    }
    return userEntries;
  };
  await walk('');
  return out;
}

/** lowerdir=a:b:c from overlay mount options (top first). */
export function lowerDirsOf(options: string[]): string[] {
  const opt = options.find((o) => o.startsWith('lowerdir='));
  return opt ? opt.slice('lowerdir='.length).split(':').filter(Boolean) : [];
}

export function checkArchivePath(path: string | undefined): string {
  if (!path) throw new BerthError('invalid-argument', 'path must not be empty');
  return path;
}
