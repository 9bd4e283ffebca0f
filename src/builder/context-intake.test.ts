import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import { unpackContext } from './context-intake.js';

type H = Partial<Header> & Pick<Header, 'name'>;

async function tarOf(entries: Array<[H, string?]>): Promise<Buffer> {
  const p = tarPack();
  for (const [h, body] of entries) p.entry(h, body ?? '');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-intake-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('unpackContext spools file bytes, indexes members with their digests and writes a tree only on demand', async (t) => {
  const dir = await tempDir(t);
  const tar = await tarOf([
    [{ name: 'src/', type: 'directory', mode: 0o755 }],
    [{ name: 'src/a.txt', mode: 0o640 }, 'hello'],
    [{ name: 'link', type: 'symlink', linkname: 'src/a.txt' }],
    [{ name: 'implied/b.txt' }, 'b'],
  ]);
  const r = await unpackContext(Readable.from([tar]), dir);
  t.after(() => r.spool.close());
  const a = r.entries.get('src/a.txt')!;
  assert.equal(a.digest, 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  assert.equal((await r.spool.read(a)).toString(), 'hello');
  assert.equal(r.entries.get('src')?.type, 'dir');
  assert.equal(r.entries.get('implied')?.type, 'dir', 'a directory named only by its members is indexed');
  await assert.rejects(lstat(join(dir, 'src')), 'no tree before it is asked for');
  const tree = await r.spool.materialize();
  assert.equal(await readFile(join(tree, 'src/a.txt'), 'utf8'), 'hello');
  assert.equal((await lstat(join(tree, 'src/a.txt'))).mode & 0o777, 0o640);
  assert.equal(await readlink(join(tree, 'link')), 'src/a.txt');
});

test('unpackContext reads gzip contexts', async (t) => {
  const dir = await tempDir(t);
  const tar = gzipSync(await tarOf([[{ name: 'Dockerfile' }, 'FROM scratch\n']]));
  const r = await unpackContext(Readable.from([tar]), dir);
  await r.spool.close();
  assert.ok(r.entries.has('Dockerfile'));
  assert.equal(r.bytes, tar.length);
});

for (const [what, entries, message] of [
  ['an absolute path', [[{ name: '/etc/passwd' }, 'x']], /absolute path/],
  ['a parent reference', [[{ name: '../escape' }, 'x']], /escapes the context/],
  ['a write through a symlink', [[{ name: 'l', type: 'symlink', linkname: '/tmp' }], [{ name: 'l/owned' }, 'x']], /inside the symlink/],
  ['a hard link to a file outside', [[{ name: 'h', type: 'link', linkname: '../../etc/shadow' }]], /escapes the context/],
  ['a device', [[{ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }]], /unsupported type/],
] as Array<[string, Array<[H, string?]>, RegExp]>) {
  test(`unpackContext rejects ${what}`, async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(unpackContext(Readable.from([await tarOf(entries)]), dir), message);
  });
}

test('unpackContext rejects bzip2 contexts with a clear message', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(unpackContext(Readable.from([Buffer.from('BZh91AY&SY')]), dir), /bzip2/);
});
