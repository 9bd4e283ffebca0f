import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorKind } from '../util/index.js';
import { assertCanRun, elfHeaderFor, emulationFor, entryMatches, parseBinfmtEntry } from './emulation.js';

// What the kernel shows for Debian's qemu-aarch64 registration (magic/mask from qemu-aarch64.conf).
const AARCH64 = (interpreter: string, flags = 'F', state = 'enabled') => `${state}
interpreter ${interpreter}
flags: ${flags}
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
`;
const HOST = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64' };

async function binfmtDir(t: TestContext, entries: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-binfmt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'status'), 'enabled\n');
  await writeFile(join(dir, 'register'), '');
  for (const [name, text] of Object.entries(entries)) await writeFile(join(dir, name), text);
  return dir;
}

test('a binfmt_misc entry file is parsed into interpreter, flags, offset, magic and mask', () => {
  const e = parseBinfmtEntry('qemu-aarch64', AARCH64('/usr/bin/qemu-aarch64-static', 'OCF'))!;
  assert.equal(e.enabled, true);
  assert.equal(e.interpreter, '/usr/bin/qemu-aarch64-static');
  assert.equal(e.flags, 'OCF');
  assert.equal(e.offset, 0);
  assert.equal(e.magic?.length, 20);
  assert.equal(parseBinfmtEntry('status', 'enabled\n'), undefined);
});

test('the aarch64 magic matches an arm64 ELF header and no other architecture', () => {
  const e = parseBinfmtEntry('qemu-aarch64', AARCH64('/x'))!;
  assert.equal(entryMatches(e, elfHeaderFor('arm64')!), true);
  for (const arch of ['amd64', 'arm', 'riscv64', 's390x', 'ppc64le']) assert.equal(entryMatches(e, elfHeaderFor(arch)!), false, arch);
});

test('the host platform always runs, without binfmt_misc', async (t) => {
  const dir = await binfmtDir(t, {});
  assert.deepEqual(await emulationFor(HOST, { binfmtDir: dir, host: HOST }), { ok: true, via: 'host' });
  assert.deepEqual(await emulationFor({ os: '', architecture: '' }, { binfmtDir: dir, host: HOST }), { ok: true, via: 'host' }, 'a config without a platform is the host\'s');
});

test('a foreign platform runs through an enabled F entry whose interpreter exists', async (t) => {
  const dir = await binfmtDir(t, { 'qemu-aarch64': AARCH64(process.execPath, 'POCF') });
  assert.deepEqual(await emulationFor(ARM64, { binfmtDir: dir, host: HOST }), { ok: true, via: 'qemu-aarch64' });
});

test('an entry without the F flag, disabled, or with a missing interpreter does not count, and says why', async (t) => {
  const noF = await binfmtDir(t, { 'qemu-aarch64': AARCH64(process.execPath, 'P') });
  const r1 = await emulationFor(ARM64, { binfmtDir: noF, host: HOST });
  assert.ok(!r1.ok && /F flag/.test(r1.reason));
  const off = await binfmtDir(t, { 'qemu-aarch64': AARCH64(process.execPath, 'F', 'disabled') });
  const r2 = await emulationFor(ARM64, { binfmtDir: off, host: HOST });
  assert.ok(!r2.ok && /disabled/.test(r2.reason));
  const gone = await binfmtDir(t, { 'qemu-aarch64': AARCH64('/nonexistent/qemu-aarch64-static') });
  const r3 = await emulationFor(ARM64, { binfmtDir: gone, host: HOST });
  assert.ok(!r3.ok && /missing/.test(r3.reason));
});

test('without emulation the error is one line naming the platform and the fix', async (t) => {
  const dir = await binfmtDir(t, {});
  await assert.rejects(assertCanRun(ARM64, { binfmtDir: dir, host: HOST }), (e: Error) => {
    assert.equal(errorKind(e), 'unavailable');
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, /linux\/arm64/);
    assert.match(e.message, /qemu-user-static/);
    assert.match(e.message, /binfmt_misc/);
    return true;
  });
  await assert.rejects(assertCanRun(ARM64, { binfmtDir: join(dir, 'absent'), host: HOST }), /not mounted/);
});

test('32-bit x86 on amd64 and 32-bit arm on arm64 count as native, without any binfmt_misc entry', async (t) => {
  const dir = await binfmtDir(t, {});
  assert.deepEqual(await emulationFor({ os: 'linux', architecture: '386' }, { binfmtDir: dir, host: HOST }), { ok: true, via: 'host' });
  assert.deepEqual(await emulationFor({ os: 'linux', architecture: 'arm', variant: 'v7' }, { binfmtDir: dir, host: ARM64 }), { ok: true, via: 'host' });
  assert.equal((await emulationFor({ os: 'linux', architecture: 'arm', variant: 'v7' }, { binfmtDir: dir, host: HOST })).ok, false);
  assert.deepEqual(await emulationFor({ os: 'windows', architecture: 'amd64' }, { binfmtDir: dir, host: HOST }), { ok: false, reason: 'windows binaries do not run on linux' });
});
