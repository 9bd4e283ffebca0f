// Compiles native/berth-sys.c (berthd's mount/umount/netns addon) into dist/berth-sys.node
// with the system C compiler against Node's own headers: no node-gyp, no network. Called by
// scripts/build.mjs and by the benches' bundler (bench/daemon-bundle.ts). The addon is
// optional: without a compiler or headers this prints one line and berthd spawns
// util-linux's mount/umount/unshare instead (src/util/native-sys.ts).
import { execFile } from 'node:child_process';
import { access, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SOURCE = 'native/berth-sys.c';
const OUTPUT = 'dist/berth-sys.node';
const FLAGS = ['-O2', '-shared', '-fPIC', '-std=gnu11', '-Wall', '-Wextra', '-Werror'];
/** One compile of ~300 lines: seconds at most, unless the host is wedged. */
const COMPILE_TIMEOUT_MS = 120_000;

async function mtime(path) {
  return (await stat(path).catch(() => undefined))?.mtimeMs;
}

/**
 * Builds `<root>/dist/berth-sys.node` unless it is newer than its source and this script.
 * Returns the output path, or undefined when it cannot be built (after saying why on stderr).
 */
export async function buildNativeAddon(root = join(dirname(fileURLToPath(import.meta.url)), '..')) {
  const source = join(root, SOURCE);
  const output = join(root, OUTPUT);
  const built = await mtime(output);
  const inputs = [await mtime(source), await mtime(fileURLToPath(import.meta.url))];
  if (built !== undefined && inputs.every((t) => t !== undefined && t <= built)) return output;

  const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (!(await access(join(headers, 'node_api.h')).then(() => true, () => false))) {
    console.error(`build: no Node headers in ${headers}: berthd will spawn mount/umount/unshare (no berth-sys addon)`);
    return undefined;
  }
  const cc = process.env.CC || 'cc';
  await mkdir(dirname(output), { recursive: true });
  // Written beside and renamed over: a running berthd keeps its mapping of the old file intact
  // (writing into a dlopen'ed file in place would crash it).
  const tmp = `${output}.tmp-${process.pid}`;
  try {
    await promisify(execFile)(cc, [...FLAGS, `-I${headers}`, '-o', tmp, source], { timeout: COMPILE_TIMEOUT_MS });
    await rename(tmp, output);
    return output;
  } catch (err) {
    await rm(tmp, { force: true });
    // A stale addon from older sources must not stay behind (the loader would refuse another ABI anyway).
    await rm(output, { force: true });
    if (err.code === 'ENOENT') console.error(`build: no C compiler (${cc}): berthd will spawn mount/umount/unshare (no berth-sys addon)`);
    else console.error(`build: compiling ${SOURCE} failed: berthd will spawn mount/umount/unshare (no berth-sys addon)\n${(err.stderr || err.message).trim()}`);
    return undefined;
  }
}
