// Copy-up through the VolumeService with real ownership, modes, xattrs, hardlinks,
// symlinks and special files (root: chown to other users and trusted xattrs need it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../../src/util/index.js';
import { VolumeService, parseMountConfig } from '../../../src/volume/index.js';

function requireRoot(t: { skip(msg: string): void }): boolean {
  if (process.getuid?.() === 0) return true;
  t.skip('needs root: copy-up keeps other users\' ownership and trusted xattrs');
  return false;
}

/** Sets an xattr with Python (no attr package needed); Node has no setxattr. */
function setXattr(path: string, name: string, value: string): boolean {
  const r = spawnSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())', path, name, value]);
  return r.status === 0;
}

function getXattr(path: string, name: string): string | undefined {
  const r = spawnSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())', path, name], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout : undefined;
}

test('a fresh volume gets the image directory with owners, modes, xattrs, links and special files kept', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-copyup-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  const img = join(rootfs, 'var', 'lib', 'db');
  await mkdir(join(img, 'sub'), { recursive: true });
  await chown(img, 999, 998);
  await chmod(img, 0o750);
  await writeFile(join(img, 'sub', 'data.bin'), 'payload');
  await chown(join(img, 'sub', 'data.bin'), 1234, 5678);
  await chmod(join(img, 'sub', 'data.bin'), 0o4640);
  await link(join(img, 'sub', 'data.bin'), join(img, 'hard'));
  await symlink('../../../etc/passwd', join(img, 'ln'));
  spawnSync('mkfifo', [join(img, 'fifo')]);
  const hasXattrs = setXattr(join(img, 'sub', 'data.bin'), 'user.berth', 'kept') && setXattr(join(img, 'sub'), 'trusted.berth', 'dir');

  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  const specs = await parseMountConfig({ binds: ['dbdata:/var/lib/db'] });
  await svc.resolveMounts(specs, { containerId: 'c1', rootfs });
  const data = svc.mountpointOf('dbdata');

  const rootSt = await stat(data);
  assert.deepEqual([rootSt.uid, rootSt.gid, rootSt.mode & 0o7777], [999, 998, 0o750], 'the volume root takes the image dir\'s owner and mode');
  const f = await stat(join(data, 'sub', 'data.bin'));
  assert.deepEqual([f.uid, f.gid, f.mode & 0o7777], [1234, 5678, 0o4640]);
  assert.equal(await readFile(join(data, 'sub', 'data.bin'), 'utf8'), 'payload');
  assert.equal((await stat(join(data, 'hard'))).ino, f.ino, 'hardlinks stay hardlinks');
  assert.equal(await readlink(join(data, 'ln')), '../../../etc/passwd', 'symlinks are copied, not followed');
  assert.ok((await lstat(join(data, 'fifo'))).isFIFO());
  if (hasXattrs) {
    assert.equal(getXattr(join(data, 'sub', 'data.bin'), 'user.berth'), 'kept');
    assert.equal(getXattr(join(data, 'sub'), 'trusted.berth'), 'dir');
  } else {
    t.diagnostic('xattrs not supported on this temp filesystem: xattr checks skipped');
  }

  // A later container never copies again, even into a volume that was emptied.
  await rm(join(data, 'sub'), { recursive: true });
  await svc.resolveMounts(await parseMountConfig({ binds: ['dbdata:/var/lib/db'] }), { containerId: 'c2', rootfs });
  await assert.rejects(stat(join(data, 'sub')), { code: 'ENOENT' });
  await svc.releaseMounts('c1');
  await svc.releaseMounts('c2');
});

test('nocopy and an image without the directory leave the volume empty but root-owned', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-copyup-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'data'), { recursive: true });
  await writeFile(join(rootfs, 'data', 'x'), 'x');
  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  await svc.resolveMounts(await parseMountConfig({ binds: ['nc1:/data:nocopy', 'absent:/not/in/image'] }), { containerId: 'c1', rootfs });
  for (const name of ['nc1', 'absent']) {
    const st = await stat(svc.mountpointOf(name));
    assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o755], name);
  }
  assert.deepEqual(await (await import('node:fs/promises')).readdir(svc.mountpointOf('nc1')), []);
  await svc.releaseMounts('c1');
});

test('copy-up resolves an image symlink at the mount path inside the rootfs, never on the host', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-copyup-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, 'etc', 'image-file'), 'inside');
  // /conf -> /etc: must mean <rootfs>/etc, not the host's /etc.
  await symlink('/etc', join(rootfs, 'conf'));
  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  await svc.resolveMounts(await parseMountConfig({ binds: ['conf1:/conf'] }), { containerId: 'c1', rootfs });
  const entries = await (await import('node:fs/promises')).readdir(svc.mountpointOf('conf1'));
  assert.deepEqual(entries, ['image-file']);
  await svc.releaseMounts('c1', { removeAnonymous: true });
});
