import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLocalPath, secureJoin } from './secure-join.js';
import { parseMountInfo } from './mountinfo.js';

test('secureJoin keeps .. and absolute or relative symlinks inside the root', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-sj-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'etc', 'app'), { recursive: true });
  await symlink('/etc', join(root, 'abs'));
  await symlink('../../../../..', join(root, 'etc', 'up'));
  await symlink('loop2', join(root, 'loop1'));
  await symlink('loop1', join(root, 'loop2'));
  assert.equal(await secureJoin(root, '/../../etc/app'), join(root, 'etc', 'app'));
  assert.equal(await secureJoin(root, '/abs/app'), join(root, 'etc', 'app'));
  assert.equal(await secureJoin(root, '/etc/up/etc'), join(root, 'etc'));
  assert.equal(await secureJoin(root, '/missing/x'), join(root, 'missing', 'x'));
  await assert.rejects(secureJoin(root, '/loop1'), /too many levels of symbolic links/);
});

test('isLocalPath accepts only relative paths that stay inside', () => {
  assert.ok(isLocalPath('a/b'));
  assert.ok(isLocalPath('a/../b'));
  for (const p of ['', '/a', '..', '../a', 'a/../../b']) assert.equal(isLocalPath(p), false, p);
});

test('mountinfo lines are parsed with octal escapes undone', () => {
  const text =
    '36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n' +
    '40 36 0:33 / /var/lib/x/_data rw shared:2 - tmpfs tmpfs rw,size=1024k\n';
  assert.deepEqual(parseMountInfo(text), [
    { mountPoint: '/mnt/with space', fsType: 'ext3', source: '/dev/root' },
    { mountPoint: '/var/lib/x/_data', fsType: 'tmpfs', source: 'tmpfs' },
  ]);
});
