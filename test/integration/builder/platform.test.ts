// Multi-platform: busybox:latest bootstrapped as an amd64+arm64 index, a two-platform build whose
// RUN steps execute under qemu-user-static (binfmt_misc), run/inspect/save/load of the index,
// every --output type, and the one-line error when no emulator is registered. Skips with the
// reason when qemu or binfmt_misc is unavailable, or Debian's arm64 busybox cannot be fetched.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { tarEntries } from '../../../src/image/archive-fixtures.js';
import { createReadStream } from 'node:fs';
import { emulationFor } from '../../../src/runtime/index.js';
import { startTestDaemon } from '../../helpers/daemon.js';
import { dockerBuild, makeContext } from '../build/fixtures.js';
import { berth } from '../cli/berth-cli.js';
import { startDaemonWithoutEmulation } from '../../helpers/no-emulation.js';

const ARM64 = { os: 'linux', architecture: 'arm64' };
/** Where bootstrap caches Debian's busybox-static:arm64 (shared across runs: a download is slow). */
const CACHE_DIR = process.env['BERTH_TEST_CACHE_DIR'] ?? '/var/cache/berth';
const BUILD_TIMEOUT = 300_000;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-platform-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const DOCKERFILE = [
  'FROM --platform=$BUILDPLATFORM busybox AS tools',
  'RUN uname -m > /buildarch',
  'FROM busybox',
  'ARG TARGETARCH',
  'COPY --from=tools /buildarch /buildarch',
  'RUN uname -m > /arch && echo $TARGETARCH > /targetarch',
  '',
].join('\n');

test('multi-platform images, builds and outputs', async (t) => {
  if (process.arch !== 'x64') return t.skip('the multi-platform test expects an amd64 host');
  const emu = await emulationFor(ARM64);
  if (!emu.ok) return t.skip(`no arm64 emulation here: ${emu.reason} (install qemu-user-static and run scripts/setup)`);
  const d = await startTestDaemon(t);
  if (!d) return;
  t.after(() => d.stop());
  const boot = await berth(d.socketPath, ['bootstrap', '--only', 'busybox', '--platform', 'linux/arm64', '--cache-dir', CACHE_DIR], { timeoutMs: BUILD_TIMEOUT });
  if (boot.code !== 0 && /cannot download busybox-static/.test(boot.stderr)) return t.skip(`Debian's busybox-static:arm64 is not available: ${boot.stderr.trim()}`);
  assert.equal(boot.code, 0, boot.stderr);

  await t.test('bootstrap makes busybox:latest an index that runs on either platform', async () => {
    const p = await berth(d.socketPath, ['image', 'inspect', '--platforms', 'busybox']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /index sha256:[0-9a-f]{64}/);
    assert.match(p.stdout, /^linux\/amd64\s+sha256:[0-9a-f]{64}\s+[0-9a-f]{12}\s/m);
    assert.match(p.stdout, /^linux\/arm64\s+sha256:[0-9a-f]{64}\s+[0-9a-f]{12}\s/m);
    assert.equal((await d.docker(['run', '--rm', '--platform', 'linux/arm64', 'busybox', 'uname', '-m'])).stdout.trim(), 'aarch64');
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'uname', '-m'])).stdout.trim(), 'x86_64');
    const images = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(images.stdout.trim().split('\n'), ['busybox:latest'], 'the tag is listed once');
    const inspect = await d.docker(['image', 'inspect', '--format', '{{.Architecture}}', 'busybox']);
    assert.equal(inspect.stdout.trim(), 'amd64', 'inspect shows the host platform');
    const again = await berth(d.socketPath, ['bootstrap', '--only', 'busybox', '--platform', 'linux/arm64', '--cache-dir', CACHE_DIR]);
    assert.match(again.stdout, /already present/);
  });

  await t.test('a two-platform build runs RUN under emulation, sets TARGETARCH, honors FROM --platform=$BUILDPLATFORM and stores one index', async (t) => {
    const dir = await makeContext(t, { Dockerfile: DOCKERFILE });
    const r = await berth(d.socketPath, ['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-t', 'multi:1', dir], { timeoutMs: BUILD_TIMEOUT });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[linux\/arm64\]/);
    const cat = (platform: string, file: string) => d.docker(['run', '--rm', '--platform', platform, 'multi:1', 'cat', file]).then((x) => x.stdout.trim());
    assert.equal(await cat('linux/arm64', '/arch'), 'aarch64');
    assert.equal(await cat('linux/arm64', '/targetarch'), 'arm64');
    assert.equal(await cat('linux/arm64', '/buildarch'), 'x86_64', 'the tools stage ran on the build platform');
    assert.equal(await cat('linux/amd64', '/arch'), 'x86_64');
    assert.equal(await cat('linux/amd64', '/targetarch'), 'amd64');
    const p = await berth(d.socketPath, ['image', 'inspect', '--platforms', 'multi:1']);
    assert.match(p.stdout, /^linux\/amd64\s/m);
    assert.match(p.stdout, /^linux\/arm64\s/m);
    const wrong = await d.docker(['run', '--rm', '--pull', 'never', '--platform', 'linux/s390x', 'multi:1', 'true']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /linux\/s390x/);
    const cached = await berth(d.socketPath, ['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-t', 'multi:1', dir], { timeoutMs: BUILD_TIMEOUT });
    assert.equal(cached.code, 0, cached.stderr);
    assert.doesNotMatch(cached.stderr, /cache miss/i, 'a second build is fully cached per platform');
  });

  await t.test('save and load keep the index and both platforms', async (t) => {
    const dir = await tempDir(t);
    const archive = join(dir, 'multi.tar');
    assert.equal((await d.docker(['save', '-o', archive, 'multi:1'])).code, 0);
    const rm = await d.docker(['rmi', 'multi:1']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.notEqual((await d.docker(['image', 'inspect', 'multi:1'])).code, 0);
    const load = await d.docker(['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: multi:1/);
    const p = await berth(d.socketPath, ['image', 'inspect', '--platforms', 'multi:1']);
    assert.match(p.stdout, /^linux\/arm64\s+sha256:[0-9a-f]{64}\s+[0-9a-f]{12}\s/m);
    assert.equal((await d.docker(['run', '--rm', '--platform', 'linux/arm64', 'multi:1', 'cat', '/arch'])).stdout.trim(), 'aarch64');
  });

  await t.test('--output writes one directory per platform (local, tar) or one index (oci) and tags nothing', async (t) => {
    const ctx = await makeContext(t, { Dockerfile: DOCKERFILE });
    const out = await tempDir(t);
    const both = ['build', '-q', '--platform', 'linux/amd64,linux/arm64', '-t', 'notag:1'];
    const local = await berth(d.socketPath, [...both, '-o', `type=local,dest=${join(out, 'local')}`, ctx], { timeoutMs: BUILD_TIMEOUT });
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual((await readdir(join(out, 'local'))).sort(), ['linux_amd64', 'linux_arm64']);
    assert.equal(await readFile(join(out, 'local', 'linux_arm64', 'arch'), 'utf8'), 'aarch64\n');
    assert.equal(await readFile(join(out, 'local', 'linux_amd64', 'arch'), 'utf8'), 'x86_64\n');

    const tar = await berth(d.socketPath, [...both, '-o', `type=tar,dest=${join(out, 'fs.tar')}`, ctx], { timeoutMs: BUILD_TIMEOUT });
    assert.equal(tar.code, 0, tar.stderr);
    const members = await tarEntries(createReadStream(join(out, 'fs.tar')));
    assert.equal(members.get('linux_arm64/arch')?.toString(), 'aarch64\n');
    assert.equal(members.get('linux_amd64/targetarch')?.toString(), 'amd64\n');

    const oci = await berth(d.socketPath, [...both, '-o', `type=oci,dest=${join(out, 'oci.tar')}`, ctx], { timeoutMs: BUILD_TIMEOUT });
    assert.equal(oci.code, 0, oci.stderr);
    const layout = await tarEntries(createReadStream(join(out, 'oci.tar')));
    assert.ok(layout.has('oci-layout'));
    const top = JSON.parse(layout.get('index.json')!.toString()) as { manifests: Array<{ digest: string; mediaType: string }> };
    assert.equal(top.manifests.length, 1);
    assert.equal(top.manifests[0]!.mediaType, 'application/vnd.oci.image.index.v1+json');
    const index = JSON.parse(layout.get(`blobs/sha256/${top.manifests[0]!.digest.slice(7)}`)!.toString()) as { manifests: Array<{ platform: { architecture: string } }> };
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture).sort(), ['amd64', 'arm64']);

    const docker = await berth(d.socketPath, ['build', '-q', '--platform', 'linux/arm64', '-t', 'notag:1', '-o', `type=docker,dest=${join(out, 'docker.tar')}`, ctx], { timeoutMs: BUILD_TIMEOUT });
    assert.equal(docker.code, 0, docker.stderr);
    assert.notEqual((await d.docker(['image', 'inspect', 'notag:1'])).code, 0, 'an exported build is not tagged');
    const loaded = await d.docker(['load', '-i', join(out, 'docker.tar')]);
    assert.equal(loaded.code, 0, loaded.stderr);
    const id = /Loaded image ID: (sha256:[0-9a-f]{64})/.exec(loaded.stdout)?.[1];
    assert.ok(id, loaded.stdout);
    assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Architecture}}', id])).stdout.trim(), 'arm64');
  });

  await t.test('a failing platform is named with its step in the one-line error of berth build and of the legacy docker build stream', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nARG TARGETARCH\nRUN test $TARGETARCH = amd64\n' });
    const line = /\[linux\/arm64 3\/3\] RUN test \$TARGETARCH = amd64: process "\/bin\/sh -c test \$TARGETARCH = amd64" did not complete successfully: exit code: 1/;
    const r = await berth(d.socketPath, ['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-t', 'fails:1', dir], { timeoutMs: BUILD_TIMEOUT });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, line);
    const legacy = await dockerBuild(d, dir, ['--platform', 'linux/amd64,linux/arm64', '-t', 'fails:1']);
    assert.notEqual(legacy.code, 0);
    assert.match(legacy.stderr, line);
    assert.notEqual((await d.docker(['image', 'inspect', 'fails:1'])).code, 0, 'nothing is tagged');
  });

  await t.test('a platform the base image lacks fails naming that platform', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nRUN true\n' });
    const r = await berth(d.socketPath, ['build', '--progress', 'plain', '--platform', 'linux/riscv64', dir], { timeoutMs: BUILD_TIMEOUT });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /linux\/riscv64/);
  });
});

test('a foreign RUN without emulation fails with one line naming the platform and the fix', async (t) => {
  const d = await startDaemonWithoutEmulation(t);
  if (!d) return;
  const foreign = process.arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
  const dir = await makeContext(t, { Dockerfile: 'FROM scratch\nRUN ["/true"]\n' });
  const r = await berth(d.socketPath, ['build', '--progress', 'plain', '--platform', foreign, '-t', 'never:1', dir], { timeoutMs: BUILD_TIMEOUT });
  assert.notEqual(r.code, 0);
  const line = r.stderr.split('\n').find((l) => l.includes('exec format error'));
  assert.ok(line, r.stderr);
  assert.match(line, /Dockerfile:2: /);
  assert.ok(line.includes(foreign), line);
  assert.match(line, /qemu-user-static/);
  assert.match(line, /binfmt_misc/);
  assert.notEqual((await d.docker(['image', 'inspect', 'never:1'])).code, 0);

  // FROM --platform=<foreign> scratch in a build targeting the host: the image is the FROM's platform, as in BuildKit.
  const host = process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
  const scratch = await makeContext(t, { Dockerfile: `FROM --platform=${foreign} scratch\nCOPY f /f\n`, f: 'x\n' });
  const built = await berth(d.socketPath, ['build', '-q', '--platform', host, '-t', 'scratchfrom:1', scratch], { timeoutMs: BUILD_TIMEOUT });
  assert.equal(built.code, 0, built.stderr);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', 'scratchfrom:1'])).stdout.trim(), foreign);
  const empty2 = await makeContext(t, { Dockerfile: `FROM --platform=${foreign} scratch\nLABEL a=b\n` });
  const labelled = await berth(d.socketPath, ['build', '-q', '--label', 'x=y', '-t', 'scratchlabel:1', empty2], { timeoutMs: BUILD_TIMEOUT });
  assert.equal(labelled.code, 0, labelled.stderr);
  assert.equal((await d.docker(['image', 'inspect', '--format', '{{.Architecture}}', 'scratchlabel:1'])).stdout.trim(), foreign.split('/')[1]);
});
