import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { errorKind } from '../../util/index.js';
import { extractArchive, resolveInRoot } from './archive-extract.js';
import { buildTar } from './tar-builder.js';

async function rootfs(t: TestContext): Promise<{ root: string; outside: string }> {
  const base = await mkdtemp(join(tmpdir(), 'berth-archive-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'rootfs');
  const outside = join(base, 'outside');
  await mkdir(join(root, 'usr/lib'), { recursive: true });
  await mkdir(join(root, 'tmp'), { recursive: true });
  await mkdir(outside);
  await symlink('usr/lib', join(root, 'lib')); // merged /usr, as in Debian
  await symlink('/', join(root, 'tmp/host')); // a container's trap: absolute link to "/"
  await symlink('../../..', join(root, 'tmp/up'));
  await writeFile(join(root, 'usr/lib/existing'), 'keep');
  return { root, outside };
}

test('resolveInRoot follows links as a chroot would, clamped at the root', async (t) => {
  const { root } = await rootfs(t);
  assert.equal(await resolveInRoot(root, join(root, 'lib/x')), join(root, 'usr/lib/x'));
  assert.equal(await resolveInRoot(root, join(root, 'tmp/host/etc')), join(root, 'etc'));
  assert.equal(await resolveInRoot(root, join(root, 'tmp/up/etc')), join(root, 'etc'));
  assert.equal(await resolveInRoot(root, join(root, 'tmp/up/missing/x')), join(root, 'missing/x'));
});

test('extractArchive merges into existing dirs, follows links inside the root and never escapes it', async (t) => {
  const { root, outside } = await rootfs(t);
  const tar = buildTar([
    { name: 'host/', type: 'dir' },
    { name: 'host/etc/', type: 'dir' },
    { name: 'host/etc/passwd', data: 'pwned?' },
    { name: 'up/', type: 'dir' },
    { name: 'up/escape', data: 'pwned?' },
    { name: '.wh.plain', data: 'ordinary file here' },
  ]);
  await extractArchive(Readable.from([buildTar([{ name: 'lib/', type: 'dir' }, { name: 'lib/new.so', data: 'so' }])]), root, { asRoot: false });
  await extractArchive(Readable.from([tar]), join(root, 'tmp'), { root, asRoot: false });
  assert.equal(await readFile(join(root, 'usr/lib/existing'), 'utf8'), 'keep');
  assert.ok((await lstat(join(root, 'lib'))).isSymbolicLink(), 'the container link stays');
  assert.equal(await readFile(join(root, 'usr/lib/new.so'), 'utf8'), 'so');
  assert.equal(await readFile(join(root, 'etc/passwd'), 'utf8'), 'pwned?', 'written inside the root, where the link points in the container');
  assert.equal(await readFile(join(root, 'escape'), 'utf8'), 'pwned?');
  assert.ok(!(await readdir(root)).some((n) => n.startsWith('.berth-extract-')));
  assert.equal(await readFile(join(root, 'tmp/.wh.plain'), 'utf8'), 'ordinary file here');
  assert.deepEqual(await readdir(outside), []);
  assert.ok(!(await readdir(join(root, 'tmp'))).some((n) => n.startsWith('.berth-extract-')));
});

test('extractArchive replaces a file link instead of writing through it', async (t) => {
  const { root, outside } = await rootfs(t);
  await writeFile(join(outside, 'target'), 'original');
  await symlink(join(outside, 'target'), join(root, 'tmp/trap'));
  await extractArchive(Readable.from([buildTar([{ name: 'trap', data: 'new' }])]), join(root, 'tmp'), { root, asRoot: false });
  assert.equal(await readFile(join(outside, 'target'), 'utf8'), 'original');
  assert.equal(await readFile(join(root, 'tmp/trap'), 'utf8'), 'new');
  await assert.rejects(readlink(join(root, 'tmp/trap')));
});

test('extractArchive refuses a hostile archive and leaves no staging dir', async (t) => {
  const { root } = await rootfs(t);
  await assert.rejects(
    extractArchive(Readable.from([buildTar([{ name: '../../evil', data: 'x' }])]), join(root, 'tmp'), { root, asRoot: false }),
    (e) => errorKind(e) === 'invalid-argument',
  );
  await assert.rejects(
    extractArchive(Readable.from([buildTar([{ name: 'usr', data: 'file over a dir' }])]), root, { asRoot: false }),
    (e) => errorKind(e) === 'invalid-argument',
  );
  assert.deepEqual((await readdir(join(root, 'tmp'))).sort(), ['host', 'up']);
  assert.ok(!(await readdir(root)).some((n) => n.startsWith('.berth-extract-')));
});
