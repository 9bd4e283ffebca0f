// Layer features that need root: ownership, device files, fifos, trusted/security xattrs and
// overlay whiteouts, in both directions (tar -> layer dir -> tar).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openStorage, type Storage } from '../../../src/storage/index.js';
import { buildTar, listTar } from '../../../src/storage/tar/tar-builder.js';
import { tarCreateArgs } from '../../../src/storage/tar/diff.js';
import { spawnStreaming } from '../../../src/util/index.js';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (chown, mknod, trusted.* xattrs)';

async function storage(t: TestContext): Promise<Storage> {
  const root = await mkdtemp(join(tmpdir(), 'berth-layer-meta-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return openStorage(root);
}

/** The xattrs of one path, read back through GNU tar (Node has no getxattr). */
async function xattrsOf(dir: string, rel: string): Promise<ReadonlyMap<string, Buffer>> {
  const tar = spawnStreaming('tar', tarCreateArgs(dir), { timeoutMs: 30_000 });
  tar.stdin.end();
  const members = await listTar(tar.stdout as AsyncIterable<Buffer>);
  await tar.done;
  const m = members.find((h) => h.name.replace(/^\.\//, '').replace(/\/$/, '') === rel);
  assert.ok(m, `${rel} is in the export`);
  return m.xattrs;
}

// A file capability (VFS_CAP_REVISION_2, cap_net_bind_service): binary, with bytes >= 0x80.
const capability = Buffer.from('0100000200040000000000000000000000000000', 'hex');
capability[0] = 0x01;
capability[3] = 0x02;
const capabilityWithHighBytes = Buffer.concat([capability.subarray(0, 4), Buffer.from([0x00, 0x04, 0x00, 0x80]), capability.subarray(8)]);

test('a layer keeps owners, modes, devices, fifos and xattrs', { skip }, async (t) => {
  const s = await storage(t);
  const tar = buildTar([
    { name: 'bin/', type: 'dir', mode: 0o755 },
    { name: 'bin/ping', data: 'elf', mode: 0o4755, uid: 0, gid: 0, xattrs: { 'security.capability': capabilityWithHighBytes } },
    { name: 'home/', type: 'dir' },
    { name: 'home/app/', type: 'dir', mode: 0o750, uid: 1000, gid: 1001 },
    { name: 'home/app/data', data: 'x', uid: 1000, gid: 1001, mode: 0o600, xattrs: { 'user.berth': 'yes' } },
    { name: 'dev/', type: 'dir' },
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/loop9', type: 'block', devmajor: 7, devminor: 9, mode: 0o660, gid: 6 },
    { name: 'run/', type: 'dir' },
    { name: 'run/fifo', type: 'fifo', mode: 0o620 },
    { name: 'bigid', data: 'far', uid: 3_000_000, gid: 3_000_001 },
  ]);
  const layer = await s.layers.apply(undefined, Readable.from([tar]));
  const d = s.layers.diffPath(layer.chainId);
  const ping = await stat(join(d, 'bin/ping'));
  assert.equal(ping.mode & 0o7777, 0o4755);
  const app = await stat(join(d, 'home/app'));
  assert.deepEqual([app.uid, app.gid, app.mode & 0o777], [1000, 1001, 0o750]);
  const data = await stat(join(d, 'home/app/data'));
  assert.deepEqual([data.uid, data.gid, data.mode & 0o777], [1000, 1001, 0o600]);
  const nul = await lstat(join(d, 'dev/null'));
  assert.ok(nul.isCharacterDevice());
  assert.equal(nul.rdev, (1 << 8) | 3);
  const loop = await lstat(join(d, 'dev/loop9'));
  assert.ok(loop.isBlockDevice());
  assert.equal(loop.gid, 6);
  assert.ok((await lstat(join(d, 'run/fifo'))).isFIFO());
  const big = await stat(join(d, 'bigid'));
  assert.deepEqual([big.uid, big.gid], [3_000_000, 3_000_001]);
  assert.deepEqual((await xattrsOf(d, 'bin/ping')).get('security.capability'), capabilityWithHighBytes);
  assert.deepEqual((await xattrsOf(d, 'home/app/data')).get('user.berth'), Buffer.from('yes'));
});

test('whiteouts become overlay char devices and opaque markers the opaque xattr', { skip }, async (t) => {
  const s = await storage(t);
  const tar = buildTar([
    { name: 'etc/', type: 'dir', mode: 0o711, mtime: 1_650_000_000 },
    { name: 'etc/.wh.motd', data: '' },
    { name: 'var/', type: 'dir' },
    { name: 'var/cache/', type: 'dir', mode: 0o700, uid: 5 },
    { name: 'var/cache/.wh..wh..opq', data: '' },
    { name: 'var/cache/fresh', data: 'new' },
    { name: '.wh..wh.plnk', type: 'dir' },
    { name: 'trusted', data: 'x', xattrs: { 'trusted.overlay.redirect': '/elsewhere' } },
  ]);
  const layer = await s.layers.apply(undefined, Readable.from([tar]));
  const d = s.layers.diffPath(layer.chainId);
  const wh = await lstat(join(d, 'etc/motd'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.deepEqual(await readdir(join(d, 'etc')), ['motd']);
  const cache = await stat(join(d, 'var/cache'));
  assert.deepEqual([cache.mode & 0o777, cache.uid], [0o700, 5]);
  assert.deepEqual((await xattrsOf(d, 'var/cache')).get('trusted.overlay.opaque'), Buffer.from('y'));
  assert.deepEqual(await readdir(join(d, 'var/cache')), ['fresh']);
  assert.equal((await xattrsOf(d, 'trusted')).has('trusted.overlay.redirect'), false, 'overlay xattrs from a tar are dropped');
  assert.deepEqual(await readdir(d), ['etc', 'trusted', 'var'], 'aufs metadata is not extracted');
});

test('exporting a layer turns overlay markers back into .wh. members and keeps metadata', { skip }, async (t) => {
  const s = await storage(t);
  const tar = buildTar([
    { name: 'etc/', type: 'dir', mode: 0o711, mtime: 1_650_000_000 },
    { name: 'etc/.wh.motd', data: '' },
    { name: 'var/', type: 'dir' },
    { name: 'var/cache/', type: 'dir', mode: 0o700, uid: 5, mtime: 1_650_000_001 },
    { name: 'var/cache/.wh..wh..opq', data: '' },
    { name: 'var/cache/fresh', data: 'new', uid: 7, gid: 8, mode: 0o640, mtime: 1_650_000_002 },
    { name: 'var/cache/hard', type: 'link', linkname: 'var/cache/fresh' },
    { name: 'bin/', type: 'dir' },
    { name: 'bin/ping', data: 'elf', mode: 0o755, xattrs: { 'security.capability': capabilityWithHighBytes } },
    { name: 'dev/', type: 'dir' },
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
  ]);
  const layer = await s.layers.apply(undefined, Readable.from([tar]));
  const members = await listTar(s.layers.exportTar(layer.chainId) as AsyncIterable<Buffer>);
  const byName = new Map(members.map((m) => [m.name.replace(/\/$/, ''), m]));
  assert.equal(byName.get('etc/.wh.motd')?.type, 'file');
  assert.equal(byName.has('etc/motd'), false);
  assert.equal(byName.get('var/cache/.wh..wh..opq')?.type, 'file');
  assert.equal(byName.get('var/cache')?.xattrs.size, 0, 'the opaque xattr becomes a marker, not an xattr');
  assert.deepEqual([byName.get('var/cache')?.mode, byName.get('var/cache')?.uid, byName.get('var/cache')?.mtime], [0o700, 5, 1_650_000_001]);
  const fresh = byName.get('var/cache/fresh')!;
  assert.deepEqual([fresh.uid, fresh.gid, fresh.mode, fresh.mtime, fresh.data.toString()], [7, 8, 0o640, 1_650_000_002, 'new']);
  const hard = byName.get('var/cache/hard')!;
  assert.equal(hard.type, 'link');
  assert.equal(hard.linkname, 'var/cache/fresh');
  assert.deepEqual(byName.get('bin/ping')?.xattrs.get('security.capability'), capabilityWithHighBytes);
  assert.deepEqual([byName.get('dev/null')?.type, byName.get('dev/null')?.devmajor, byName.get('dev/null')?.devminor], ['char', 1, 3]);
  assert.ok(members.every((m) => !m.name.startsWith('./') && !m.name.startsWith('/')));

  // Re-importing the export yields the same tree, so the same diffID as a second export.
  const again = await s.layers.apply(undefined, s.layers.exportTar(layer.chainId));
  const d = s.layers.diffPath(again.chainId);
  assert.ok((await lstat(join(d, 'etc/motd'))).isCharacterDevice());
  assert.equal(await readFile(join(d, 'var/cache/fresh'), 'utf8'), 'new');
});
