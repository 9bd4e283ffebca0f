import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { errorKind, sha256Digest } from '../util/index.js';
import { buildTar } from './tar/tar-builder.js';
import { chainIdOf } from './chain-id.js';
import { LocalLayerStore } from './local-layer-store.js';
import { openStorage, type Storage } from './storage.js';

async function storage(t: TestContext): Promise<{ root: string; s: Storage }> {
  const root = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return { root, s: await openStorage(root) };
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const base = buildTar([
  { name: 'etc/', type: 'dir' },
  { name: 'etc/os-release', data: 'NAME=berth\n' },
]);
const top = buildTar([{ name: 'app/', type: 'dir' }, { name: 'app/main.js', data: 'console.log(1)\n', mode: 0o755 }]);

test('chainIdOf follows the OCI rule', () => {
  const a = sha256Digest('a');
  const b = sha256Digest('b');
  assert.equal(chainIdOf([a]), a);
  assert.equal(chainIdOf([a, b]), sha256Digest(`${a} ${b}`));
  assert.equal(chainIdOf([a, b, a]), sha256Digest(`${sha256Digest(`${a} ${b}`)} ${a}`));
});

test('apply unpacks a chain of layers under their chainIDs with short links', async (t) => {
  const { root, s } = await storage(t);
  const l1 = await s.layers.apply(undefined, Readable.from([gzipSync(base)]));
  assert.equal(l1.diffId, sha256Digest(base));
  assert.equal(l1.chainId, chainIdOf([l1.diffId]));
  assert.equal(l1.size, base.length);
  const l2 = await s.layers.apply(l1.chainId, Readable.from([top]), { expectedDiffId: sha256Digest(top) });
  assert.equal(l2.chainId, chainIdOf([l1.diffId, l2.diffId]));
  assert.equal(l2.parent, l1.chainId);
  assert.equal(await readFile(join(s.layers.diffPath(l2.chainId), 'app/main.js'), 'utf8'), 'console.log(1)\n');
  const hex2 = l2.chainId.slice(7);
  const link = (await readFile(join(root, 'layers', hex2, 'link'), 'utf8')).trim();
  assert.match(link, /^[A-Z2-7]{26}$/);
  assert.equal(await readlink(join(root, 'layers', 'l', link)), `../${hex2}/diff`);
  const lower = await readFile(join(root, 'layers', hex2, 'lower'), 'utf8');
  assert.match(lower, /^l\/[A-Z2-7]{26}$/);
  assert.deepEqual((await s.layers.list()).map((l) => l.chainId).sort(), [l1.chainId, l2.chainId].sort());
});

test('apply of a layer that exists returns it and drains the input', async (t) => {
  const { s } = await storage(t);
  const l1 = await s.layers.apply(undefined, Readable.from([base]));
  const input = Readable.from([base]);
  const again = await s.layers.apply(undefined, input, { expectedDiffId: l1.diffId });
  assert.deepEqual(again, l1);
  assert.equal(input.readableEnded, true);
  assert.deepEqual(await s.layers.apply(undefined, Readable.from([base])), l1);
});

test('apply rejects a wrong diffID and a hostile tar, leaving nothing behind', async (t) => {
  const { root, s } = await storage(t);
  await assert.rejects(
    s.layers.apply(undefined, Readable.from([base]), { expectedDiffId: sha256Digest('other') }),
    (e) => errorKind(e) === 'invalid-argument',
  );
  const hostile = buildTar([{ name: 'ok', data: 'fine' }, { name: '../../escape', data: 'x' }]);
  await assert.rejects(s.layers.apply(undefined, Readable.from([hostile])), (e: Error) => errorKind(e) === 'invalid-argument' && /\.\.\/\.\.\/escape/.test(e.message));
  assert.deepEqual(await readdir(join(root, 'layers')), ['l']);
  assert.deepEqual(await readdir(join(root, 'layers', 'l')), []);
});

test('apply on a missing parent fails with not-found', async (t) => {
  const { s } = await storage(t);
  await assert.rejects(s.layers.apply(chainIdOf([sha256Digest('nope')]), Readable.from([base])), (e) => errorKind(e) === 'not-found');
});

test('remove refuses a layer with a child, then removes bottom-up', async (t) => {
  const { root, s } = await storage(t);
  const l1 = await s.layers.apply(undefined, Readable.from([base]));
  const l2 = await s.layers.apply(l1.chainId, Readable.from([top]));
  await assert.rejects(s.layers.remove(l1.chainId), (e) => errorKind(e) === 'conflict');
  await s.layers.remove(l2.chainId);
  await s.layers.remove(l1.chainId);
  await assert.rejects(s.layers.remove(l1.chainId), (e) => errorKind(e) === 'not-found');
  assert.deepEqual(await readdir(join(root, 'layers')), ['l']);
  assert.deepEqual(await readdir(join(root, 'layers', 'l')), []);
});

test('a layer removed and applied again is read with its new link, not the one it had', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const layers = await LocalLayerStore.open(root);
  const l1 = await layers.apply(undefined, Readable.from([base]));
  const [first] = await layers.lowerLinks(l1.chainId);
  await layers.remove(l1.chainId);
  assert.equal(await layers.get(l1.chainId), undefined);
  await assert.rejects(layers.lowerLinks(l1.chainId), (e) => errorKind(e) === 'not-found');
  await layers.apply(undefined, Readable.from([base]));
  const [second] = await layers.lowerLinks(l1.chainId);
  assert.notEqual(second, first);
  assert.equal(await readlink(join(layers.linksDir, second!)), `../${l1.chainId.slice(7)}/diff`);
});

test('exportTar gives back the layer contents as a tar with the same diffID after re-import', async (t) => {
  const { s } = await storage(t);
  const l1 = await s.layers.apply(undefined, Readable.from([base]));
  const exported = await collect(s.layers.exportTar(l1.chainId));
  const { s: other } = await storage(t);
  const copy = await other.layers.apply(undefined, Readable.from([exported]));
  assert.equal(await readFile(join(other.layers.diffPath(copy.chainId), 'etc/os-release'), 'utf8'), 'NAME=berth\n');
  // Deterministic: exporting twice gives the same bytes.
  assert.deepEqual(await collect(s.layers.exportTar(l1.chainId)), exported);
  await assert.rejects(collect(s.layers.exportTar(chainIdOf([sha256Digest('x')]))), (e) => errorKind(e) === 'not-found');
});

test('gc removes what no root, lease or snapshot keeps and reports reclaimed bytes', async (t) => {
  const { s } = await storage(t);
  const kept = await s.content.put('kept manifest');
  const dropped = await s.content.put('dropped config');
  const l1 = await s.layers.apply(undefined, Readable.from([base]));
  const l2 = await s.layers.apply(l1.chainId, Readable.from([top]));
  const lone = await s.layers.apply(undefined, Readable.from([top]));
  const r = await s.gc({ blobs: new Set([kept.digest]), chains: new Set([l2.chainId]) });
  assert.equal(r.removedBlobs, 1);
  assert.equal(r.removedLayers, 1);
  assert.equal(r.reclaimedBytes, dropped.size + 'console.log(1)\n'.length);
  assert.ok(await s.layers.get(l1.chainId), 'the parent of a kept layer stays');
  assert.equal(await s.layers.get(lone.chainId), undefined);
  assert.equal(await s.content.info(dropped.digest), undefined);
});

test('gc keeps what a held lease wrote and the parents of snapshots', async (t) => {
  const { s } = await storage(t);
  const lease = s.leases.acquire('pull-1');
  const blob = await s.content.put('in-flight layer');
  const l1 = await s.layers.apply(undefined, Readable.from([base]));
  let r = await s.gc({ blobs: new Set(), chains: new Set() });
  assert.deepEqual(r, { removedBlobs: 0, removedLayers: 0, reclaimedBytes: 0 });
  await s.snapshotter.prepare('ctr1', l1.chainId);
  lease.release();
  r = await s.gc({ blobs: new Set(), chains: new Set() });
  assert.equal(r.removedBlobs, 1);
  assert.equal(r.removedLayers, 0);
  assert.equal(await s.content.info(blob.digest), undefined);
  await assert.rejects(s.layers.remove(l1.chainId), (e) => errorKind(e) === 'conflict');
  await s.snapshotter.remove('ctr1');
  r = await s.gc({ blobs: new Set(), chains: new Set() });
  assert.equal(r.removedLayers, 1);
});

test('opening the storage sweeps half-built layers and snapshots', async (t) => {
  const { root } = await storage(t);
  await mkdir(join(root, 'layers', '.tmp-1-abc', 'diff'), { recursive: true });
  await mkdir(join(root, 'snapshots', '.tmp-1-abc', 'upper'), { recursive: true });
  await openStorage(root);
  assert.deepEqual(await readdir(join(root, 'layers')), ['l']);
  assert.deepEqual(await readdir(join(root, 'snapshots')), []);
});

test('an aborted apply is cancelled and leaves nothing behind', async (t) => {
  const { root, s } = await storage(t);
  const ac = new AbortController();
  const slow = new Readable({ read() {} });
  slow.push(base.subarray(0, 1024));
  const p = s.layers.apply(undefined, slow, { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, (e) => errorKind(e) === 'cancelled');
  assert.deepEqual(await readdir(join(root, 'layers')), ['l']);
});

test('apply of a truncated gzip layer fails and leaves nothing behind', async (t) => {
  const { root, s } = await storage(t);
  const gz = gzipSync(base);
  await assert.rejects(s.layers.apply(undefined, Readable.from([gz.subarray(0, gz.length - 10)])), (e) => errorKind(e) === 'invalid-argument');
  assert.deepEqual(await readdir(join(root, 'layers')), ['l']);
});

test('a layer read from the content store applies like any stream', async (t) => {
  const { s } = await storage(t);
  const blob = await s.content.put(gzipSync(top));
  const layer = await s.layers.apply(undefined, s.content.read(blob.digest), { expectedDiffId: sha256Digest(top) });
  assert.equal(layer.diffId, sha256Digest(top));
  await assert.rejects(s.layers.apply(undefined, s.content.read(sha256Digest('absent'))), (e) => errorKind(e) === 'not-found');
});

test('layers and snapshots survive a restart, and a lost short link is restored', async (t) => {
  const { root, s } = await storage(t);
  const l1 = await s.layers.apply(undefined, Readable.from([base]));
  await s.snapshotter.prepare('c1', l1.chainId);
  const link = (await readFile(join(root, 'layers', l1.chainId.slice(7), 'link'), 'utf8')).trim();
  await rm(join(root, 'layers', 'l', link));
  const again = await openStorage(root);
  assert.deepEqual(await again.layers.get(l1.chainId), l1);
  assert.deepEqual(await again.snapshotter.list(), [{ key: 'c1', parent: l1.chainId }]);
  assert.equal(await readlink(join(root, 'layers', 'l', link)), `../${l1.chainId.slice(7)}/diff`);
});

test('leases pin resources added explicitly and ids are unique while held', async (t) => {
  const { s } = await storage(t);
  const blob = await s.content.put('written before the lease');
  const lease = s.leases.acquire('load-1');
  assert.throws(() => s.leases.acquire('load-1'), (e) => errorKind(e) === 'conflict');
  lease.add({ blob: blob.digest });
  assert.deepEqual(s.leases.list(), ['load-1']);
  assert.equal((await s.gc({ blobs: new Set(), chains: new Set() })).removedBlobs, 0);
  lease.release();
  assert.deepEqual(s.leases.list(), []);
  assert.equal((await s.gc({ blobs: new Set(), chains: new Set() })).removedBlobs, 1);
});

test('concurrent applies of one layer unpack it once and both get it', async (t) => {
  const { root, s } = await storage(t);
  const slow = new Readable({ read() {} });
  const first = s.layers.apply(undefined, slow, { expectedDiffId: sha256Digest(base) });
  const second = s.layers.apply(undefined, Readable.from([base]), { expectedDiffId: sha256Digest(base) });
  slow.push(base);
  slow.push(null);
  const [a, b] = await Promise.all([first, second]);
  assert.deepEqual(a, b);
  assert.deepEqual((await readdir(join(root, 'layers'))).sort(), ['l', a.chainId.slice(7)].sort());
});

test('a staged layer is unpacked before its parent is known and committed on any parent once', async (t) => {
  const { root, s } = await storage(t);
  const layersDir = join(root, 'layers');
  const b = await s.layers.apply(undefined, Readable.from([base]));
  const staged = await s.layers.stage(Readable.from([gzipSync(top)]));
  assert.equal(staged.diffId, sha256Digest(top));
  assert.equal(staged.size, top.length);
  assert.equal((await s.layers.list()).length, 1, 'a staged layer is not a layer yet');
  const info = await s.layers.commitStaged(b.chainId, staged);
  assert.equal(info.chainId, chainIdOf([sha256Digest(base), sha256Digest(top)]));
  assert.equal(info.parent, b.chainId);
  assert.equal(await readFile(join(s.layers.diffPath(info.chainId), 'app/main.js'), 'utf8'), 'console.log(1)\n');
  const linkOf = async (c: string) => (await readFile(join(layersDir, c.slice(7), 'link'), 'utf8')).trim();
  assert.equal(await readFile(join(layersDir, info.chainId.slice(7), 'lower'), 'utf8'), `l/${await linkOf(b.chainId)}`);
  assert.equal(await readlink(join(layersDir, 'l', await linkOf(info.chainId))), `../${info.chainId.slice(7)}/diff`);
  await assert.rejects(s.layers.commitStaged(undefined, staged), (e) => errorKind(e) === 'conflict');

  // An existing chainID wins; the staged tree goes. Discarding is idempotent.
  const again = await s.layers.stage(Readable.from([top]));
  assert.deepEqual(await s.layers.commitStaged(b.chainId, again), info);
  const dropped = await s.layers.stage(Readable.from([top]));
  await s.layers.discardStaged(dropped);
  await s.layers.discardStaged(dropped);
  assert.deepEqual((await readdir(layersDir)).filter((n) => n.startsWith('.tmp-')), []);
});

test('staging a hostile or broken tar fails and leaves nothing', async (t) => {
  const { root, s } = await storage(t);
  const hostile = buildTar([{ name: '../escape', data: 'x' }]);
  await assert.rejects(s.layers.stage(Readable.from([hostile])), (e) => errorKind(e) === 'invalid-argument');
  await assert.rejects(s.layers.stage(Readable.from([Buffer.from('{"not":"a tar"}')])));
  assert.deepEqual((await readdir(join(root, 'layers'))).filter((n) => n.startsWith('.tmp-')), []);
});
