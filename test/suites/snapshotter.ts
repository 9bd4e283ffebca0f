// Conformance suite for Snapshotter (STYLE.md §10). Mounting needs root; those tests skip otherwise.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { errorKind, sha256Digest } from '../../src/util/index.js';
import { chainIdOf, readMounts, type ChainId, type LayerStore, type Snapshotter } from '../../src/storage/index.js';
import { buildTar, listTar, type MemberSpec } from '../../src/storage/tar/tar-builder.js';

export interface SnapshotterFixture {
  snapshotter: Snapshotter;
  layers: LayerStore;
}

const isRoot = process.getuid?.() === 0;
const needsRoot = isRoot ? false : 'needs root to mount overlay';

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readMounts()).map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

async function scratch(t: TestContext, snapshotter: Snapshotter): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-snap-target-'));
  t.after(async () => {
    // Never leave a mount behind, even when an assertion failed mid-test.
    for (const p of (await mountsUnder(dir)).reverse()) await snapshotter.unmount(p);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

async function applyChain(layers: LayerStore, tars: MemberSpec[][]): Promise<ChainId> {
  let parent: ChainId | undefined;
  for (const members of tars) parent = (await layers.apply(parent, Readable.from([buildTar(members)]))).chainId;
  return parent!;
}

export function snapshotterSuite(name: string, open: (t: TestContext) => Promise<SnapshotterFixture>): void {
  const base: MemberSpec[] = [
    { name: 'etc/', type: 'dir' },
    { name: 'etc/motd', data: 'hello from the base\n' },
    { name: 'etc/keep', data: 'keep\n' },
    { name: 'var/', type: 'dir' },
    { name: 'var/cache/', type: 'dir' },
    { name: 'var/cache/old', data: 'old' },
  ];

  test(`${name}: prepare creates an active snapshot over its parent and lists it`, async (t) => {
    const { snapshotter, layers } = await open(t);
    const parent = await applyChain(layers, [base]);
    const mounts = await snapshotter.prepare('c1', parent);
    assert.equal(mounts.length, 1);
    assert.equal(mounts[0]!.type, 'overlay');
    const opts = mounts[0]!.options;
    assert.ok(opts.some((o) => o.startsWith('lowerdir=')));
    assert.ok(opts.includes(`upperdir=${snapshotter.upperPath('c1')}`));
    assert.ok(opts.some((o) => o.startsWith('workdir=')));
    assert.deepEqual(await readdir(snapshotter.upperPath('c1')), []);
    assert.deepEqual(await snapshotter.list(), [{ key: 'c1', parent }]);
    assert.deepEqual(await snapshotter.mounts('c1'), mounts);
  });

  test(`${name}: prepare refuses a taken key, a missing parent and a bad key`, async (t) => {
    const { snapshotter, layers } = await open(t);
    const parent = await applyChain(layers, [base]);
    await snapshotter.prepare('c1', parent);
    await assert.rejects(snapshotter.prepare('c1', parent), (e) => errorKind(e) === 'conflict');
    await assert.rejects(snapshotter.prepare('c2', chainIdOf([sha256Digest('missing')])), (e) => errorKind(e) === 'not-found');
    await assert.rejects(snapshotter.prepare('../evil', parent), (e) => errorKind(e) === 'invalid-argument');
    await assert.rejects(snapshotter.mounts('nope'), (e) => errorKind(e) === 'not-found');
    await assert.rejects(async () => {
      for await (const _ of snapshotter.diff('nope')) void _;
    }, (e) => errorKind(e) === 'not-found');
    assert.deepEqual((await snapshotter.list()).map((s) => s.key), ['c1']);
  });

  test(`${name}: remove deletes a snapshot and its writes`, async (t) => {
    const { snapshotter, layers } = await open(t);
    const parent = await applyChain(layers, [base]);
    await snapshotter.prepare('c1', parent);
    await writeFile(join(snapshotter.upperPath('c1'), 'new'), 'x');
    await snapshotter.remove('c1');
    assert.deepEqual(await snapshotter.list(), []);
    await assert.rejects(snapshotter.remove('c1'), (e) => errorKind(e) === 'not-found');
  });

  test(`${name}: prepare with deferSync and remove with track hand over the sync and the deletion, and the key is taken and free at once`, async (t) => {
    const { snapshotter, layers } = await open(t);
    const parent = await applyChain(layers, [base]);
    const later: Promise<void>[] = [];
    const track = (p: Promise<void>) => void later.push(p);
    let sync: (() => Promise<void>) | undefined;
    await snapshotter.prepare('c1', parent, { deferSync: (s) => (sync = s) });
    assert.ok(sync);
    assert.deepEqual((await snapshotter.list()).map((s) => s.key), ['c1']);
    await assert.rejects(snapshotter.prepare('c1', parent), (e) => errorKind(e) === 'conflict');
    await writeFile(join(snapshotter.upperPath('c1'), 'new'), 'x');
    // Removed before its sync ran: the sync settles all the same.
    await snapshotter.remove('c1', { track });
    assert.equal(later.length, 1);
    later.push(sync());
    assert.deepEqual(await snapshotter.list(), []);
    await snapshotter.prepare('c1', parent);
    assert.deepEqual(await readdir(snapshotter.upperPath('c1')), []);
    await Promise.all(later);
  });

  test(`${name}: a mounted snapshot shows its layers and keeps writes in the upper dir`, { skip: needsRoot }, async (t) => {
    const { snapshotter, layers } = await open(t);
    const parent = await applyChain(layers, [base, [{ name: 'etc/', type: 'dir' }, { name: 'etc/motd', data: 'hello from the top\n' }]]);
    await snapshotter.prepare('c1', parent);
    const target = join(await scratch(t, snapshotter), 'rootfs');
    await snapshotter.mount('c1', target);
    await snapshotter.mount('c1', target); // already there: no second mount stacked on it
    assert.equal(await mountsUnder(target).then((m) => m.length), 1);
    assert.equal(await readFile(join(target, 'etc/motd'), 'utf8'), 'hello from the top\n');
    assert.equal(await readFile(join(target, 'etc/keep'), 'utf8'), 'keep\n');
    await writeFile(join(target, 'etc/new'), 'written in the container');
    assert.equal(await readFile(join(snapshotter.upperPath('c1'), 'etc/new'), 'utf8'), 'written in the container');
    await assert.rejects(snapshotter.remove('c1'), (e) => errorKind(e) === 'conflict');
    await snapshotter.unmount(target);
    assert.deepEqual(await mountsUnder(target), []);
    await snapshotter.unmount(target); // unmounting twice is fine
    await snapshotter.remove('c1');
    assert.deepEqual(await mountsUnder(target), []);
  });

  test(`${name}: a snapshot without a parent mounts as an empty root`, { skip: needsRoot }, async (t) => {
    const { snapshotter } = await open(t);
    await snapshotter.prepare('scratch', undefined);
    const target = join(await scratch(t, snapshotter), 'rootfs');
    await snapshotter.mount('scratch', target);
    assert.deepEqual(await readdir(target), []);
    await writeFile(join(target, 'hello'), 'x');
    await snapshotter.unmount(target);
    assert.deepEqual(await readdir(snapshotter.upperPath('scratch')), ['hello']);
  });

  test(`${name}: a volatile mount skips the sync at unmount and the snapshot mounts again after it, volatile or not`, { skip: needsRoot }, async (t) => {
    const { snapshotter } = await open(t);
    await snapshotter.prepare('v1', undefined);
    const target = join(await scratch(t, snapshotter), 'rootfs');
    await snapshotter.mount('v1', target, { volatile: true });
    // Shown as `volatile`, or `fsync=volatile` by newer kernels.
    const isVolatile = async () => /(^|,)(fsync=)?volatile(,|$)/.test((await readMounts()).find((m) => m.mountPoint === target)?.superOptions ?? '');
    assert.ok(await isVolatile());
    await writeFile(join(target, 'kept'), 'x');
    await snapshotter.unmount(target);
    // The kernel leaves work/work/incompat/volatile and refuses the next mount while it is there.
    await snapshotter.mount('v1', target, { volatile: true });
    assert.equal(await readFile(join(target, 'kept'), 'utf8'), 'x');
    await snapshotter.unmount(target);
    await snapshotter.mount('v1', target);
    assert.ok(!(await isVolatile()));
    await snapshotter.unmount(target);
  });

  test(`${name}: diff reports additions, deletions and replaced directories as a layer tar`, { skip: needsRoot }, async (t) => {
    const { snapshotter, layers } = await open(t);
    const parent = await applyChain(layers, [base]);
    await snapshotter.prepare('c1', parent);
    const target = join(await scratch(t, snapshotter), 'rootfs');
    await snapshotter.mount('c1', target);
    await writeFile(join(target, 'etc/added'), 'added\n');
    await rm(join(target, 'etc/motd'));
    await rm(join(target, 'var/cache'), { recursive: true });
    await mkdir(join(target, 'var/cache'));
    await writeFile(join(target, 'var/cache/new'), 'n');
    await snapshotter.unmount(target);
    const members = await listTar(snapshotter.diff('c1') as AsyncIterable<Buffer>);
    const names = members.map((m) => m.name.replace(/\/$/, ''));
    assert.ok(names.includes('etc/added'));
    assert.ok(names.includes('etc/.wh.motd'));
    assert.ok(names.includes('var/cache/.wh..wh..opq'));
    assert.ok(names.includes('var/cache/new'));
    assert.ok(!names.includes('etc/keep'), 'unchanged files are not in the diff');
    assert.equal(members.find((m) => m.name === 'etc/added')!.data.toString(), 'added\n');

    // The diff applied as a layer reproduces the container's view.
    const committed = await layers.apply(parent, snapshotter.diff('c1'));
    await snapshotter.prepare('c2', committed.chainId);
    await snapshotter.mount('c2', target);
    assert.deepEqual((await readdir(join(target, 'etc'))).sort(), ['added', 'keep']);
    assert.deepEqual(await readdir(join(target, 'var/cache')), ['new']);
    await snapshotter.unmount(target);
  });

  test(`${name}: a chain of 120 layers mounts`, { skip: needsRoot }, async (t) => {
    const { snapshotter, layers } = await open(t);
    const tars: MemberSpec[][] = [];
    for (let i = 0; i < 120; i++) tars.push([{ name: `f${i}`, data: `layer ${i}` }, { name: 'top', data: `layer ${i}` }]);
    const parent = await applyChain(layers, tars);
    await snapshotter.prepare('tall', parent);
    const target = join(await scratch(t, snapshotter), 'rootfs');
    await snapshotter.mount('tall', target);
    const names = await readdir(target);
    assert.equal(names.length, 121);
    assert.equal(await readFile(join(target, 'top'), 'utf8'), 'layer 119');
    assert.equal(await readFile(join(target, 'f0'), 'utf8'), 'layer 0');
    await snapshotter.unmount(target);
    assert.deepEqual(await mountsUnder(target), []);
  });
}
