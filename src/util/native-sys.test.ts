import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NATIVE_SYS_FILE, isNativeSysError, loadNativeSys, nativeSys } from './native-sys.js';

const REPO = resolve(import.meta.dirname, '../..');
const BUILT = existsSync(join(REPO, 'dist', NATIVE_SYS_FILE));
const notBuilt = BUILT ? false : `no ${NATIVE_SYS_FILE} in dist/ (npm run build makes it)`;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-native-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('loadNativeSys finds no addon where no ancestor has dist/berth-sys.node', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'a', 'b'), { recursive: true });
  assert.equal(loadNativeSys(join(dir, 'a', 'b')), undefined);
});

test('loadNativeSys gives up on a dist/berth-sys.node that does not load', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'dist'));
  await writeFile(join(dir, 'dist', NATIVE_SYS_FILE), 'not an ELF file');
  assert.equal(loadNativeSys(join(dir, 'dist', 'chunks')), undefined);
});

test('BERTH_NATIVE=0 makes nativeSys answer undefined, and unsetting it brings the addon back', { skip: notBuilt }, (t) => {
  const before = process.env.BERTH_NATIVE;
  t.after(() => {
    if (before === undefined) delete process.env.BERTH_NATIVE;
    else process.env.BERTH_NATIVE = before;
  });
  process.env.BERTH_NATIVE = '0';
  assert.equal(nativeSys(), undefined);
  delete process.env.BERTH_NATIVE;
  assert.equal(typeof nativeSys()?.mount, 'function');
});

test('the built addon is found from any directory under the repository, as from dist/chunks', { skip: notBuilt }, () => {
  for (const dir of [join(REPO, 'dist', 'chunks'), join(REPO, 'bench', 'out', 'berthd', 'chunks'), join(REPO, 'src', 'util')]) {
    const sys = loadNativeSys(dir);
    assert.ok(sys, dir);
    assert.equal(typeof sys.bindNewNetns, 'function');
  }
});

test('the addon rejects with the code, errno, syscall and path of the call that failed', { skip: notBuilt }, async () => {
  const sys = loadNativeSys(REPO)!;
  const missing = join(tmpdir(), 'berth-native-no-such-dir', 'x');
  await assert.rejects(sys.umount(missing, 0), (e: unknown) => {
    assert.ok(isNativeSysError(e));
    // ENOENT as root (the path is looked up first); EPERM would mean no CAP_SYS_ADMIN.
    assert.ok(e.code === 'ENOENT' || e.code === 'EPERM', e.code);
    assert.ok(e.errno < 0);
    assert.equal(e.syscall, 'umount2');
    assert.equal(e.path, missing);
    assert.match(e.message, new RegExp(`^${e.code}: .*, umount2 '${missing}'$`));
    return true;
  });
});

test('the addon throws a TypeError for arguments of the wrong type, before queueing any work', { skip: notBuilt }, () => {
  const sys = loadNativeSys(REPO)!;
  assert.throws(() => sys.umount(42 as unknown as string, 0), TypeError);
  assert.throws(() => sys.umount('/x', -1), TypeError);
  assert.throws(() => sys.mount(null, '/x', 'overlay', 0, 'a\0b'), TypeError);
  assert.throws(() => sys.bindNewNetns(undefined as unknown as string), TypeError);
  assert.throws(() => (sys.umount as (target: string) => Promise<void>)('/x'), { name: 'TypeError', code: 'ERR_MISSING_ARGS' });
});
