import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { EventBus, type EngineEvent, type Logger } from '../util/index.js';
import { ANONYMOUS_LABEL } from './constants.js';
import { parseMountConfig } from './mount-spec.js';
import { VolumeService } from './volume-service.js';

/** Collects log lines instead of printing them. */
function quietLogger(lines: string[] = []): Logger {
  const l: Logger = {
    trace: (m) => void lines.push(m),
    debug: (m) => void lines.push(m),
    info: (m) => void lines.push(m),
    warn: (m) => void lines.push(m),
    error: (m) => void lines.push(m),
    child: () => l,
  };
  return l;
}

async function setup(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-volsvc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const events = new EventBus();
  const seen: EngineEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const root = join(dir, 'volumes');
  const logs: string[] = [];
  const open = () => new VolumeService({ root, events, log: quietLogger(logs) });
  return { dir, root, events, seen, logs, svc: open(), open };
}

test('create makes _data and meta.json and publishes a create event', async (t) => {
  const { svc, root, seen } = await setup(t);
  const v = await svc.create({ name: 'data1', labels: { a: 'b' } });
  assert.equal(v.name, 'data1');
  assert.equal(v.driver, 'local');
  assert.equal(v.scope, 'local');
  assert.equal(v.mountpoint, join(root, 'data1', '_data'));
  assert.match(v.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(v.labels, { a: 'b' });
  assert.ok((await stat(v.mountpoint)).isDirectory());
  const meta = JSON.parse(await readFile(join(root, 'data1', 'meta.json'), 'utf8'));
  assert.equal(meta.version, 1);
  assert.deepEqual(seen.map((e) => [e.type, e.action, e.actor.id, e.actor.attributes.driver]), [['volume', 'create', 'data1', 'local']]);
});

test('create without a name makes an anonymous volume with a 64-hex name and the anonymous label', async (t) => {
  const { svc } = await setup(t);
  const v = await svc.create({});
  assert.match(v.name, /^[0-9a-f]{64}$/);
  assert.equal(v.labels[ANONYMOUS_LABEL], '');
});

test('creating an existing volume again returns it unchanged, but different driver options conflict', async (t) => {
  const { svc, seen } = await setup(t);
  const a = await svc.create({ name: 'same', labels: { x: '1' } });
  const b = await svc.create({ name: 'same', labels: { y: '2' } });
  assert.deepEqual(b, a);
  assert.equal(seen.length, 1);
  await assert.rejects(svc.create({ name: 'same', driverOpts: { type: 'tmpfs', device: 'tmpfs' } }), { kind: 'conflict' });
});

test('create rejects bad names, unknown drivers and bad local driver options', async (t) => {
  const { svc, root } = await setup(t);
  await assert.rejects(svc.create({ name: 'a/b' }), { kind: 'invalid-argument', message: /includes invalid characters/ });
  await assert.rejects(svc.create({ name: 'vv', driver: 'nfs-plugin' }), { kind: 'not-found', message: /plugin "nfs-plugin" not found/ });
  await assert.rejects(svc.create({ name: 'vv', driverOpts: { colour: 'red' } }), { message: 'invalid option: "colour"' });
  await assert.rejects(svc.create({ name: 'vv', driverOpts: { type: 'tmpfs' } }), { message: 'missing required option: "device"' });
  await assert.rejects(svc.create({ name: 'vv', driverOpts: { o: 'size=1m' } }), { message: 'missing required option: "device"' });
  await assert.rejects(svc.create({ name: 'vv', driverOpts: { size: '1g' } }), { message: 'quota size requested but no quota support' });
  assert.deepEqual(await readdir(root), []);
});

test('inspect and remove of a missing volume are not-found with Docker\'s wording; rm -f of one succeeds', async (t) => {
  const { svc } = await setup(t);
  await assert.rejects(svc.inspect('nope'), { kind: 'not-found', message: 'get nope: no such volume' });
  await assert.rejects(svc.remove('nope'), { kind: 'not-found' });
  await svc.remove('nope', { force: true });
});

test('list filters by name, label, driver and dangling', async (t) => {
  const { svc } = await setup(t);
  await svc.create({ name: 'web-data', labels: { app: 'web', tier: 'front' } });
  await svc.create({ name: 'db-data', labels: { app: 'db' } });
  await svc.create({ name: 'cache' });
  await svc.acquire('db-data', 'c1');
  const names = async (filters: Parameters<VolumeService['list']>[0]) => (await svc.list(filters)).volumes.map((v) => v.name);
  assert.deepEqual(await names({}), ['cache', 'db-data', 'web-data']);
  assert.deepEqual(await names({ filters: { name: ['data'] } }), ['db-data', 'web-data']);
  assert.deepEqual(await names({ filters: { name: ['^db'] } }), ['db-data']);
  assert.deepEqual(await names({ filters: { label: ['app'] } }), ['db-data', 'web-data']);
  assert.deepEqual(await names({ filters: { label: ['app=web', 'tier'] } }), ['web-data']);
  assert.deepEqual(await names({ filters: { label: ['app=web', 'tier=back'] } }), []);
  assert.deepEqual(await names({ filters: { dangling: true } }), ['cache', 'web-data']);
  assert.deepEqual(await names({ filters: { dangling: false } }), ['db-data']);
  assert.deepEqual(await names({ filters: { driver: ['local'] } }), ['cache', 'db-data', 'web-data']);
  assert.deepEqual(await names({ filters: { driver: ['other'] } }), []);
});

test('a referenced volume cannot be removed, even with force, and keeps its data', async (t) => {
  const { svc } = await setup(t);
  const v = await svc.create({ name: 'keep' });
  await writeFile(join(v.mountpoint, 'f'), 'precious');
  await svc.acquire('keep', 'aaaa');
  await svc.acquire('keep', 'bbbb');
  await svc.acquire('keep', 'aaaa');
  await assert.rejects(svc.remove('keep', { force: true }), { kind: 'conflict', message: 'remove keep: volume is in use - [aaaa, bbbb]' });
  assert.equal(await readFile(join(v.mountpoint, 'f'), 'utf8'), 'precious');
  await svc.release('keep', 'aaaa');
  await svc.release('keep', 'bbbb');
  await svc.remove('keep');
  await assert.rejects(svc.inspect('keep'), { kind: 'not-found' });
});

test('references survive reopening the store, and a removal leaves no directory behind', async (t) => {
  const { svc, open, root, seen } = await setup(t);
  await svc.create({ name: 'persist' });
  await svc.acquire('persist', 'c1');
  const again = open();
  assert.deepEqual(await again.references('persist'), ['c1']);
  await assert.rejects(again.remove('persist'), { kind: 'conflict' });
  await again.release('persist', 'c1');
  const third = open();
  await third.remove('persist');
  assert.deepEqual(await readdir(root), []);
  assert.deepEqual(seen.map((e) => e.action), ['create', 'destroy']);
});

test('reopening sweeps half-created and half-removed volume directories but keeps unreadable volumes', async (t) => {
  const { svc, open, root, logs } = await setup(t);
  await svc.create({ name: 'good' });
  await mkdir(join(root, '.tmp-crashed', '_data'), { recursive: true });
  await mkdir(join(root, '.removing-crashed', '_data'), { recursive: true });
  await mkdir(join(root, 'broken', '_data'), { recursive: true });
  await writeFile(join(root, 'broken', 'meta.json'), '{"version": 99}');
  const again = open();
  assert.deepEqual((await again.list()).volumes.map((v) => v.name), ['good']);
  assert.deepEqual((await readdir(root)).sort(), ['broken', 'good']);
  assert.ok(logs.includes('skipping unreadable volume'));
});

test('prune removes only unused anonymous volumes unless all is set, honouring label filters', async (t) => {
  const { svc } = await setup(t);
  const anon = await svc.create({});
  const anonUsed = await svc.create({});
  await svc.acquire(anonUsed.name, 'c1');
  await svc.create({ name: 'named1', labels: { keep: 'yes' } });
  await svc.create({ name: 'named2' });
  await writeFile(join(anon.mountpoint, 'f'), 'x'.repeat(1000));
  const r1 = await svc.prune();
  assert.deepEqual(r1, { volumesDeleted: [anon.name], spaceReclaimed: 1000 });
  const r2 = await svc.prune({ filters: { all: true, labelNot: ['keep=yes'] } });
  assert.deepEqual(r2.volumesDeleted, ['named2']);
  const r3 = await svc.prune({ filters: { all: true, label: ['keep'] } });
  assert.deepEqual(r3.volumesDeleted, ['named1']);
  assert.deepEqual((await svc.list()).volumes.map((v) => v.name), [anonUsed.name]);
});

test('usage reports size (hardlinks once, directories not counted) and reference counts', async (t) => {
  const { svc } = await setup(t);
  const v = await svc.create({ name: 'sized' });
  await mkdir(join(v.mountpoint, 'sub'));
  await writeFile(join(v.mountpoint, 'sub', 'a'), 'x'.repeat(300));
  const { link } = await import('node:fs/promises');
  await link(join(v.mountpoint, 'sub', 'a'), join(v.mountpoint, 'hard'));
  await writeFile(join(v.mountpoint, 'b'), 'y'.repeat(20));
  await symlink('/etc/passwd', join(v.mountpoint, 'ln'));
  await svc.acquire('sized', 'c1');
  const [u] = await svc.usage();
  assert.equal(u?.usageData?.refCount, 1);
  assert.equal(u?.usageData?.size, 300 + 20 + '/etc/passwd'.length);
});

test('copyUp fills an empty volume once and never copies into it again', async (t) => {
  const { svc, dir } = await setup(t);
  const src = join(dir, 'image-dir');
  await mkdir(join(src, 'nested'), { recursive: true });
  await writeFile(join(src, 'nested', 'f.txt'), 'from image');
  const v = await svc.create({ name: 'cu' });
  assert.equal(await svc.copyUp('cu', src), true);
  assert.equal(await readFile(join(v.mountpoint, 'nested', 'f.txt'), 'utf8'), 'from image');
  await rm(join(v.mountpoint, 'nested'), { recursive: true });
  assert.equal(await svc.copyUp('cu', src), false);
  assert.deepEqual(await readdir(v.mountpoint), []);
});

test('copyUp leaves a volume that already has data alone', async (t) => {
  const { svc, dir } = await setup(t);
  const src = join(dir, 'image-dir');
  await mkdir(src);
  await writeFile(join(src, 'img'), 'i');
  const v = await svc.create({ name: 'full' });
  await writeFile(join(v.mountpoint, 'mine'), 'm');
  assert.equal(await svc.copyUp('full', src), false);
  assert.deepEqual(await readdir(v.mountpoint), ['mine']);
});

test('resolveMounts creates volumes, references them, copies up from the rootfs and returns OCI mounts parents first', async (t) => {
  const { svc, dir, seen } = await setup(t);
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'srv', 'www'), { recursive: true });
  await writeFile(join(rootfs, 'srv', 'www', 'index.html'), 'hello');
  await symlink('/srv/www', join(rootfs, 'web'));
  const hostDir = join(dir, 'host-missing');
  const specs = await parseMountConfig({
    binds: [`${hostDir}:/mnt/host:ro`, 'site:/web'],
    tmpfs: { '/run': 'size=1m' },
    volumes: ['/a/b/c'],
  });
  const mounts = await svc.resolveMounts(specs, { containerId: 'c1', rootfs });
  assert.deepEqual(mounts.map((m) => m.destination), ['/web', '/run', '/mnt/host', '/a/b/c']);
  const site = await svc.inspect('site');
  assert.deepEqual(mounts[0], { destination: '/web', type: 'bind', source: site.mountpoint, options: ['rbind', 'rprivate'] });
  assert.equal(await readFile(join(site.mountpoint, 'index.html'), 'utf8'), 'hello', 'copied through the symlink inside the rootfs');
  assert.deepEqual(mounts[1], { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1m'] });
  assert.deepEqual(mounts[2], { destination: '/mnt/host', type: 'bind', source: hostDir, options: ['rbind', 'rprivate', 'ro'] });
  assert.ok((await stat(hostDir)).isDirectory(), '-v creates a missing host directory');
  assert.deepEqual(await svc.references('site'), ['c1']);
  const anonName = specs.find((s) => s.destination === '/a/b/c' && s.type === 'volume')!;
  assert.equal((await svc.inspect((anonName as { name: string }).name)).labels[ANONYMOUS_LABEL], '');
  assert.deepEqual(
    seen.filter((e) => e.action === 'mount').map((e) => [e.actor.id === 'site', e.actor.attributes.container, e.actor.attributes.destination]).filter((x) => x[0]),
    [[true, 'c1', '/web']],
  );
  // Resolving again (a restart) is idempotent: no second create, same references.
  await svc.deactivateMounts('c1');
  await svc.resolveMounts(specs, { containerId: 'c1', rootfs });
  assert.equal(seen.filter((e) => e.action === 'create').length, 2);
  assert.deepEqual(await svc.references('site'), ['c1']);
});

test('releaseMounts with removeAnonymous removes only the anonymous volumes made for that container', async (t) => {
  const { svc, seen } = await setup(t);
  const specs1 = await parseMountConfig({ binds: ['shared:/s'], volumes: ['/anon'] });
  const anon = specs1.find((s) => s.destination === '/anon') as { name: string };
  await svc.resolveMounts(specs1, { containerId: 'c1' });
  // c2 reuses c1's anonymous volume by name, like --volumes-from.
  const specs2 = await parseMountConfig({ binds: ['shared:/s', `${anon.name}:/other`] });
  await svc.prepareMounts(specs2, { containerId: 'c2' });
  assert.deepEqual(await svc.releaseMounts('c1', { removeAnonymous: true }), []);
  assert.deepEqual(await svc.references(anon.name), ['c2']);
  assert.deepEqual(await svc.releaseMounts('c2', { removeAnonymous: true }), []);
  // Still there: c2 did not create it, and c1 had already released it.
  await svc.inspect(anon.name);
  const specs3 = await parseMountConfig({ volumes: ['/x'] });
  await svc.resolveMounts(specs3, { containerId: 'c3' });
  const anon3 = (specs3[0] as { name: string }).name;
  assert.deepEqual(await svc.releaseMounts('c3', { removeAnonymous: true }), [anon3]);
  await svc.inspect('shared');
  assert.ok(seen.some((e) => e.action === 'unmount' && e.actor.attributes.container === 'c3'));
});

test('a volume subpath mounts that directory and must exist', async (t) => {
  const { svc } = await setup(t);
  const v = await svc.create({ name: 'withsub' });
  await mkdir(join(v.mountpoint, 'a', 'b'), { recursive: true });
  const specs = await parseMountConfig({ mounts: [{ type: 'volume', source: 'withsub', target: '/x', volumeOptions: { subpath: 'a/b' } }] });
  const [m] = await svc.resolveMounts(specs, { containerId: 'c1' });
  assert.equal(m?.source, join(v.mountpoint, 'a', 'b'));
  const missing = await parseMountConfig({ mounts: [{ type: 'volume', source: 'withsub', target: '/y', volumeOptions: { subpath: 'nope' } }] });
  await assert.rejects(svc.resolveMounts(missing, { containerId: 'c2' }), { kind: 'invalid-argument', message: /cannot access path/ });
});

test('a --mount bind whose source vanished before start fails with Docker\'s message', async (t) => {
  const { svc, dir } = await setup(t);
  const src = join(dir, 'gone');
  await mkdir(src);
  const specs = await parseMountConfig({ mounts: [{ type: 'bind', source: src, target: '/x' }] });
  await rm(src, { recursive: true });
  await assert.rejects(svc.resolveMounts(specs, { containerId: 'c1' }), {
    message: `invalid mount config for type "bind": bind source path does not exist: ${src}`,
  });
});

test('references of containers that no longer exist are dropped at start, keeping the data', async (t) => {
  const { svc, open, seen } = await setup(t);
  const v = await svc.create({ name: 'orphaned' });
  await writeFile(join(v.mountpoint, 'f'), 'data');
  await svc.acquire('orphaned', 'gone1');
  await svc.acquire('orphaned', 'alive');
  await svc.create({ name: 'untouched' });
  await svc.acquire('untouched', 'alive');
  const again = open();
  assert.deepEqual(await again.reconcileReferences(['alive']), ['orphaned']);
  assert.deepEqual(await again.references('orphaned'), ['alive']);
  assert.deepEqual(await open().references('orphaned'), ['alive'], 'persisted');
  assert.equal(await readFile(join(v.mountpoint, 'f'), 'utf8'), 'data');
  assert.deepEqual(await again.reconcileReferences(['alive']), []);
  assert.ok(!seen.some((e) => e.action === 'destroy'));
});

test('concurrent creates of one name make one volume and concurrent references are all kept', async (t) => {
  const { svc, open, seen } = await setup(t);
  const made = await Promise.all(Array.from({ length: 8 }, () => svc.create({ name: 'race' })));
  assert.ok(made.every((v) => v.createdAt === made[0]!.createdAt));
  assert.equal(seen.filter((e) => e.action === 'create').length, 1);
  await Promise.all(Array.from({ length: 8 }, (_, i) => svc.acquire('race', `c${i}`)));
  assert.deepEqual((await open().references('race')).sort(), ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']);
});
