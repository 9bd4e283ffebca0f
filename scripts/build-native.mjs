// Compiles native/berth-sys.c + berth-spawn*.c (berthd's mount/umount/netns/spawn addon) into dist/berth-sys.node
// with the system C compiler against Node's own headers: no node-gyp, no network. Called by
// scripts/build.mjs and by the benches' bundler (bench/daemon-bundle.ts). The addon is
// optional: without a compiler or headers this prints one line and berthd spawns
// util-linux's mount/umount/unshare and forks for its commands instead (src/util/native-sys.ts).
import { execFile } from 'node:child_process';
import { access, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SOURCES = ['native/berth-sys.c', 'native/berth-spawn.c', 'native/berth-spawn-watch.c', 'native/berth-netlink.c'];
/** The sources and what they include: a change to any of them rebuilds. */
const INPUTS = [...SOURCES, 'native/berth-sys.h', 'native/berth-spawn.h', 'native/berth-netlink.h'];
const OUTPUT = 'dist/berth-sys.node';
// -z now: every symbol is bound at load, so no lazy PLT binding (the dynamic linker, its locks)
// ever runs in berth-spawn.c's vfork-style child, which shares the daemon's memory.
const FLAGS = ['-O2', '-shared', '-fPIC', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-Wl,-z,now'];
/** One compile of ~1000 lines: seconds at most, unless the host is wedged. */
const COMPILE_TIMEOUT_MS = 120_000;

async function mtime(path) {
  return (await stat(path).catch(() => undefined))?.mtimeMs;
}

/**
 * Builds `<root>/dist/berth-sys.node` unless it is newer than its source and this script.
 * Returns the output path, or undefined when it cannot be built (after saying why on stderr).
 */
export async function buildNativeAddon(root = join(dirname(fileURLToPath(import.meta.url)), '..')) {
  const output = join(root, OUTPUT);
  const built = await mtime(output);
  const inputs = await Promise.all([...INPUTS.map((f) => mtime(join(root, f))), mtime(fileURLToPath(import.meta.url))]);
  if (built !== undefined && inputs.every((t) => t !== undefined && t <= built)) return output;

  const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (!(await access(join(headers, 'node_api.h')).then(() => true, () => false))) {
    console.error(`build: no Node headers in ${headers}: berthd will fork for mount/umount/unshare and its commands (no berth-sys addon)`);
    return undefined;
  }
  const cc = process.env.CC || 'cc';
  await mkdir(dirname(output), { recursive: true });
  // Written beside and renamed over: a running berthd keeps its mapping of the old file intact
  // (writing into a dlopen'ed file in place would crash it).
  const tmp = `${output}.tmp-${process.pid}`;
  try {
    await promisify(execFile)(cc, [...FLAGS, `-I${headers}`, '-o', tmp, ...SOURCES.map((f) => join(root, f))], { timeout: COMPILE_TIMEOUT_MS });
    await rename(tmp, output);
    return output;
  } catch (err) {
    await rm(tmp, { force: true });
    // A stale addon from older sources must not stay behind (the loader would refuse another ABI anyway).
    await rm(output, { force: true });
    if (err.code === 'ENOENT') console.error(`build: no C compiler (${cc}): berthd will fork for mount/umount/unshare and its commands (no berth-sys addon)`);
    else console.error(`build: compiling ${SOURCES.join(' ')} failed: berthd will fork for mount/umount/unshare and its commands (no berth-sys addon)\n${(err.stderr || err.message).trim()}`);
    return undefined;
  }
}
