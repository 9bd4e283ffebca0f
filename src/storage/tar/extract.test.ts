import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { errorKind, run, sha256Digest } from '../../util/index.js';
import { buildTar, hostileLayers, type MemberSpec } from './tar-builder.js';
import { extractLayer } from './extract.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-extract-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function extractInto(t: TestContext, data: Buffer): Promise<{ dest: string; outside: string; result: Promise<Awaited<ReturnType<typeof extractLayer>>> }> {
  const root = await tempDir(t);
  const dest = join(root, 'layer', 'diff');
  const outside = join(root, 'outside');
  await mkdir(dest, { recursive: true });
  await mkdir(outside);
  return { dest, outside, result: extractLayer(Readable.from([data]), dest, { asRoot: false }) };
}

const ordinary: MemberSpec[] = [
  { name: 'etc/', type: 'dir', mode: 0o755, mtime: 1_600_000_000 },
  { name: 'etc/hostname', data: 'berth\n', mode: 0o640, mtime: 1_600_000_100 },
  { name: 'bin/', type: 'dir' },
  { name: 'bin/tool', data: '#!/bin/sh\necho tool\n', mode: 0o755 },
  { name: 'bin/alias', type: 'link', linkname: 'bin/tool' },
  { name: 'bin/sh', type: 'symlink', linkname: 'tool' },
  { name: './usr/lib/deep/file.txt', data: Buffer.alloc(70_000, 7) },
  { name: 'long/' + 'x'.repeat(150) + '/name-ü.txt', data: 'long name' },
];

test('extract unpacks files, dirs, hardlinks and symlinks with modes and mtimes, and computes the diffID', async (t) => {
  const tar = buildTar(ordinary);
  const { dest, result } = await extractInto(t, tar);
  const r = await result;
  assert.equal(r.diffId, sha256Digest(tar));
  assert.equal(r.size, tar.length);
  assert.equal(r.compression, 'none');
  assert.equal(await readFile(join(dest, 'etc/hostname'), 'utf8'), 'berth\n');
  const host = await stat(join(dest, 'etc/hostname'));
  assert.equal(host.mode & 0o777, 0o640);
  assert.equal(host.mtimeMs, 1_600_000_100_000);
  assert.equal((await stat(join(dest, 'etc'))).mtimeMs, 1_600_000_000_000);
  assert.equal((await stat(join(dest, 'bin/tool'))).mode & 0o777, 0o755);
  assert.equal((await stat(join(dest, 'bin/alias'))).ino, (await stat(join(dest, 'bin/tool'))).ino);
  assert.equal(await readlink(join(dest, 'bin/sh')), 'tool');
  assert.equal((await readFile(join(dest, 'usr/lib/deep/file.txt'))).length, 70_000);
  assert.equal(await readFile(join(dest, 'long', 'x'.repeat(150), 'name-ü.txt'), 'utf8'), 'long name');
});

test('extract counts the layer’s size as dockerd does: files’ bytes, symlink targets, a hard link once, no tar headers', async (t) => {
  const { result } = await extractInto(t, buildTar(ordinary));
  const files = 'berth\n'.length + '#!/bin/sh\necho tool\n'.length + 70_000 + 'long name'.length;
  assert.equal((await result).contentSize, files + 'tool'.length);
});

test('extract detects gzip and zstd and reports the diffID of the uncompressed tar', async (t) => {
  const tar = buildTar(ordinary);
  const gz = gzipSync(tar);
  const dir = await tempDir(t);
  await writeFile(join(dir, 'layer.tar'), tar);
  await run('zstd', ['-q', join(dir, 'layer.tar'), '-o', join(dir, 'layer.tar.zst')], { timeoutMs: 10_000 });
  const zst = await readFile(join(dir, 'layer.tar.zst'));
  for (const [data, kind] of [[gz, 'gzip'], [zst, 'zstd']] as const) {
    const { dest, result } = await extractInto(t, data);
    const r = await result;
    assert.equal(r.compression, kind);
    assert.equal(r.diffId, sha256Digest(tar));
    assert.equal(await readFile(join(dest, 'etc/hostname'), 'utf8'), 'berth\n');
  }
});

test('extract rejects a corrupt zstd stream', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'layer.tar'), buildTar(ordinary));
  await run('zstd', ['-q', join(dir, 'layer.tar'), '-o', join(dir, 'layer.tar.zst')], { timeoutMs: 10_000 });
  const zst = await readFile(join(dir, 'layer.tar.zst'));
  const { result } = await extractInto(t, zst.subarray(0, zst.length - 40));
  await assert.rejects(result, (e) => errorKind(e) === 'invalid-argument');
});

test('a member below a symlink that stays inside the layer lands at the resolved path', async (t) => {
  const tar = buildTar([
    { name: 'usr/lib/', type: 'dir' },
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'lib/libc.so', data: 'elf' },
  ]);
  const { dest, result } = await extractInto(t, tar);
  await result;
  assert.equal(await readFile(join(dest, 'usr/lib/libc.so'), 'utf8'), 'elf');
  assert.ok((await lstat(join(dest, 'lib'))).isSymbolicLink());
});

for (const c of hostileLayers) {
  test(`extract rejects ${c.why}, naming the member, and writes nothing outside`, async (t) => {
    const { outside, result } = await extractInto(t, buildTar(c.members));
    await assert.rejects(result, (e: Error) => {
      assert.equal(errorKind(e), 'invalid-argument');
      assert.match(e.message, new RegExp(c.culprit.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
      return true;
    });
    assert.deepEqual(await readdir(outside), []);
  });
}

test('extract rejects a corrupt gzip stream', async (t) => {
  const gz = gzipSync(buildTar(ordinary));
  gz.fill(0x55, 20, 60);
  const { result } = await extractInto(t, gz);
  await assert.rejects(result, (e) => errorKind(e) === 'invalid-argument');
});

test('extract rejects a truncated gzip stream', async (t) => {
  const gz = gzipSync(buildTar(ordinary));
  const { result } = await extractInto(t, gz.subarray(0, gz.length - 30));
  await assert.rejects(result, (e) => errorKind(e) === 'invalid-argument');
});

test('extract rejects a truncated tar', async (t) => {
  const tar = buildTar(ordinary);
  for (const cut of [tar.length - 1024, 700, 1000]) {
    const { result } = await extractInto(t, tar.subarray(0, cut));
    await assert.rejects(result, (e: Error) => errorKind(e) === 'invalid-argument' && /truncated/.test(e.message));
  }
});

test('extract rejects a header with a bad checksum', async (t) => {
  const tar = buildTar(ordinary);
  tar[600] = tar[600]! ^ 0xff; // inside the second header
  const { result } = await extractInto(t, Buffer.concat([tar]));
  await assert.rejects(result, (e) => errorKind(e) === 'invalid-argument');
});

test('extract rejects unsupported compression and non-tar input', async (t) => {
  const { result } = await extractInto(t, Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(600)]));
  await assert.rejects(result, (e: Error) => errorKind(e) === 'invalid-argument' && /bzip2/.test(e.message));
  const { result: r2 } = await extractInto(t, Buffer.alloc(2048, 0x41));
  await assert.rejects(r2, (e) => errorKind(e) === 'invalid-argument');
});

test('a digest the caller computed is the diffID of an uncompressed layer and is ignored for a gzip one', async (t) => {
  const tar = buildTar(ordinary);
  const given = sha256Digest(Buffer.from('computed by the caller'));
  const root = await tempDir(t);
  await mkdir(join(root, 'a'));
  await mkdir(join(root, 'b'));
  const plain = await extractLayer(Readable.from([tar]), join(root, 'a'), { asRoot: false, inputDigest: Promise.resolve(given) });
  assert.equal(plain.diffId, given);
  const zipped = await extractLayer(Readable.from([gzipSync(tar)]), join(root, 'b'), { asRoot: false, inputDigest: Promise.resolve(given) });
  assert.equal(zipped.diffId, sha256Digest(tar));
});

test('a caller digest that fails fails the extract', async (t) => {
  const root = await tempDir(t);
  const failed = Promise.reject(new Error('not hashed'));
  failed.catch(() => undefined);
  await assert.rejects(extractLayer(Readable.from([buildTar(ordinary)]), root, { asRoot: false, inputDigest: failed }), /not hashed/);
});
