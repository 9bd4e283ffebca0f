// Benchmark: the mounts on every container start and exit, made through the berth-sys addon
// (mount(2)/umount2(2)/a netns child on libuv's threadpool) against the util-linux binaries it
// replaces (BERTH_NATIVE=0): an overlay rootfs mount + unmount through OverlaySnapshotter, and
// a netns file made + removed through runtime/netns-file.ts. For each: the wall time, and the
// time the event loop was busy meanwhile (performance.eventLoopUtilization's active time: a
// spawn's fork() of this process, the JS around the call); the rest of the wall time the loop
// was free to serve other requests. Also: what the vfork-style child that lets the overlay
// mount resolve relative lowerdirs costs (the addon's mount with absolute lowerdirs on the pool
// thread itself, against relative ones through the child), and what one read of the mount table
// costs the loop with 20 container rootfs overlays mounted (the snapshotter no longer reads it
// on the addon's path). And the short commands util/exec.ts run() starts, through the addon's
// vfork-style spawn against child_process (a fork of this process): `true`, `ip -batch -` on
// the host and inside a namespace file (the addon setns()es its child; child_process runs
// nsenter), with this process's RSS inflated to a daemon's (~70 MB) since fork() copies page
// tables; plus the addon's synchronous part alone (clone until the child's exec). Needs root
// and a built addon (npm run build).
//   node --import tsx bench/mount-syscalls.ts [--runs N]
import { loadavg, tmpdir } from 'node:os';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { nativeSys, run, spawnDetachedWithPipes, type NativeSys } from '../src/util/index.js';
import { LocalLayerStore, openStorage, readMounts, type ChainId, type Storage } from '../src/storage/index.js';
import { buildTar } from '../src/storage/tar/tar-builder.js';
import { createNetnsFile, removeNetnsFile } from '../src/runtime/netns-file.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' } } });
const RUNS = Number(values.runs);
/** Layers in the benched image: a typical small image has a handful. */
const LAYERS = 5;
const MOUNTED = 20;

interface Sample {
  wallMs: number;
  loopMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
}

async function measure(fn: () => Promise<unknown>): Promise<Sample> {
  const elu = performance.eventLoopUtilization();
  const t = performance.now();
  await fn();
  const wallMs = performance.now() - t;
  return { wallMs, loopMs: performance.eventLoopUtilization(elu).active };
}

async function sample(fn: () => Promise<unknown>): Promise<Sample[]> {
  await fn(); // warm-up (loads the addon, spawns once)
  const out: Sample[] = [];
  for (let i = 0; i < RUNS; i++) out.push(await measure(fn));
  return out;
}

function line(label: string, xs: Sample[], base?: Sample[]): string {
  const wall = median(xs.map((x) => x.wallMs));
  const loop = median(xs.map((x) => x.loopMs));
  const vs = base ? `   (${(median(base.map((x) => x.wallMs)) / wall).toFixed(1)}× faster, loop ${(median(base.map((x) => x.loopMs)) / loop).toFixed(1)}× less)` : '';
  return `${label.padEnd(60)} ${wall.toFixed(2).padStart(6)} ms wall  ${loop.toFixed(2).padStart(5)} ms loop busy${vs}`;
}

/** Runs fn with BERTH_NATIVE=0 (the binaries) or unset (the addon). */
async function onPath<T>(native: boolean, fn: () => Promise<T>): Promise<T> {
  if (native) delete process.env.BERTH_NATIVE;
  else process.env.BERTH_NATIVE = '0';
  try {
    return await fn();
  } finally {
    delete process.env.BERTH_NATIVE;
  }
}

async function chainOf(storage: Storage, n: number): Promise<ChainId> {
  let chain: ChainId | undefined;
  for (let i = 0; i < n; i++) {
    const tar = buildTar([{ name: 'etc/', type: 'dir' }, { name: `etc/layer-${i}`, data: `layer ${i}\n` }]);
    chain = (await storage.layers.apply(chain, Readable.from([tar]))).chainId;
  }
  return chain!;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('mount-syscalls bench needs root (overlay mounts, network namespaces); skipped');
    return;
  }
  const sys: NativeSys | undefined = nativeSys();
  if (!sys) {
    console.log('mount-syscalls bench: no berth-sys addon (npm run build makes dist/berth-sys.node); skipped');
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'berth-bench-mounts-'));
  // A daemon's worth of heap (berthd runs at ~70 MB RSS): what a fork() copies the page tables of.
  const ballast = Array.from({ length: 40 }, () => Buffer.alloc(2 ** 20, 1));
  const storage = await openStorage(join(root, 'data'));
  try {
    const chain = await chainOf(storage, LAYERS);
    await storage.snapshotter.prepare('bench', chain);
    const target = join(root, 'rootfs');
    const nsFile = join(root, 'netns');
    const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
    console.log(`mounts on the container start/exit path, median of ${RUNS} (load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, this process ${rss} MB RSS)`);

    const rootfs = () => storage.snapshotter.mount('bench', target).then(() => storage.snapshotter.unmount(target));
    const rootfsBin = await onPath(false, () => sample(rootfs));
    const rootfsNative = await onPath(true, () => sample(rootfs));
    console.log(line(`overlay mount + unmount (${LAYERS} layers), binaries`, rootfsBin));
    console.log(line(`overlay mount + unmount (${LAYERS} layers), addon`, rootfsNative, rootfsBin));

    const netns = () => createNetnsFile(nsFile).then(() => removeNetnsFile(nsFile));
    const netnsBin = await onPath(false, () => sample(netns));
    const netnsNative = await onPath(true, () => sample(netns));
    console.log(line('netns file make + remove, binaries', netnsBin));
    console.log(line('netns file make + remove, addon', netnsNative, netnsBin));

    // The cost of the child: the same overlay by absolute lowerdirs on the pool thread itself.
    if (!(storage.layers instanceof LocalLayerStore)) throw new Error('the storage has no local layer store');
    const linksDir = storage.layers.linksDir;
    const [overlay] = await storage.snapshotter.mounts('bench');
    const absData = overlay!.options.join(',');
    const relData = absData.replace(/lowerdir=[^,]*/, (l) => l.split(`${linksDir}/`).join(''));
    await mkdir(target, { recursive: true });
    const direct = await sample(() => sys.mount('overlay', target, 'overlay', 0, absData).then(() => sys.umount(target, 0)));
    const child = await sample(() => sys.mount('overlay', target, 'overlay', 0, relData, linksDir).then(() => sys.umount(target, 0)));
    console.log(line('addon mount(2)+umount2(2), absolute lowerdirs, pool thread', direct));
    console.log(line('addon mount(2)+umount2(2), relative lowerdirs, vfork child', child));

    // What one mount table read costs the loop once 20 containers run.
    const empty = await sample(() => readMounts());
    for (let i = 0; i < MOUNTED; i++) {
      await storage.snapshotter.prepare(`busy${i}`, chain);
      await storage.snapshotter.mount(`busy${i}`, join(root, `busy${i}`));
    }
    const full = await sample(() => readMounts());
    console.log(line('read /proc/self/mountinfo', empty));
    console.log(line(`read /proc/self/mountinfo, ${MOUNTED} more overlays mounted`, full));

    // Short commands: run() through the addon's spawn against child_process.
    const opts = { timeoutMs: 10_000 };
    const ipInput = 'link set lo up\naddr show dev lo\n';
    await createNetnsFile(nsFile);
    const commands: [string, () => Promise<unknown>][] = [
      ['run true', () => run('true', [], opts)],
      ['run ip -batch - (host, 2 commands)', () => run('ip', ['-batch', '-'], { ...opts, input: ipInput })],
      ['run ip -batch - in a netns file', () => run('ip', ['-batch', '-'], { ...opts, input: ipInput, netns: nsFile })],
    ];
    for (const [label, fn] of commands) {
      const forked = await onPath(false, () => sample(fn));
      const native = await onPath(true, () => sample(fn));
      console.log(line(`${label}, child_process`, forked));
      console.log(line(`${label}, addon`, native, forked));
    }
    await removeNetnsFile(nsFile);
    const syncMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const child = sys.spawn(['true'], null, null, null, null, 1024, 1024);
      syncMs.push(performance.now() - t);
      await child.done;
    }
    console.log(`${'addon spawn() of true, its synchronous part (clone to exec)'.padEnd(60)} ${median(syncMs).toFixed(3).padStart(6)} ms (${ballast.length} MB ballast)`);

    // conmon's start: spawnDetachedWithPipes with 3 socket pairs, until it answers (through the
    // addon the clone is on a pool thread; child_process blocks the loop for all of it), then until
    // the child has exited (its ends of the pipes close).
    const detached = async () => {
      const t = performance.now();
      const child = await spawnDetachedWithPipes('true', [], { stdio: ['ignore', 'ignore', 'ignore'], pipes: 3 });
      const callMs = performance.now() - t;
      await new Promise((r) => child.pipes[0]!.once('close', r).resume());
      for (const p of child.pipes) p.destroy();
      return callMs;
    };
    for (const native of [false, true]) {
      const calls = await onPath(native, async () => {
        await detached();
        const out: number[] = [];
        for (let i = 0; i < RUNS; i++) out.push(await detached());
        return out;
      });
      console.log(`${`spawnDetachedWithPipes (3 pipes), the call, ${native ? 'addon' : 'child_process'}`.padEnd(60)} ${median(calls).toFixed(3).padStart(6)} ms`);
    }
  } finally {
    for (const m of (await readMounts()).reverse()) if (m.mountPoint.startsWith(`${root}/`)) await storage.snapshotter.unmount(m.mountPoint);
    await rm(root, { recursive: true, force: true });
  }
}

await main();
