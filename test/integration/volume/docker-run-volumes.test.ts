// Volumes through the real docker CLI against a harness berthd: `docker run -v`,
// `--mount`, `--tmpfs`, copy-up from an image directory, anonymous volumes and `rm -v`.
// The image is a busybox rootfs imported with `docker import --change 'VOLUME …'`.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MountPointWire } from '../../../src/client/index.js';
import { dockerOk as ok, type TestDaemon } from '../../helpers/daemon.js';
import { startDaemonWithBusybox } from '../runtime/fixtures.js';

const IMAGE = 'voltest:1';

/** A daemon with the test image, or undefined when the test is skipped. */
function daemonWithImage(t: TestContext): Promise<TestDaemon | undefined> {
  return startDaemonWithBusybox(t, IMAGE, {
    customize: async (rootfs) => {
      await mkdir(join(rootfs, 'srv', 'app'), { recursive: true });
      await writeFile(join(rootfs, 'srv', 'app', 'seed.txt'), 'from the image\n');
      await chown(join(rootfs, 'srv', 'app'), 1000, 1000);
      await chown(join(rootfs, 'srv', 'app', 'seed.txt'), 1000, 1000);
    },
    changes: ['VOLUME /srv/app', 'CMD ["sh"]'],
  });
}

async function mountsOf(d: TestDaemon, container: string): Promise<MountPointWire[]> {
  return JSON.parse(await ok(d, ['inspect', '--format', '{{json .Mounts}}', container])) as MountPointWire[];
}

test('docker run -v name:/path keeps data across containers, copies up the image dir once, and rm never removes it', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  assert.equal(
    await ok(d, ['run', '--rm', '--network', 'none', '-v', 'appdata:/srv/app', IMAGE, 'sh', '-c', 'cat /srv/app/seed.txt; stat -c %u:%g /srv/app; echo mine > /srv/app/mine']),
    'from the image\n1000:1000',
  );
  assert.equal(await ok(d, ['run', '--rm', '--network', 'none', '-v', 'appdata:/srv/app:ro', IMAGE, 'cat', '/srv/app/mine']), 'mine');
  assert.deepEqual((await ok(d, ['volume', 'ls', '-q', '--filter', 'name=appdata'])).split('\n'), ['appdata']);

  // A stopped container still holds its volume: rm of the volume is refused, the data stays.
  await ok(d, ['create', '--name', 'holder', '--network', 'none', '-v', 'appdata:/srv/app', IMAGE, 'true']);
  const mounts = await mountsOf(d, 'holder');
  const app = mounts.find((m) => m.Destination === '/srv/app')!;
  assert.deepEqual(app, {
    Type: 'volume',
    Name: 'appdata',
    Source: `${d.dataRoot}/volumes/appdata/_data`,
    Destination: '/srv/app',
    Driver: 'local',
    Mode: 'z',
    RW: true,
    Propagation: '',
  });
  const refused = await d.docker(['volume', 'rm', 'appdata']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /remove appdata: volume is in use - \[[0-9a-f]{64}\]/);
  await ok(d, ['rm', '-v', 'holder']);
  assert.equal(await readFile(join(d.dataRoot, 'volumes', 'appdata', '_data', 'mine'), 'utf8'), 'mine\n');
  await ok(d, ['volume', 'rm', 'appdata']);
});

test('an image VOLUME gets an anonymous volume that rm -v removes and plain rm leaves for volume prune', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  await ok(d, ['run', '--name', 'anon1', '--network', 'none', IMAGE, 'cat', '/srv/app/seed.txt']);
  assert.equal(await ok(d, ['logs', 'anon1']), 'from the image');
  const [m1] = (await mountsOf(d, 'anon1')).filter((m) => m.Destination === '/srv/app');
  assert.equal(m1?.Type, 'volume');
  assert.match(m1?.Name ?? '', /^[0-9a-f]{64}$/);
  assert.equal(m1?.Mode, '');
  await ok(d, ['rm', '-v', 'anon1']);
  assert.equal(await ok(d, ['volume', 'ls', '-q']), '', 'rm -v removed the anonymous volume');

  await ok(d, ['create', '--name', 'anon2', '--network', 'none', '-v', '/scratch', IMAGE, 'true']);
  const names = (await mountsOf(d, 'anon2')).map((m) => m.Name).sort();
  assert.equal(names.length, 2);
  await ok(d, ['rm', 'anon2']);
  assert.deepEqual((await ok(d, ['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n').sort(), names);
  const pruned = await ok(d, ['volume', 'prune', '-f']);
  for (const n of names) assert.match(pruned, new RegExp(n!));
  assert.equal(await ok(d, ['volume', 'ls', '-q']), '');
});

// dockerd's auto-remove is `rm -f -v`.
test('docker run --rm removes the anonymous volumes of the container, but not named ones', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  await ok(d, ['run', '--rm', '--network', 'none', '-v', 'named1:/n', '-v', '/anon', IMAGE, 'true']);
  // A start that fails (missing command) auto-removes its anonymous volumes too.
  const failed = await d.docker(['run', '--rm', '--network', 'none', '-v', '/anon2', IMAGE, 'nosuchcmd']);
  assert.equal(failed.code, 127, failed.stderr);
  for (let i = 0; i < 50 && (await ok(d, ['ps', '-aq'])) !== ''; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual((await ok(d, ['volume', 'ls', '-q'])).split('\n'), ['named1']);
  await ok(d, ['volume', 'rm', 'named1']);
});

test('--mount, --tmpfs and bind mounts reach the container with Docker\'s options', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  const host = join(d.root, 'share');
  await mkdir(host);
  await writeFile(join(host, 'hello'), 'from host\n');
  const out = await ok(d, [
    'run', '--rm', '--network', 'none',
    '-v', `${host}:/h:ro`,
    '--mount', 'type=volume,source=mvol,target=/m,volume-label=via=mount',
    '--mount', 'type=tmpfs,destination=/t,tmpfs-size=2m',
    '--tmpfs', '/run:size=1m,mode=1700',
    IMAGE, 'sh', '-c', 'cat /h/hello; touch /h/x 2>/dev/null || echo ro; grep -E " /(t|run) " /proc/mounts | sort',
  ]);
  const lines = out.split('\n');
  assert.equal(lines[0], 'from host');
  assert.equal(lines[1], 'ro');
  assert.match(lines[2] ?? '', /^tmpfs \/run tmpfs rw,nosuid,nodev,noexec,.*size=1024k,mode=1700/);
  assert.match(lines[3] ?? '', /^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,.*size=2048k/);
  assert.equal(await ok(d, ['volume', 'inspect', '--format', '{{index .Labels "via"}}', 'mvol']), 'mount');
  await ok(d, ['volume', 'rm', 'mvol']);

  const missing = await d.docker(['run', '--rm', '--network', 'none', '--mount', `type=bind,source=${join(d.root, 'nope')},target=/x`, IMAGE, 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /invalid mount config for type "bind": bind source path does not exist/);
  const dup = await d.docker(['create', '--network', 'none', '-v', 'a1:/data', '-v', 'b1:/data', IMAGE, 'true']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /Duplicate mount point: \/data/);
  const named = (await ok(d, ['volume', 'ls', '-q'])).split('\n').filter((n) => n !== '' && !/^[0-9a-f]{64}$/.test(n));
  assert.deepEqual(named, [], 'a refused create leaves no volume');
});

async function volumeMounts(dataRoot: string): Promise<string[]> {
  const prefix = join(dataRoot, 'volumes') + '/';
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(prefix));
}

/** The die event is handled asynchronously: wait (bounded) until the condition holds. */
async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never happened: ${what}`);
}

test('a tmpfs-backed local volume is mounted only while a container runs with it', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  await ok(d, ['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=2m', 'ram']);
  const data = join(d.dataRoot, 'volumes', 'ram', '_data');
  assert.deepEqual(await volumeMounts(d.dataRoot), []);
  const out = await ok(d, ['run', '--name', 'ramuser', '--network', 'none', '-v', 'ram:/r', IMAGE, 'sh', '-c', 'grep " /r " /proc/mounts; echo x > /r/f']);
  assert.match(out, /^tmpfs \/r tmpfs rw.*size=2048k/);
  await eventually(async () => !(await volumeMounts(d.dataRoot)).includes(data), 'the volume is unmounted after the container exited');
  // Started again, it is mounted again (fresh, like Docker's tmpfs volumes).
  await ok(d, ['start', 'ramuser']);
  assert.equal(await ok(d, ['wait', 'ramuser']), '0', 'the second run succeeds on a freshly mounted tmpfs');
  const logs = (await ok(d, ['logs', 'ramuser'])).split('\n');
  assert.equal(logs.length, 2);
  assert.match(logs[1]!, /^tmpfs \/r tmpfs rw.*size=2048k/);
  await eventually(async () => (await volumeMounts(d.dataRoot)).length === 0, 'unmounted after the second run');
  await ok(d, ['rm', 'ramuser']);
  await ok(d, ['volume', 'rm', 'ram']);
});

test('--volumes-from shares another container’s volumes and binds (read-only with :ro), the container’s own mounts win, and rm -v leaves them', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  // The image's VOLUME /srv/app gives the source an anonymous volume; /named is a named one.
  await ok(d, ['run', '-d', '--name', 'source', '-v', 'named:/named', IMAGE, 'sh', '-c', 'echo shared > /srv/app/s; echo n > /named/n; touch /tmp/ready; sleep 300']);
  try {
    for (let i = 0; i < 100 && (await d.docker(['exec', 'source', 'test', '-e', '/tmp/ready'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    // The backup recipe of Docker's documentation.
    assert.equal(await ok(d, ['run', '--rm', '--network', 'none', '--volumes-from', 'source', IMAGE, 'cat', '/srv/app/s', '/named/n']), 'shared\nn');
    const ro = await d.docker(['run', '--rm', '--network', 'none', '--volumes-from', 'source:ro', IMAGE, 'touch', '/srv/app/x']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    // The container's own -v wins the destination.
    assert.equal(await ok(d, ['run', '--rm', '--network', 'none', '--volumes-from', 'source', '-v', 'other:/named', IMAGE, 'ls', '/named']), '');
    await ok(d, ['run', '--name', 'borrower', '--network', 'none', '--volumes-from', 'source', IMAGE, 'true']);
    const anon = (await mountsOf(d, 'source')).find((m) => m.Destination === '/srv/app')!.Name;
    assert.equal((await mountsOf(d, 'borrower')).find((m) => m.Destination === '/srv/app')?.Name, anon);
    await ok(d, ['rm', '-v', 'borrower']);
    assert.equal((await ok(d, ['volume', 'ls', '-q', '--filter', `name=${anon}`])), anon, 'rm -v of the borrower leaves the source’s volume');
    const missing = await d.docker(['run', '--rm', '--volumes-from', 'nosuch', IMAGE, 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /No such container: nosuch/);
    assert.doesNotMatch(missing.stderr, /Unable to find image/);
  } finally {
    await ok(d, ['rm', '-fv', 'source']);
  }
});
