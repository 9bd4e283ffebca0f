// The local driver's `--opt type=tmpfs,device=tmpfs,o=…`: mounted over _data while a
// container uses the volume, unmounted when the last one stops, nothing left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type EngineEvent } from '../../../src/util/index.js';
import { VolumeService, parseMountConfig } from '../../../src/volume/index.js';

async function mountsUnder(dir: string): Promise<{ point: string; fs: string; opts: string }[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.split(' ');
      const sep = f.indexOf('-');
      return { point: f[4]!, fs: f[sep + 1]!, opts: f[sep + 3] ?? '' };
    })
    .filter((m) => m.point === dir || m.point.startsWith(dir + '/'));
}

function requireRoot(t: { skip(msg: string): void }): boolean {
  if (process.getuid?.() === 0) return true;
  t.skip('needs root: the local driver mounts tmpfs');
  return false;
}

test('a tmpfs-backed volume is mounted while containers use it and unmounted after the last one', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-localdrv-'));
  t.after(async () => {
    assert.deepEqual(await mountsUnder(dir), [], 'no mounts left behind');
    await rm(dir, { recursive: true, force: true });
  });
  const events = new EventBus();
  const seen: EngineEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const svc = new VolumeService({ root: join(dir, 'volumes'), events });
  const v = await svc.create({ name: 'fast', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=1000' } });
  assert.deepEqual(v.options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=1000' });
  assert.deepEqual(await mountsUnder(dir), [], 'not mounted before first use');

  const specs = await parseMountConfig({ binds: ['fast:/scratch'] });
  await svc.resolveMounts(specs, { containerId: 'c1' });
  await svc.resolveMounts(specs, { containerId: 'c2' });
  const mounted = await mountsUnder(dir);
  assert.equal(mounted.length, 1, 'one mount shared by both containers');
  assert.equal(mounted[0]!.point, v.mountpoint);
  assert.equal(mounted[0]!.fs, 'tmpfs');
  assert.match(mounted[0]!.opts, /size=1024k/);
  await writeFile(join(v.mountpoint, 'f'), 'in tmpfs');

  await svc.deactivateMounts('c1');
  assert.equal((await mountsUnder(dir)).length, 1, 'still used by c2');
  await svc.deactivateMounts('c2');
  assert.deepEqual(await mountsUnder(dir), [], 'unmounted when unused');
  assert.deepEqual(
    seen.filter((e) => e.type === 'volume').map((e) => `${e.action}:${e.actor.attributes.container ?? ''}`),
    ['create:', 'mount:c1', 'mount:c2', 'unmount:c1', 'unmount:c2'],
  );
  await svc.releaseMounts('c1');
  await svc.releaseMounts('c2');
  await svc.remove('fast');
});

test('removing a container unmounts its tmpfs volume, and a restarted service unmounts a mount nobody uses', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-localdrv-'));
  t.after(async () => {
    assert.deepEqual(await mountsUnder(dir), [], 'no mounts left behind');
    await rm(dir, { recursive: true, force: true });
  });
  const root = join(dir, 'volumes');
  const svc = new VolumeService({ root, events: new EventBus() });
  await svc.create({ name: 'tv1', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=512k' } });
  await svc.resolveMounts(await parseMountConfig({ binds: ['tv1:/x'] }), { containerId: 'c1' });
  assert.equal((await mountsUnder(dir)).length, 1);
  await svc.releaseMounts('c1', { removeAnonymous: true });
  assert.deepEqual(await mountsUnder(dir), []);

  // A daemon killed after the mount but before recording the user: the next start unmounts it.
  await svc.resolveMounts(await parseMountConfig({ binds: ['tv1:/x'] }), { containerId: 'c2' });
  const metaPath = join(root, 'tv1', 'meta.json');
  const meta = JSON.parse(await readFile(metaPath, 'utf8'));
  await writeFile(metaPath, JSON.stringify({ ...meta, active: [] }));
  const restarted = new VolumeService({ root, events: new EventBus() });
  await restarted.init();
  assert.deepEqual(await mountsUnder(dir), []);
  await restarted.releaseMounts('c2');
  await restarted.remove('tv1');
});

test('a volume with bad mount options fails at first use with the mount error and stays unmounted', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-localdrv-'));
  t.after(async () => {
    assert.deepEqual(await mountsUnder(dir), []);
    await rm(dir, { recursive: true, force: true });
  });
  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  await svc.create({ name: 'badopts', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=lots,password=hunter2' } });
  await assert.rejects(svc.resolveMounts(await parseMountConfig({ binds: ['badopts:/x'] }), { containerId: 'c1' }), (err: Error) => {
    assert.match(err.message, /^failed to mount local volume/);
    assert.doesNotMatch(err.message, /hunter2/);
    return true;
  });
  await svc.releaseMounts('c1');
  await svc.remove('badopts');
});

test('a tmpfs-backed volume is filled from the image each time it is freshly mounted', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-localdrv-'));
  t.after(async () => {
    assert.deepEqual(await mountsUnder(dir), []);
    await rm(dir, { recursive: true, force: true });
  });
  const rootfs = join(dir, 'rootfs');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(rootfs, 'seed'), { recursive: true });
  await writeFile(join(rootfs, 'seed', 'file'), 'seeded');
  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  const v = await svc.create({ name: 'ramseed', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
  const specs = await parseMountConfig({ binds: ['ramseed:/seed'] });
  for (const c of ['c1', 'c2']) {
    await svc.resolveMounts(specs, { containerId: c, rootfs });
    assert.equal(await readFile(join(v.mountpoint, 'file'), 'utf8'), 'seeded', c);
    await svc.deactivateMounts(c);
    await assert.rejects(readFile(join(v.mountpoint, 'file')), { code: 'ENOENT' }, 'tmpfs content goes with the mount');
  }
  await svc.releaseMounts('c1');
  await svc.releaseMounts('c2');
  await svc.remove('ramseed');
});

test('a volume with type=none,o=bind,device=<dir> shows that host directory (the compose bind-volume pattern)', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-localdrv-'));
  t.after(async () => {
    assert.deepEqual(await mountsUnder(dir), []);
    await rm(dir, { recursive: true, force: true });
  });
  const { mkdir } = await import('node:fs/promises');
  const hostDir = join(dir, 'host-data');
  await mkdir(hostDir);
  await writeFile(join(hostDir, 'existing'), 'on the host');
  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  const v = await svc.create({ name: 'hostbound', driverOpts: { type: 'none', o: 'bind', device: hostDir } });
  await svc.resolveMounts(await parseMountConfig({ binds: ['hostbound:/data'] }), { containerId: 'c1' });
  assert.equal(await readFile(join(v.mountpoint, 'existing'), 'utf8'), 'on the host');
  await writeFile(join(v.mountpoint, 'new'), 'from a container');
  await svc.releaseMounts('c1');
  assert.equal(await readFile(join(hostDir, 'new'), 'utf8'), 'from a container', 'writes land in the host directory');
  await svc.remove('hostbound');
  assert.equal(await readFile(join(hostDir, 'existing'), 'utf8'), 'on the host', 'removing the volume never touches the host directory');
});
