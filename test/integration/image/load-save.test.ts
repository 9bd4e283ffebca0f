// Image load/save on the real layer store as root: ownership and whiteouts survive a
// load → save → load round trip, parallel loads of one archive agree, and a prune running
// during a load cannot collect what the load is writing.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ImageService } from '../../../src/image/index.js';
import { openStorage, type ChainId, type Storage } from '../../../src/storage/index.js';
import { EventBus } from '../../../src/util/index.js';
import { buildImage, legacyDockerArchive, tarOf } from '../../../src/image/archive-fixtures.js';

const isRoot = process.getuid?.() === 0;

async function env(t: TestContext): Promise<{ svc: ImageService; storage: Storage }> {
  const root = await mkdtemp(join(tmpdir(), 'berth-it-image-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const storage = await openStorage(root);
  return { svc: await ImageService.open({ storage, root, events: new EventBus() }), storage };
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function layers(): Promise<Buffer[]> {
  const base = await tarOf([
    { name: 'home/', type: 'dir' },
    { name: 'home/app/', type: 'dir', uid: 1000, gid: 1000, mode: 0o750 },
    { name: 'home/app/data.txt', data: 'owned\n', uid: 1000, gid: 1000, mode: 0o600 },
    { name: 'etc/', type: 'dir' },
    { name: 'etc/old.conf', data: 'old\n' },
    { name: 'bin/', type: 'dir' },
    { name: 'bin/sh', data: '#!\n', mode: 0o755 },
    { name: 'bin/ash', type: 'symlink', linkname: 'sh' },
  ]);
  const top = await tarOf([
    { name: 'etc/', type: 'dir' },
    { name: 'etc/.wh.old.conf' },
    { name: 'etc/new.conf', data: 'new\n', uid: 33, gid: 33 },
  ]);
  return [base, top];
}

async function diffPaths(storage: Storage, top: ChainId): Promise<string[]> {
  const out: string[] = [];
  for (let c: ChainId | undefined = top; c; ) {
    out.unshift(storage.layers.diffPath(c));
    c = (await storage.layers.get(c))?.parent;
  }
  return out;
}

test('ownership, modes, symlinks and whiteouts survive load, save and load again', { skip: !isRoot && 'needs root to chown and make whiteout devices' }, async (t) => {
  const a = await env(t);
  const img = { layers: await layers(), tags: ['owners:1'] };
  await a.svc.load(Readable.from(await legacyDockerArchive([img])));
  const r = await a.svc.resolve('owners:1');
  const [baseDir, topDir] = await diffPaths(a.storage, r.topChainId!);
  const st = await lstat(join(baseDir!, 'home/app/data.txt'));
  assert.equal(st.uid, 1000);
  assert.equal(st.mode & 0o777, 0o600);
  assert.ok((await lstat(join(baseDir!, 'bin/ash'))).isSymbolicLink());
  const wh = await lstat(join(topDir!, 'etc/old.conf'));
  assert.ok(wh.isCharacterDevice(), 'the whiteout became an overlay whiteout device');
  assert.equal((await lstat(join(topDir!, 'etc/new.conf'))).uid, 33);

  const archive = await collect(a.svc.save(['owners:1']));
  const b = await env(t);
  await b.svc.load(Readable.from(archive));
  const rb = await b.svc.resolve('owners:1');
  assert.equal(rb.id, buildImage(img).configDigest);
  assert.equal(rb.topChainId, r.topChainId);
  const [baseB] = await diffPaths(b.storage, rb.topChainId!);
  assert.equal(await readFile(join(baseB!, 'home/app/data.txt'), 'utf8'), 'owned\n');
  assert.equal((await lstat(join(baseB!, 'home/app'))).uid, 1000);
});

test('two parallel loads of one archive both succeed and keep one image', { skip: !isRoot && 'needs root for the layer store' }, async (t) => {
  const { svc, storage } = await env(t);
  const archive = await legacyDockerArchive([{ layers: await layers(), tags: ['twice:1'] }]);
  const [x, y] = await Promise.all([svc.load(Readable.from(archive)), svc.load(Readable.from(archive))]);
  assert.deepEqual(x.messages, ['Loaded image: twice:1']);
  assert.deepEqual(y.messages, ['Loaded image: twice:1']);
  assert.equal((await svc.list()).length, 1);
  assert.equal((await storage.layers.list()).length, 2);
});

test('a prune while a load runs does not collect the blobs and layers the load is writing', { skip: !isRoot && 'needs root for the layer store' }, async (t) => {
  const { svc, storage } = await env(t);
  const archive = await legacyDockerArchive([{ layers: await layers(), tags: ['racing:1'] }]);
  // Feed the archive slowly so the prune lands in the middle of the load.
  const slow = Readable.from(
    (async function* () {
      for (let i = 0; i < archive.length; i += 1024) {
        yield archive.subarray(i, i + 1024);
        if (i === 4096) await new Promise((r) => setTimeout(r, 50));
      }
    })(),
  );
  const loading = svc.load(slow);
  await new Promise((r) => setTimeout(r, 20));
  await svc.prune({ all: true });
  await loading;
  const r = await svc.resolve('racing:1');
  assert.ok(await storage.layers.get(r.topChainId!));
  assert.ok(await storage.content.info(r.id));
  const saved = await collect(svc.save(['racing:1']));
  assert.ok(saved.length > 0);
});
