// `docker cp` shows a container's files as its process sees them: the rootfs with the volumes,
// binds and network files (/etc/hosts, hostname, resolv.conf) mounted over it, running or not,
// as dockerd does (it mounts them for the operation too). For the time of one operation they are
// bound onto the container's rootfs mount here, then taken off.
//
// The rootfs mount is made private first: under a shared one, the binds would propagate into a
// running container's own copy of it (runc leaves that a slave) and stay there. Each bind goes
// onto the target opened without following symlinks and checked to be the path resolved inside
// the rootfs (bindOnto), so a running container that swaps a directory for a symlink meanwhile
// cannot have a volume mounted over a host directory.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { BerthError, MNT_DETACH, MS_BIND, MS_PRIVATE, MS_RDONLY, MS_REMOUNT, UMOUNT_NOFOLLOW, errorMessage, logger, nativeSys, run } from '../util/index.js';
import type { Container } from './container-record.js';
import { NETWORK_FILES } from './oci-spec.js';
import { resolveInRoot } from './rootfs-path.js';

/** Not in node's fs.constants: an fd that only names a place (for the mount through /proc); libuv adds O_CLOEXEC. */
const O_PATH = 0o10000000;
/** mount(8) and umount(8) do one call each; this only bounds a wedged host. */
const MOUNT_TIMEOUT_MS = 30_000;

const log = logger('runtime');

export interface ViewMount {
  /** Where the container sees it (normalized, absolute). */
  destination: string;
  /** The host file or directory mounted there. */
  source: string;
  rw: boolean;
}

/**
 * What is mounted over `c`'s rootfs for `docker cp`, parents before children: its volumes and
 * binds, and the network files it has not replaced (absent until its first start). tmpfs
 * mounts hold nothing outside the running container, so they are left out, as dockerd does.
 */
export function viewMounts(c: Container): ViewMount[] {
  const user = c.config.mountPoints.map((m) => ({ destination: posix.normalize(m.destination), source: m.source, rw: m.rw, tmpfs: m.type === 'tmpfs' }));
  const taken = new Set([...user.map((m) => m.destination), ...Object.keys(c.config.spec.host.tmpfs).map((d) => posix.normalize(d))]);
  const mounts: ViewMount[] = user.filter((m) => !m.tmpfs).map(({ destination, source, rw }) => ({ destination, source, rw }));
  for (const [file, destination] of NETWORK_FILES) {
    if (!taken.has(destination)) mounts.push({ destination, source: join(c.userdata, file), rw: !c.config.spec.host.readonlyRootfs });
  }
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  return mounts.sort((a, b) => depth(a.destination) - depth(b.destination));
}

/**
 * dockerd's checks before `docker cp` writes into `containerPath` (symlinks resolved): a
 * read-only volume or bind refuses, and so does a read-only rootfs outside the container's mounts.
 */
export function checkWritable(c: Container, containerPath: string): void {
  const inside = (dest: string) => containerPath === dest || containerPath.startsWith(dest === '/' ? '/' : `${dest}/`);
  const holder = c.config.mountPoints
    .filter((m) => inside(posix.normalize(m.destination)))
    .sort((a, b) => b.destination.length - a.destination.length)[0];
  if (holder && !holder.rw) throw new BerthError('invalid-argument', 'mounted volume is marked read-only');
  if (!holder && c.config.spec.host.readonlyRootfs) throw new BerthError('invalid-argument', 'container rootfs is marked read-only');
}

/** The container path of a host path that resolveInRoot gave under `rootfs`. */
export function containerPathOf(rootfs: string, hostPath: string): string {
  return '/' + relative(rootfs, hostPath);
}

/**
 * Runs `fn` while `mounts` are bound over the mounted `rootfs` (the caller keeps other view
 * operations on the same container out meanwhile); they are taken off afterwards, lazily when
 * something still uses them. A source that is not there (a bind source removed from the host,
 * network files before the first start) is left out. Missing mount points are made only with
 * `makeTargets` (a stopped container's: no process of its can swap them for symlinks meanwhile);
 * a running container has its own, and one it removed is left out.
 */
export async function withMountsOver<T>(rootfs: string, mounts: readonly ViewMount[], opts: { makeTargets: boolean }, fn: () => Promise<T>): Promise<T> {
  const bound: string[] = [];
  try {
    if (mounts.length) await mountCall(null, rootfs, MS_PRIVATE, ['--make-private', rootfs]);
    for (const m of mounts) {
      const source = await stat(m.source).catch(() => undefined);
      if (!source) continue;
      const target = await resolveInRoot(rootfs, m.destination);
      if (opts.makeTargets) await makeTarget(target, source.isDirectory());
      else if (!(await lstat(target).catch(() => undefined))) continue;
      await bindOnto(rootfs, m.source, target, !m.rw);
      bound.push(target);
    }
    return await fn();
  } finally {
    for (const target of bound.reverse()) {
      await unmountLazily(target).catch((err: unknown) => log.warn('cannot take a copy mount off a container rootfs', { target, error: errorMessage(err) }));
    }
  }
}

/** What runc would make at a mount point that is not there yet: a directory, or an empty file. */
async function makeTarget(target: string, directory: boolean): Promise<void> {
  if (directory) {
    await mkdir(target, { recursive: true, mode: 0o755 });
    return;
  }
  await mkdir(dirname(target), { recursive: true, mode: 0o755 });
  // 'a': creates an empty file, keeps one that is there.
  await writeFile(target, '', { flag: 'a', mode: 0o644 });
}

/**
 * Binds `source` (not recursively: nothing mounted under it comes along, so taking the bind off
 * can never take a host mount with it) onto `target`, then makes the bind private, read-only when
 * asked. Every call goes through an fd of the place opened without following symlinks and
 * checked: the kernel acts on what was opened, whatever the path names by then.
 */
async function bindOnto(rootfs: string, source: string, target: string, readOnly: boolean): Promise<void> {
  await throughPlace(rootfs, target, (place) => mountCall(source, place, MS_BIND, ['--no-canonicalize', '--bind', source, place]));
  // Opened again: the path now leads to the bind's root, which the first fd does not name.
  await throughPlace(rootfs, target, async (place) => {
    await mountCall(null, place, MS_PRIVATE, ['--no-canonicalize', '--make-private', place]);
    if (readOnly) await mountCall(null, place, MS_REMOUNT | MS_BIND | MS_RDONLY, ['--no-canonicalize', '-o', 'remount,bind,ro', place]);
  });
}

/** Runs `fn` with a /proc path naming `target` as opened now, checked to be that path inside `rootfs`. */
async function throughPlace(rootfs: string, target: string, fn: (place: string) => Promise<void>): Promise<void> {
  const fh = await open(target, O_PATH | constants.O_NOFOLLOW);
  try {
    const real = await readlink(`/proc/self/fd/${fh.fd}`);
    if (real !== target || !real.startsWith(`${rootfs}/`)) {
      throw new BerthError('conflict', `the container changed ${containerPathOf(rootfs, target)} while it was being copied; try again`);
    }
    // The daemon's pid, not "self": mount(8) runs in a child.
    await fn(`/proc/${process.pid}/fd/${fh.fd}`);
  } finally {
    await fh.close();
  }
}

/** mount(2) through the berth-sys addon, or mount(8) with `args` without it. */
async function mountCall(source: string | null, target: string, flags: number, args: string[]): Promise<void> {
  const sys = nativeSys();
  if (!sys) {
    await run('mount', args, { timeoutMs: MOUNT_TIMEOUT_MS });
    return;
  }
  try {
    await sys.mount(source, target, null, flags, null);
  } catch (err) {
    throw new BerthError('internal', `cannot mount ${source ?? ''} on ${target}: ${errorMessage(err)}`, { cause: err });
  }
}

async function unmountLazily(target: string): Promise<void> {
  const sys = nativeSys();
  if (sys) await sys.umount(target, MNT_DETACH | UMOUNT_NOFOLLOW);
  else await run('umount', ['-l', target], { timeoutMs: MOUNT_TIMEOUT_MS });
}
