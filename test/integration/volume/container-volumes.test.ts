// Volumes in real containers: runtime's ContainerService (runc + conmon) with the
// VolumeService plugged in through ContainerVolumeMounter, on a busybox rootfs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chown, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicNetworkAttacher, ContainerService, defaultContainerSpec, type ContainerSpec } from '../../../src/runtime/index.js';
import { EventBus, run } from '../../../src/util/index.js';
import { ContainerVolumeMounter, VolumeService } from '../../../src/volume/index.js';
import { BUSYBOX_IMAGE, DirSnapshotter, FixedImages, buildBusyboxRootfs, canRun, collectLogs, skipReason } from '../runtime/fixtures.js';

interface Env {
  root: string;
  containers: ContainerService;
  volumes: VolumeService;
  cleanup(): Promise<void>;
}

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === dir || p.startsWith(dir + '/'));
}

/** A busybox image whose rootfs has /srv/app (owned by 1000:1000, with a seed file) and VOLUMEs. */
async function volumeEnv(): Promise<Env> {
  const root = await mkdtemp(join(tmpdir(), 'berth-volctr-'));
  const lower = join(root, 'image');
  await buildBusyboxRootfs(lower);
  await mkdir(join(lower, 'srv', 'app'), { recursive: true });
  await writeFile(join(lower, 'srv', 'app', 'seed.txt'), 'from the image\n');
  await chown(join(lower, 'srv', 'app'), 1000, 1000);
  await chown(join(lower, 'srv', 'app', 'seed.txt'), 1000, 1000);
  await mkdir(join(lower, 'cache'), { recursive: true });
  await writeFile(join(lower, 'cache', 'warm'), 'warm\n');
  const images = new FixedImages({
    busybox: BUSYBOX_IMAGE,
    withvol: { ...BUSYBOX_IMAGE, id: 'sha256:' + 'c'.repeat(64), config: { ...BUSYBOX_IMAGE.config, Volumes: { '/cache': {} } }, repoTags: ['withvol:latest'] },
  });
  const events = new EventBus();
  const volumes = new VolumeService({ root: join(root, 'data', 'volumes'), events });
  const cgroupParent = `/berth-voltest-${process.pid}`;
  const containers = new ContainerService({
    dataRoot: join(root, 'data'),
    execRoot: join(root, 'run'),
    images,
    snapshotter: new DirSnapshotter(lower, join(root, 'snapshots')),
    volumes: new ContainerVolumeMounter(volumes),
    network: new BasicNetworkAttacher(),
    events,
    cgroupParent,
  });
  await containers.init();
  return {
    root,
    containers,
    volumes,
    cleanup: async () => {
      for (const c of containers.list()) await containers.remove(c.id, { force: true, removeVolumes: true }).catch(() => undefined);
      await containers.close();
      for (const mp of (await mountsUnder(root)).reverse()) await run('umount', ['-l', mp], { timeoutMs: 5000 }).catch(() => undefined);
      for (const ctl of ['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', '']) {
        const base = ctl ? `/sys/fs/cgroup/${ctl}${cgroupParent}` : `/sys/fs/cgroup/unified${cgroupParent}`;
        for (const k of await readdir(base).catch(() => [] as string[])) await rm(join(base, k), { recursive: false }).catch(() => undefined);
        await run('rmdir', [base], { timeoutMs: 5000 }).catch(() => undefined);
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

function spec(image: string, cmd: string[], mut: (s: ContainerSpec) => void = () => {}): ContainerSpec {
  const s = defaultContainerSpec(image);
  s.cmd = cmd;
  s.host.networkMode = 'none';
  mut(s);
  return s;
}

/** Runs a container to its exit and returns its exit code and output. */
async function runToExit(env: Env, s: ContainerSpec): Promise<{ id: string; exitCode: number; stdout: string; stderr: string }> {
  const { id } = await env.containers.create(s);
  const exited = env.containers.wait(id, 'next-exit');
  await env.containers.start(id);
  const { exitCode } = await exited;
  const out = await collectLogs(env.containers.logs(id, { follow: false }));
  return { id, exitCode, ...out };
}

test('a named volume keeps data between containers and outlives them', { skip: skipReason }, async (t) => {
  if (!canRun) return;
  const env = await volumeEnv();
  t.after(() => env.cleanup());
  const writer = await runToExit(env, spec('busybox', ['sh', '-c', 'echo kept > /data/file'], (s) => (s.host.binds = ['shared1:/data'])));
  assert.equal(writer.exitCode, 0, writer.stderr);
  const reader = await runToExit(env, spec('busybox', ['cat', '/data/file'], (s) => (s.host.binds = ['shared1:/data:ro'])));
  assert.equal(reader.stdout, 'kept\n');
  const ro = await runToExit(env, spec('busybox', ['sh', '-c', 'echo x > /data/other'], (s) => (s.host.binds = ['shared1:/data:ro'])));
  assert.notEqual(ro.exitCode, 0, 'a :ro volume is read-only in the container');
  assert.match(ro.stderr, /Read-only file system/);

  await assert.rejects(env.volumes.remove('shared1'), { kind: 'conflict', message: /volume is in use/ });
  for (const id of [writer.id, reader.id, ro.id]) await env.containers.remove(id, { removeVolumes: true });
  // rm -v never removes a named volume.
  assert.equal(await readFile(join(env.volumes.mountpointOf('shared1'), 'file'), 'utf8'), 'kept\n');
  await env.volumes.remove('shared1');
});

test('a named volume is filled from the image directory on first use, with the image owner', { skip: skipReason }, async (t) => {
  if (!canRun) return;
  const env = await volumeEnv();
  t.after(() => env.cleanup());
  const r = await runToExit(env, spec('busybox', ['sh', '-c', 'cat /srv/app/seed.txt; stat -c %u:%g /srv/app'], (s) => (s.host.binds = ['appvol:/srv/app'])));
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'from the image\n1000:1000\n');
  const st = await stat(env.volumes.mountpointOf('appvol'));
  assert.deepEqual([st.uid, st.gid], [1000, 1000]);
  const nocopy = await runToExit(env, spec('busybox', ['ls', '-A', '/srv/app'], (s) => (s.host.binds = ['emptyvol:/srv/app:nocopy'])));
  assert.equal(nocopy.stdout, '');
});

test('image VOLUMEs get anonymous volumes that rm -v removes and plain rm keeps', { skip: skipReason }, async (t) => {
  if (!canRun) return;
  const env = await volumeEnv();
  t.after(() => env.cleanup());
  const a = await runToExit(env, spec('withvol', ['cat', '/cache/warm']));
  assert.equal(a.stdout, 'warm\n', 'the anonymous volume is copied up from the image');
  const mpA = env.containers.get(a.id).config.mountPoints.find((m) => m.destination === '/cache')!;
  assert.equal(mpA.type, 'volume');
  assert.match(mpA.name ?? '', /^[0-9a-f]{64}$/);
  const b = await runToExit(env, spec('withvol', ['true']));
  const mpB = env.containers.get(b.id).config.mountPoints.find((m) => m.destination === '/cache')!;
  assert.notEqual(mpB.name, mpA.name, 'each container gets its own anonymous volume');

  await env.containers.remove(a.id, { removeVolumes: true });
  await assert.rejects(env.volumes.inspect(mpA.name!), { kind: 'not-found' });
  await env.containers.remove(b.id);
  const kept = await env.volumes.inspect(mpB.name!);
  assert.equal(kept.labels['com.docker.volume.anonymous'], '');
  // …and `volume prune` takes it, since it is anonymous and unused now.
  assert.deepEqual((await env.volumes.prune()).volumesDeleted, [mpB.name]);
});

test('binds, --tmpfs and --mount tmpfs appear in the container with Docker\'s options', { skip: skipReason }, async (t) => {
  if (!canRun) return;
  const env = await volumeEnv();
  t.after(() => env.cleanup());
  const hostDir = join(env.root, 'host-share');
  await mkdir(hostDir);
  await writeFile(join(hostDir, 'hello'), 'from host\n');
  const created = join(env.root, 'created-by-v');
  const r = await runToExit(
    env,
    spec('busybox', ['sh', '-c', 'cat /h/hello; echo out > /c/made; grep -E " /(run|t) " /proc/mounts'], (s) => {
      s.host.binds = [`${hostDir}:/h:ro`, `${created}:/c`];
      s.host.tmpfs = { '/run': 'size=1m,mode=1700' };
      s.host.mounts = [{ type: 'tmpfs', source: '', target: '/t', readOnly: false, options: { tmpfsSizeBytes: 2 * 2 ** 20 } }];
    }),
  );
  assert.equal(r.exitCode, 0, r.stderr);
  const [hello, ...mountLines] = r.stdout.trim().split('\n');
  assert.equal(hello, 'from host');
  assert.equal(await readFile(join(created, 'made'), 'utf8'), 'out\n', '-v creates a missing host directory');
  const run_ = mountLines.find((l) => l.includes(' /run '))!;
  assert.match(run_, /^tmpfs \/run tmpfs rw,nosuid,nodev,noexec,.*size=1024k,mode=1700/);
  const t_ = mountLines.find((l) => l.includes(' /t '))!;
  assert.match(t_, /size=2048k/);
});

test('a tmpfs-backed local volume is mounted while its container exists and gone after rm', { skip: skipReason }, async (t) => {
  if (!canRun) return;
  const env = await volumeEnv();
  t.after(() => env.cleanup());
  await env.volumes.create({ name: 'ramvol', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' } });
  const r = await runToExit(env, spec('busybox', ['sh', '-c', 'echo hi > /r/x; grep " /r " /proc/mounts'], (s) => (s.host.binds = ['ramvol:/r'])));
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^tmpfs \/r tmpfs rw.*size=2048k/);
  assert.deepEqual(await mountsUnder(join(env.root, 'data', 'volumes')), [env.volumes.mountpointOf('ramvol')]);
  await env.containers.remove(r.id);
  assert.deepEqual(await mountsUnder(join(env.root, 'data', 'volumes')), []);
  await env.volumes.remove('ramvol');
});

test('bad mount specs fail the create with dockerd\'s message and leave no volume', { skip: skipReason }, async (t) => {
  if (!canRun) return;
  const env = await volumeEnv();
  t.after(() => env.cleanup());
  await assert.rejects(env.containers.create(spec('busybox', ['true'], (s) => (s.host.binds = ['rel/path:/x']))), {
    kind: 'invalid-argument',
    message: /"rel\/path" includes invalid characters for a local volume name/,
  });
  await assert.rejects(env.containers.create(spec('withvol', ['true'], (s) => (s.host.binds = ['v1:/data', 'v2:/data']))), {
    message: 'Duplicate mount point: /data',
  });
  assert.deepEqual((await env.volumes.list()).volumes, []);
  assert.deepEqual(env.containers.list(), []);
});
