import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../util/index.js';
import { ContainerVolumeMounter, type StoredMountPoint } from './container-mounts.js';
import { VolumeService } from './volume-service.js';

test('the runtime mounter prepares, starts and removes a container\'s volumes across a JSON round trip', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-ctrmounts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  const mounter = new ContainerVolumeMounter(svc);
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'var', 'lib', 'app'), { recursive: true });
  await writeFile(join(rootfs, 'var', 'lib', 'app', 'seed'), 'seeded');
  const spec = {
    volumes: ['/scratch'],
    host: {
      binds: ['appdata:/var/lib/app'],
      mounts: [{ type: 'tmpfs', source: '', target: '/cache', readOnly: false, options: { tmpfsSizeBytes: 2 ** 20 } }],
      tmpfs: { '/run': 'size=64k' },
    },
  };
  const mps = await mounter.prepare({ id: 'c1', spec, imageVolumes: ['/var/lib/app', '/img'] });
  assert.deepEqual(mps.map((m) => [m.type, m.destination, m.anonymous ?? false]), [
    ['volume', '/var/lib/app', false],
    ['tmpfs', '/cache', false],
    ['volume', '/img', true],
    ['volume', '/scratch', true],
  ]);
  assert.equal(mps[0]!.source, svc.mountpointOf('appdata'));
  // runtime stores mount points as JSON and gives them back at start.
  const stored = JSON.parse(JSON.stringify(mps)) as StoredMountPoint[];
  const oci = await mounter.ociMounts({ id: 'c1', mountPoints: stored, rootfs, spec });
  assert.deepEqual(oci.map((m) => m.destination), ['/cache', '/img', '/scratch', '/run', '/var/lib/app']);
  assert.deepEqual(oci.find((m) => m.destination === '/cache')!.options, ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1m']);
  assert.equal(await readFile(join(svc.mountpointOf('appdata'), 'seed'), 'utf8'), 'seeded');
  const anon = stored.filter((m) => m.anonymous).map((m) => m.name!);
  await mounter.deactivate({ id: 'c1' });
  await mounter.release({ id: 'c1', removeVolumes: true });
  const left = (await svc.list()).volumes.map((v) => v.name);
  assert.deepEqual(left, ['appdata']);
  assert.ok(anon.every((n) => !left.includes(n)));
});

test('a failed prepare leaves no volume it created behind', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-ctrmounts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  const mounter = new ContainerVolumeMounter(svc);
  const spec = {
    host: {
      binds: ['ok1:/a'],
      mounts: [{ type: 'volume', source: 'bad1', target: '/b', readOnly: false, options: { driver: 'nope' } }],
      tmpfs: {},
    },
  };
  await assert.rejects(mounter.prepare({ id: 'c1', spec, imageVolumes: ['/anon'] }), { kind: 'not-found' });
  // The named volume stays (it may be shared); the anonymous one made for c1 is gone and nothing references c1.
  const vols = (await svc.list()).volumes;
  assert.deepEqual(vols.map((v) => v.name), ['ok1']);
  assert.deepEqual(await svc.references('ok1'), []);
});

test('mount points stored without a spec (older containers) are rebuilt from their inspect fields', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-ctrmounts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  const mounter = new ContainerVolumeMounter(svc);
  const host = join(dir, 'h');
  await mkdir(host);
  const old: StoredMountPoint[] = [
    { type: 'bind', source: host, destination: '/h', mode: 'ro', rw: false, propagation: 'rslave' },
    { type: 'volume', name: 'oldvol', source: '', destination: '/v', driver: 'local', mode: '', rw: true, propagation: '' },
  ];
  const oci = await mounter.ociMounts({ id: 'c1', mountPoints: old, rootfs: join(dir, 'none'), spec: { host: { binds: [], mounts: [], tmpfs: {} } } });
  assert.deepEqual(oci, [
    { destination: '/h', type: 'bind', source: host, options: ['rbind', 'rslave', 'ro'] },
    { destination: '/v', type: 'bind', source: svc.mountpointOf('oldvol'), options: ['rbind', 'rprivate'] },
  ]);
  assert.deepEqual(await svc.references('oldvol'), ['c1']);
  await mounter.release({ id: 'c1', removeVolumes: true });
  await svc.inspect('oldvol');
});
