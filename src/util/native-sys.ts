// The loader of berth-sys, our own N-API addon for mount(2), umount2(2), a new network
// namespace on a file (native/berth-sys.c says why) and fork-free spawns of short commands
// (native/berth-spawn.c). scripts/build-native.mjs
// compiles it into `<package root>/dist/berth-sys.node`; it is found from wherever this module
// runs (dist/berthd.js, a chunk in dist/chunks/, the benches' bench/out/berthd/chunks/, or
// src/util/ under tsx) as the nearest ancestor directory's `dist/berth-sys.node`.
// Optional by design: without a C compiler there is no addon, and callers spawn util-linux's
// mount/umount/unshare instead. BERTH_NATIVE=0 forces that fallback (tests of both paths,
// measurements); it is read on every call, so a test can switch paths in one process.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NATIVE_SYS_FILE = 'berth-sys.node';
/** BERTH_SYS_ABI in native/berth-sys.c: an addon built from other sources is not used. */
const NATIVE_SYS_ABI = 4;

/** umount2(2) flags (include/linux/fs.h): the values are the kernel ABI. */
export const MNT_DETACH = 0x2;
export const UMOUNT_NOFOLLOW = 0x8;
/** mount(2) flags (include/uapi/linux/mount.h): the overlay takes none; `docker cp`'s binds these. */
export const MS_RDONLY = 0x1;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_PRIVATE = 0x40000;

/** Every call runs on libuv's threadpool; none blocks the event loop. */
export interface NativeSys {
  /**
   * mount(2). With `cwd`, mount runs in a short-lived child whose working directory is `cwd`
   * (relative paths in `data`, such as overlay lowerdirs, resolve there); the daemon's own
   * working directory never changes.
   */
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null, cwd?: string | null): Promise<void>;
  /** umount2(2): MNT_DETACH for a lazy unmount, UMOUNT_NOFOLLOW not to follow a last symlink. */
  umount(target: string, flags: number): Promise<void>;
  /** A new network namespace, bind-mounted onto `target` (an existing file); no thread of the daemon enters it. */
  bindNewNetns(target: string): Promise<void>;
  /**
   * A bridge endpoint over rtnetlink (native/berth-netlink.c): in the namespace file `netns`, a
   * veth `ifName` with `mac` (and `mtu`; 0 keeps the kernel's) whose peer `hostName` goes to the
   * daemon's namespace, lo up, `address`/`prefixLen` on it, up, the default route via `gateway`
   * (none when null); then `hostName` joins `bridge` and goes up. Rejects like mount() does, with
   * the failed step as `syscall` ("link add", "addr add", …) and the interface as `path`.
   */
  plugVeth(netns: string, ifName: string, mac: string, mtu: number, hostName: string, address: string, prefixLen: number, gateway: string | null, bridge: string): Promise<void>;
  /**
   * Starts `argv[0]` (looked up along the PATH of `env`, else the daemon's) in its own session,
   * vfork-style (no fork of the daemon), with pipes as its stdio and only fds 0-2 open: `env`
   * (KEY=VALUE strings; null: the daemon's), `cwd`, `netns` (a network namespace file the child
   * joins before its exec), `input` (written to its stdin, which is then closed). Throws when it
   * cannot start (node's shape: "spawn ip ENOENT"). `done` resolves once it has exited and its
   * output pipes are closed, with stdout (up to `maxStdout` bytes: beyond that its process group
   * is SIGKILLed and `overflowed` is true) and the last `stderrTail` bytes of stderr. The caller
   * kills it (process.kill(-pid)) on a timeout; the addon reaps it.
   */
  spawn(
    argv: readonly string[],
    env: readonly string[] | null,
    cwd: string | null,
    netns: string | null,
    input: Uint8Array | null,
    maxStdout: number,
    stderrTail: number,
  ): { pid: number; done: Promise<NativeSpawnResult> };
  /**
   * Starts a process that must outlive berthd (conmon) the same way, in its own session, with
   * `stdio` (fds; -1: /dev/null) as its fds 0-2 and `sockets` socketpairs as its fds 3, 4, …;
   * `fds` are their other ends, which the caller owns. It stays berthd's child and berthd reaps
   * it when it exits (a pidfd watched on the event loop, which it does not keep alive). The clone
   * is made on a pool thread; `stdio` must stay open until the promise settles. Bad arguments
   * throw at once; a child that cannot start rejects (node's shape: "spawn conmon ENOENT").
   */
  spawnDetached(
    argv: readonly string[],
    env: readonly string[] | null,
    cwd: string | null,
    stdio: readonly [number, number, number],
    sockets: number,
  ): Promise<{ pid: number; fds: number[] }>;
}

export interface NativeSpawnResult {
  stdout: Buffer;
  stderr: Buffer;
  /** null when a signal ended it. */
  exitCode: number | null;
  /** The signal's number. */
  signal: number | null;
  overflowed: boolean;
}

/** How the addon rejects: Node's fs error shape (`code` 'EBUSY', negative `errno`, `syscall`, `path`). */
export interface NativeSysError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path: string;
}

export function isNativeSysError(err: unknown): err is NativeSysError {
  return err instanceof Error && typeof (err as Partial<NativeSysError>).code === 'string' && typeof (err as Partial<NativeSysError>).syscall === 'string';
}

function isNativeSys(m: unknown): m is NativeSys & { abi: number } {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return r.abi === NATIVE_SYS_ABI && typeof r.mount === 'function' && typeof r.umount === 'function' && typeof r.bindNewNetns === 'function' && typeof r.plugVeth === 'function' && typeof r.spawn === 'function' && typeof r.spawnDetached === 'function';
}

/**
 * Loads the addon from the nearest `dist/berth-sys.node` at or above `fromDir`; undefined when
 * there is none, it does not load (another platform, a broken file) or it is of another ABI.
 */
export function loadNativeSys(fromDir: string): NativeSys | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const file = join(dir, 'dist', NATIVE_SYS_FILE);
    let m: unknown;
    try {
      m = createRequire(file)(file);
    } catch {
      // Absent here (MODULE_NOT_FOUND) or unloadable (ERR_DLOPEN_FAILED): look further up,
      // then fall back to the binaries; the caller works either way.
      m = undefined;
    }
    if (m !== undefined) return isNativeSys(m) ? m : undefined;
    if (dirname(dir) === dir) return undefined;
  }
}

/** This module's directory; undefined in a CommonJS bundle (the CLI's hot-run), which has no import.meta. */
function moduleDir(): string | undefined {
  const url = import.meta.url;
  return typeof url === 'string' && url ? dirname(fileURLToPath(url)) : undefined;
}

/** null: tried and unavailable. */
let cached: NativeSys | null | undefined;

/** The addon, loaded once on first use; undefined when unavailable or BERTH_NATIVE=0. Never logs. */
export function nativeSys(): NativeSys | undefined {
  if (process.env.BERTH_NATIVE === '0') return undefined;
  if (cached === undefined) {
    const dir = moduleDir();
    cached = (dir && loadNativeSys(dir)) || null;
  }
  return cached ?? undefined;
}
