// The hostile-tar corpus applied as root through the layer store (GNU tar with --same-owner):
// every unsafe layer is rejected naming its member, and nothing is left in the store or outside.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { errorKind } from '../../../src/util/index.js';
import { openStorage, type Storage } from '../../../src/storage/index.js';
import { buildTar, hostileLayers, type MemberSpec } from '../../../src/storage/tar/tar-builder.js';

const skip = process.getuid?.() === 0 ? false : 'needs root (extraction with --same-owner, devices)';

async function setup(t: TestContext): Promise<{ root: string; outside: string; s: Storage }> {
  const root = await mkdtemp(join(tmpdir(), 'berth-hostile-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const outside = join(root, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'target'), 'original');
  return { root, outside, s: await openStorage(join(root, 'data')) };
}

async function assertUntouched(root: string, outside: string): Promise<void> {
  assert.deepEqual(await readdir(join(root, 'data', 'layers')), ['l']);
  assert.deepEqual(await readdir(join(root, 'data', 'layers', 'l')), []);
  assert.deepEqual(await readdir(outside), ['target']);
  assert.equal(await readFile(join(outside, 'target'), 'utf8'), 'original');
}

test('every hostile layer is rejected as root and leaves nothing behind', { skip }, async (t) => {
  const { root, outside, s } = await setup(t);
  // Point the absolute-path cases at our own "outside" dir, so a bug would show there.
  const retarget = (m: MemberSpec): MemberSpec => ({
    ...m,
    name: m.name.startsWith('/') ? join(outside, m.name.replace(/^\/(etc|tmp)\/?/, '')) : m.name,
    linkname: m.linkname?.startsWith('/') ? join(outside, m.linkname.replace(/^\/(etc|tmp)\/?/, '')) : m.linkname,
  });
  for (const c of hostileLayers) {
    for (const compress of [false, true]) {
      const tar = buildTar([...c.members.map(retarget), { name: 'after', data: 'x' }]);
      await assert.rejects(
        s.layers.apply(undefined, Readable.from([compress ? gzipSync(tar) : tar])),
        (e: Error) => errorKind(e) === 'invalid-argument' && /unsafe layer member/.test(e.message),
        c.why,
      );
      await assertUntouched(root, outside);
    }
  }
});

test('a file replacing an escaping symlink is written inside the layer, not through the link', { skip }, async (t) => {
  const { root, outside, s } = await setup(t);
  const layer = await s.layers.apply(
    undefined,
    Readable.from([
      buildTar([
        { name: 'evil', type: 'symlink', linkname: join(outside, 'target') },
        { name: 'evil', data: 'overwritten' },
        { name: 'rel', type: 'symlink', linkname: '../../../outside/target' },
        { name: 'rel', data: 'overwritten too' },
      ]),
    ]),
  );
  const d = s.layers.diffPath(layer.chainId);
  assert.ok((await lstat(join(d, 'evil'))).isFile());
  assert.equal(await readFile(join(d, 'evil'), 'utf8'), 'overwritten');
  assert.equal(await readFile(join(d, 'rel'), 'utf8'), 'overwritten too');
  assert.equal(await readFile(join(outside, 'target'), 'utf8'), 'original');
});

test('an escaping symlink as the last member stays a harmless link inside the layer', { skip }, async (t) => {
  const { outside, s } = await setup(t);
  const layer = await s.layers.apply(undefined, Readable.from([buildTar([{ name: 'etc-link', type: 'symlink', linkname: join(outside, 'target') }])]));
  const d = s.layers.diffPath(layer.chainId);
  assert.ok((await lstat(join(d, 'etc-link'))).isSymbolicLink());
  assert.equal(await readFile(join(outside, 'target'), 'utf8'), 'original');
});

test('corrupt and truncated layers fail as root and leave nothing behind', { skip }, async (t) => {
  const { root, outside, s } = await setup(t);
  const tar = buildTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/big', data: Buffer.alloc(300_000, 1) }, { name: 'etc/small', data: 'x' }]);
  const gz = gzipSync(tar);
  const corrupt = Buffer.from(gz);
  corrupt.fill(0xaa, 100, 200);
  for (const bad of [tar.subarray(0, 200_000), gz.subarray(0, gz.length - 100), corrupt, Buffer.from('not a layer at all, just text')]) {
    await assert.rejects(s.layers.apply(undefined, Readable.from([bad])), (e) => errorKind(e) === 'invalid-argument');
    await assertUntouched(root, outside);
  }
});

test('a directory replacing an escaping symlink does not chmod or chown the link target', { skip }, async (t) => {
  const { outside, s } = await setup(t);
  const before = await stat(outside);
  const layer = await s.layers.apply(
    undefined,
    Readable.from([
      buildTar([
        { name: 'd', type: 'symlink', linkname: outside },
        { name: 'd/', type: 'dir', mode: 0o777, uid: 4321 },
        { name: 'd/inside', data: 'stays in the layer' },
      ]),
    ]),
  );
  const d = s.layers.diffPath(layer.chainId);
  assert.ok((await lstat(join(d, 'd'))).isDirectory());
  assert.equal(await readFile(join(d, 'd/inside'), 'utf8'), 'stays in the layer');
  const after = await stat(outside);
  assert.deepEqual([after.mode, after.uid], [before.mode, before.uid]);
  assert.deepEqual(await readdir(outside), ['target']);
});
