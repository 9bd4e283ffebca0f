import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
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

test('plugVeth throws a TypeError for a bad interface name, MAC, address or prefix, before touching any namespace', { skip: notBuilt }, () => {
  const sys = loadNativeSys(REPO)!;
  const ok = ['/nonexistent/ns', 'eth0', '02:42:0a:00:00:02', 0, 'btv0123', '10.0.0.2', 24, '10.0.0.1', 'bt0'] as const;
  const plug = (i: number, v: unknown) => {
    const args: unknown[] = [...ok];
    args[i] = v;
    return () => (sys.plugVeth as (...a: unknown[]) => Promise<void>)(...args);
  };
  assert.throws(plug(1, 'a-name-longer-than-15'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(plug(1, ''), TypeError);
  assert.throws(plug(2, '02:42:0a:00:00'), TypeError);
  assert.throws(plug(2, '02:42:0a:00:00:02:ff'), TypeError);
  assert.throws(plug(5, '10.0.0.256'), TypeError);
  assert.throws(plug(6, 33), TypeError);
  assert.throws(plug(7, 'gw'), TypeError);
  assert.throws(plug(8, 42), TypeError);
  assert.throws(() => (sys.plugVeth as (...a: unknown[]) => Promise<void>)('/ns', 'eth0'), { name: 'TypeError', code: 'ERR_MISSING_ARGS' });
});

test('plugVeth rejects with the step that failed: a missing namespace file is an open of that path', { skip: notBuilt }, async () => {
  const sys = loadNativeSys(REPO)!;
  const missing = join(tmpdir(), 'berth-native-no-such-ns');
  await assert.rejects(sys.plugVeth(missing, 'eth0', '02:42:0a:00:00:02', 0, 'btv0123', '10.0.0.2', 24, null, 'bt0'), (e: unknown) => {
    assert.ok(isNativeSysError(e));
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.syscall, 'open');
    assert.equal(e.path, missing);
    return true;
  });
});

test('spawn and spawnDetached throw a TypeError for arguments of the wrong type, before starting anything', { skip: notBuilt }, () => {
  const sys = loadNativeSys(REPO)!;
  assert.throws(() => sys.spawn([], null, null, null, null, 1, 1), TypeError);
  assert.throws(() => sys.spawn(['true', 1 as unknown as string], null, null, null, null, 1, 1), TypeError);
  assert.throws(() => sys.spawn(['true'], null, null, null, 'text' as unknown as Uint8Array, 1, 1), TypeError);
  assert.throws(() => sys.spawn(['true'], null, null, null, null, -1, 1), TypeError);
  assert.throws(() => (sys.spawn as (argv: string[]) => unknown)(['true']), { name: 'TypeError', code: 'ERR_MISSING_ARGS' });
  assert.throws(() => sys.spawnDetached(['true'], null, null, [0, 1] as unknown as [number, number, number], 0), TypeError);
  assert.throws(() => sys.spawnDetached(['true'], null, null, [-1, -1, -1], 6), RangeError);
});

/** This process's open fds (as fd -> what it is), but the one that reads them. */
async function openFds(): Promise<Set<string>> {
  const fds = await readdir('/proc/self/fd');
  const out = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).then((to) => `${fd} ${to}`, () => undefined)));
  return new Set(out.filter((x): x is string => x !== undefined && !x.endsWith('/fd')));
}

/** The fds open now that were not in `before`. */
async function newFds(before: Set<string>): Promise<string[]> {
  return [...(await openFds())].filter((fd) => !before.has(fd));
}

test('spawns that fail leave no file descriptor open behind them', { skip: notBuilt }, async () => {
  const sys = loadNativeSys(REPO)!;
  const before = await openFds();
  for (let i = 0; i < 20; i++) {
    assert.throws(() => sys.spawn(['berth-no-such-binary'], null, null, null, Buffer.from('x'), 1024, 1024), { code: 'ENOENT' });
    assert.throws(() => sys.spawn(['true'], null, '/berth-no-such-dir', null, null, 1024, 1024), { code: 'ENOENT', syscall: 'chdir' });
    assert.throws(() => sys.spawn(['true'], null, null, '/berth-no-such-netns', null, 1024, 1024), { code: 'ENOENT', syscall: 'open' });
    await assert.rejects(sys.spawnDetached(['berth-no-such-binary'], null, null, [-1, -1, -1], 3), { code: 'ENOENT', syscall: 'spawn berth-no-such-binary' });
  }
  assert.deepEqual(await newFds(before), []);
});

test('a spawned command leaves no file descriptor open once it is done', { skip: notBuilt }, async () => {
  const sys = loadNativeSys(REPO)!;
  const before = await openFds();
  for (let i = 0; i < 20; i++) {
    const r = await sys.spawn(['sh', '-c', 'cat; echo err >&2; exit 2'], null, null, null, Buffer.from('in'), 1024, 1024).done;
    assert.deepEqual([r.stdout.toString(), r.stderr.toString(), r.exitCode, r.signal, r.overflowed], ['in', 'err\n', 2, null, false]);
  }
  // The poll handles close on the loop's next turn.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(await newFds(before), []);
});
