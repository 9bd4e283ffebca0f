// Network namespaces kept alive by a bind mount on a file instead of by a process. A container
// on a bridge gets one before `runc create`, so that its links are plumbed while runc and
// conmon start rather than after them; build steps get one for the same reason.
// The berth-sys addon makes and unmounts them off the event loop (no fork of the daemon);
// without it, unshare(1) and umount(8) do.
import { access, rm, writeFile } from 'node:fs/promises';
import { BerthError, UMOUNT_NOFOLLOW, errorMessage, isNativeSysError, nativeSys, run } from '../util/index.js';
import { isMountPoint } from '../storage/index.js';

/** unshare and umount do one mount call each; this only bounds a wedged host. */
const NETNS_TIMEOUT_MS = 30_000;

/** A new network namespace, held by a bind mount on `path`. */
export async function createNetnsFile(path: string, signal?: AbortSignal): Promise<void> {
  await writeFile(path, '', { mode: 0o600 });
  const sys = nativeSys();
  if (!sys) {
    // Inside the new namespace, as berth-sys does (native/berth-sys.c disable_ipv6_by_default):
    // no IPv6 on the interfaces it gets (eth0); lo keeps ::1.
    const script = `f=/proc/sys/net/ipv6/conf/default/disable_ipv6; [ ! -e $f ] || echo 1 > $f`;
    await run('unshare', [`--net=${path}`, 'sh', '-c', script], { timeoutMs: NETNS_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    return;
  }
  signal?.throwIfAborted();
  try {
    await sys.bindNewNetns(path);
  } catch (err) {
    throw new BerthError('internal', `cannot make a network namespace on "${path}": ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Lets go of a namespace made by createNetnsFile (the kernel frees it with its last user, and
 * with it the container's end of each veth pair). Absent or no longer mounted is fine.
 */
export async function removeNetnsFile(path: string): Promise<void> {
  const sys = nativeSys();
  if (!sys) {
    // Most starts and exits have none: a stat is cheaper than reading the mount table.
    if (!(await access(path).then(() => true, () => false))) return;
    if (await isMountPoint(path)) await run('umount', [path], { timeoutMs: NETNS_TIMEOUT_MS });
  } else {
    try {
      await sys.umount(path, UMOUNT_NOFOLLOW);
    } catch (err) {
      // ENOENT: no file (most starts and exits have none); EINVAL: the file is not mounted on.
      if (isNativeSysError(err) && err.code === 'ENOENT') return;
      if (!isNativeSysError(err) || err.code !== 'EINVAL') {
        throw new BerthError('internal', `cannot release the network namespace on "${path}": ${errorMessage(err)}`, { cause: err });
      }
    }
  }
  await rm(path, { force: true });
}
