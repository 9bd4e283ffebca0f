// The container start/exit path's mounts on both of its paths: the berth-sys addon (mount(2),
// umount2(2) and a netns child from libuv's threadpool) and the util-linux binaries it replaces
// (BERTH_NATIVE=0, as on a host where no C compiler built the addon). Each test leaves nothing
// mounted.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { nativeSys } from '../../../src/util/index.js';
import { nativePaths, useNativePath } from '../../helpers/native-path.js';
import { openStorage, readMounts, type ChainId, type Storage } from '../../../src/storage/index.js';
import { buildTar, type MemberSpec } from '../../../src/storage/tar/tar-builder.js';
import { createNetnsFile, removeNetnsFile } from '../../../src/runtime/netns-file.js';

const PATHS = nativePaths('mount', 'the util-linux binaries');

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readMounts()).map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** The network namespace of every thread of this process (the libuv pool threads included). */
async function threadNetns(): Promise<Set<number>> {
  const out = new Set<number>();
  for (const tid of await readdir('/proc/self/task')) out.add((await stat(`/proc/self/task/${tid}/ns/net`)).ino);
  return out;
}

/** A data-root with a two-layer chain, on the chosen path (BERTH_NATIVE is read on every call). */
async function setUp(t: TestContext, native: boolean): Promise<{ root: string; storage: Storage; chain: ChainId }> {
  const root = await mkdtemp(join(tmpdir(), 'berth-mount-syscalls-'));
  const storage = await openStorage(join(root, 'data'));
  t.after(async () => {
    for (const p of (await mountsUnder(root)).reverse()) await storage.snapshotter.unmount(p);
    assert.deepEqual(await mountsUnder(root), [], 'nothing stays mounted');
    await rm(root, { recursive: true, force: true });
  });
  // Registered after the cleanup above, so that it still unmounts on the path under test.
  useNativePath(t, native);
  assert.equal(!!nativeSys(), native, 'the path under test is the one in use');
  let chain: ChainId | undefined;
  const layers: MemberSpec[][] = [
    [{ name: 'etc/', type: 'dir' }, { name: 'etc/motd', data: 'base\n' }, { name: 'etc/keep', data: 'keep\n' }],
    [{ name: 'etc/', type: 'dir' }, { name: 'etc/motd', data: 'top\n' }],
  ];
  for (const members of layers) chain = (await storage.layers.apply(chain, Readable.from([buildTar(members)]))).chainId;
  return { root, storage, chain: chain! };
}

for (const path of PATHS) {
  test(`through ${path.name}, an overlay with relative lowerdirs mounts once, stacks under another key and unmounts whole`, { skip: path.skip }, async (t) => {
    const { root, storage, chain } = await setUp(t, path.native);
    const cwd = process.cwd();
    await storage.snapshotter.prepare('c1', chain);
    await storage.snapshotter.prepare('c2', chain);
    const [overlay] = await storage.snapshotter.mounts('c1');
    assert.ok(overlay?.options.some((o) => o.startsWith('lowerdir=/')), 'mounts() shows absolute lowerdirs');
    const target = join(root, 'rootfs');
    await storage.snapshotter.mount('c1', target);
    const m = (await readMounts()).find((e) => e.mountPoint === target);
    assert.equal(m?.fsType, 'overlay');
    assert.match(m.superOptions, /lowerdir=[^/]/, 'the mount itself was made with relative lowerdirs');
    assert.equal(process.cwd(), cwd, "the daemon's working directory never moved");
    assert.equal(await readFile(join(target, 'etc/motd'), 'utf8'), 'top\n');
    assert.equal(await readFile(join(target, 'etc/keep'), 'utf8'), 'keep\n');

    await storage.snapshotter.mount('c1', target); // already there: a no-op
    assert.equal((await mountsUnder(target)).length, 1);
    await storage.snapshotter.mount('c2', target); // another snapshot stacks on it
    assert.equal((await mountsUnder(target)).length, 2);
    await storage.snapshotter.unmount(target);
    assert.deepEqual(await mountsUnder(target), [], 'unmount takes off every stacked mount');
    await storage.snapshotter.unmount(target); // nothing left: fine
    await storage.snapshotter.unmount(join(root, 'never-made')); // no such path: fine
  });

  test(`through ${path.name}, unmounting an overlay that a file is open on detaches it lazily`, { skip: path.skip }, async (t) => {
    const { root, storage, chain } = await setUp(t, path.native);
    await storage.snapshotter.prepare('c1', chain);
    const target = join(root, 'rootfs');
    await storage.snapshotter.mount('c1', target);
    const fh = await open(join(target, 'etc/motd'), 'r');
    try {
      await storage.snapshotter.unmount(target);
      assert.deepEqual(await mountsUnder(target), []);
      assert.equal((await fh.readFile('utf8')), 'top\n', 'the open file still reads from the detached mount');
    } finally {
      await fh.close();
    }
  });

  test(`through ${path.name}, a failed overlay mount names its target`, { skip: path.skip }, async (t) => {
    const { root, storage, chain } = await setUp(t, path.native);
    await storage.snapshotter.prepare('c1', chain);
    await rm(join(storage.snapshotter.upperPath('c1'), '..', 'work'), { recursive: true });
    const target = join(root, 'rootfs');
    await assert.rejects(storage.snapshotter.mount('c1', target), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.ok(e.message.includes(target), e.message);
      return true;
    });
    assert.deepEqual(await mountsUnder(target), []);
  });

  test(`through ${path.name}, a namespace file holds a new network namespace that no thread of the process enters, until it is removed`, { skip: path.skip }, async (t) => {
    const { root } = await setUp(t, path.native);
    const host = (await stat('/proc/self/ns/net')).ino;
    const file = join(root, 'netns');
    await createNetnsFile(file);
    assert.ok((await mountsUnder(file)).length === 1, 'the file is a mount point');
    const ns = (await stat(file)).ino;
    assert.notEqual(ns, host, 'the file is another network namespace than the host one');
    assert.deepEqual([...(await threadNetns())], [host], 'every thread of this process stays in the host namespace');

    await removeNetnsFile(file);
    assert.deepEqual(await mountsUnder(file), []);
    assert.equal(existsSync(file), false);
    await removeNetnsFile(file); // absent: fine
  });
}
