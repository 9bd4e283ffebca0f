// Containers of a foreign platform through the docker CLI: with binfmt_misc emulation they run
// (`uname -m` prints the emulated machine) and an image of another platform, run without
// --platform, gets docker's WARNING; without emulation create fails (exit 125) with one line
// naming the platform and the fix, and leaves no container behind.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { emulationFor } from '../../../src/runtime/index.js';
import { startTestDaemon } from '../../helpers/daemon.js';
import { dockerBuild, makeContext } from '../build/fixtures.js';
import { berth } from '../cli/berth-cli.js';
import { startDaemonWithoutEmulation } from '../../helpers/no-emulation.js';

/** Where bootstrap caches Debian's busybox-static:arm64 (shared with the builder's platform test). */
const CACHE_DIR = process.env['BERTH_TEST_CACHE_DIR'] ?? '/var/cache/berth';
const FOREIGN = process.arch === 'arm64' ? 'amd64' : 'arm64';
const HOST = process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
const MISMATCH = `WARNING: The requested image's platform (linux/arm64) does not match the detected host platform (${HOST}) and no specific platform was requested`;

test('a foreign-platform image without emulation is refused at create with the platform and the fix, leaving nothing behind', async (t) => {
  const d = await startDaemonWithoutEmulation(t);
  if (!d) return;
  // FROM --platform=<foreign> scratch makes an image of that platform (no RUN: nothing executes).
  const dir = await makeContext(t, { Dockerfile: `FROM --platform=linux/${FOREIGN} scratch\nCOPY hello /hello\n`, hello: 'hi\n' });
  const built = await dockerBuild(d, dir, ['-t', 'foreign:1']);
  assert.equal(built.code, 0, built.stderr);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', 'foreign:1'])).stdout.trim(), `linux/${FOREIGN}`);

  // docker run exits 125 when the daemon refuses the container; docker create exits 1.
  const attempts: Array<[string[], number]> = [
    [['run', '--rm', 'foreign:1', '/hello'], 125],
    [['run', '--rm', '--platform', `linux/${FOREIGN}`, 'foreign:1', '/hello'], 125],
    [['create', 'foreign:1', '/hello'], 1],
  ];
  for (const [args, code] of attempts) {
    const r = await d.docker(args);
    assert.equal(r.code, code, `docker ${args.join(' ')}: ${r.stderr}`);
    const line = r.stderr.split('\n').find((l) => l.includes('exec format error'));
    assert.ok(line, r.stderr);
    assert.ok(line.includes(`image foreign:1 is linux/${FOREIGN}: cannot run linux/${FOREIGN} binaries`), line);
    assert.match(line, /install qemu-user-static and register it with binfmt_misc/);
  }
  assert.equal((await d.docker(['ps', '-aq'])).stdout.trim(), '', 'no container was created');
  assert.deepEqual(await readdir(join(d.dataRoot, 'containers')).catch(() => []), [], 'no container record is left');
});

test('with emulation a foreign container runs, and an image of another platform run without --platform warns as docker does', async (t) => {
  if (process.arch !== 'x64') return t.skip('the emulated-run test expects an amd64 host');
  const emu = await emulationFor({ os: 'linux', architecture: 'arm64' });
  if (!emu.ok) return t.skip(`no arm64 emulation here: ${emu.reason} (install qemu-user-static and run scripts/setup)`);
  const d = await startTestDaemon(t);
  if (!d) return;
  t.after(() => d.stop());
  const boot = await berth(d.socketPath, ['bootstrap', '--only', 'busybox', '--platform', 'linux/arm64', '--cache-dir', CACHE_DIR], { timeoutMs: 300_000 });
  if (boot.code !== 0 && /cannot download busybox-static/.test(boot.stderr)) return t.skip(`Debian's busybox-static:arm64 is not available: ${boot.stderr.trim()}`);
  assert.equal(boot.code, 0, boot.stderr);

  const asked = await d.docker(['run', '--rm', '--platform', 'linux/arm64', 'busybox', 'uname', '-m']);
  assert.equal(asked.code, 0, asked.stderr);
  assert.equal(asked.stdout.trim(), 'aarch64');
  assert.doesNotMatch(asked.stderr, /WARNING/, 'an asked-for platform is not warned about');

  // An arm64-only image (its FROM's platform, built for the host target).
  const dir = await makeContext(t, { Dockerfile: 'FROM --platform=linux/arm64 busybox\nLABEL arm=1\n' });
  const built = await dockerBuild(d, dir, ['-t', 'armonly:1']);
  assert.equal(built.code, 0, built.stderr);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Architecture}}', 'armonly:1'])).stdout.trim(), 'arm64');
  const unasked = await d.docker(['run', '--rm', 'armonly:1', 'uname', '-m']);
  assert.equal(unasked.code, 0, unasked.stderr);
  assert.equal(unasked.stdout.trim(), 'aarch64');
  assert.ok(unasked.stderr.includes(MISMATCH), unasked.stderr);
  const ours = await berth(d.socketPath, ['run', '--rm', 'armonly:1', 'uname', '-m']);
  assert.equal(ours.stdout.trim(), 'aarch64', ours.stderr);
  assert.ok(ours.stderr.includes(MISMATCH), `berth run prints the warning too: ${ours.stderr}`);
  const create = await d.request('POST', '/containers/create', { Image: 'armonly:1', Cmd: ['true'] });
  assert.equal(create.status, 201, create.text);
  const body = create.json<{ Id: string; Warnings: string[] }>();
  assert.deepEqual(body.Warnings, [MISMATCH.slice('WARNING: '.length)]);
  assert.equal((await d.docker(['rm', body.Id])).code, 0);
  const native = await d.docker(['run', '--rm', 'busybox', 'uname', '-m']);
  assert.equal(native.stdout.trim(), 'x86_64');
  assert.doesNotMatch(native.stderr, /WARNING/);
});
