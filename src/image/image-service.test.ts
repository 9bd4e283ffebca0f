import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { openStorage, type Storage } from '../storage/index.js';
import { BerthError, EventBus, errorKind, sha256Digest, type EngineEvent } from '../util/index.js';
import { buildImage, legacyDockerArchive, ociArchive, runCompressor, tarOf, type FixtureImage } from './archive-fixtures.js';
import { ImageService } from './image-service.js';
import type { DeleteItem } from './types.js';

interface Env {
  root: string;
  storage: Storage;
  svc: ImageService;
  events: EngineEvent[];
}

async function setup(t: TestContext): Promise<Env> {
  const root = await mkdtemp(join(tmpdir(), 'berth-images-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const storage = await openStorage(root);
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const svc = await ImageService.open({ storage, root, events: bus });
  return { root, storage, svc, events };
}

const layerA = () => tarOf([{ name: 'bin/', type: 'dir' }, { name: 'bin/sh', data: '#!fake shell\n', mode: 0o755 }]);
const layerB = () => tarOf([{ name: 'etc/', type: 'dir' }, { name: 'etc/motd', data: 'hello\n' }]);

async function busybox(extra: Partial<FixtureImage> = {}): Promise<FixtureImage> {
  return { layers: [await layerA(), await layerB()], tags: ['busybox:latest'], ...extra };
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function tarNames(buf: Buffer): Promise<string[]> {
  const ex = tarExtract();
  const names: string[] = [];
  const done = (async () => {
    for await (const e of ex) {
      names.push(e.header.name);
      e.resume();
    }
  })();
  ex.end(buf);
  await done;
  return names;
}

/** Every path under `dir` with its type, size and content hash: "nothing changed on disk". */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const st = await lstat(p);
      const rel = p.slice(dir.length);
      if (st.isDirectory()) {
        out.push(`${rel}/`);
        await walk(p);
      } else if (st.isSymbolicLink()) out.push(`${rel} -> ${await readlink(p)}`);
      else out.push(`${rel} ${st.size} ${createHash('sha256').update(await readFile(p)).digest('hex').slice(0, 16)}`);
    }
  };
  await walk(dir);
  return out;
}

test('load reads a legacy docker-archive and the image shows in list, inspect and history', async (t) => {
  const { svc, events } = await setup(t);
  const img = await busybox();
  const built = buildImage(img);
  const progress: string[] = [];
  const res = await svc.load(Readable.from(await legacyDockerArchive([img])), { onProgress: (p) => progress.push(p.kind) });
  assert.deepEqual(res.messages, ['Loaded image: busybox:latest']);
  assert.equal(res.images[0]!.id, built.configDigest);
  assert.ok(progress.includes('layer'));

  const [summary, ...rest] = await svc.list();
  assert.equal(rest.length, 0);
  assert.deepEqual(summary!.repoTags, ['busybox:latest']);
  assert.equal(summary!.id, built.configDigest);
  assert.ok(summary!.size > 0);

  const info = await svc.inspect('busybox');
  assert.deepEqual(info.rootFs.layers, built.diffIds);
  assert.deepEqual(info.config.Cmd, ['sh']);
  assert.equal(info.os, 'linux');
  assert.equal(info.graphDriver.name, 'overlay2');
  assert.ok(info.graphDriver.data['UpperDir']);
  assert.ok(info.graphDriver.data['LowerDir']);
  assert.ok(info.lastTagTime);
  assert.equal((await svc.inspect(built.configDigest.slice(7, 19))).id, built.configDigest);

  const hist = await svc.history('busybox:latest');
  assert.equal(hist.length, 3);
  assert.equal(hist[0]!.id, built.configDigest);
  assert.deepEqual(hist[0]!.tags, ['busybox:latest']);
  assert.equal(hist[0]!.size, 0);
  assert.equal(hist[1]!.id, '<missing>');
  assert.ok(hist[1]!.size > 0);
  assert.ok(events.some((e) => e.action === 'load' && e.actor.id === built.configDigest));
  assert.ok(events.some((e) => e.action === 'tag' && e.actor.attributes['name'] === 'busybox:latest'));
});

test('load reads an OCI layout with gzip layers and names images from annotations', async (t) => {
  const { svc } = await setup(t);
  const img = await busybox({ gzip: true, tags: ['alpine:3'] });
  const res = await svc.load(Readable.from(await ociArchive([img])));
  assert.deepEqual(res.messages, ['Loaded image: alpine:3']);
  const info = await svc.inspect('alpine:3');
  assert.equal(info.manifestDigest, buildImage(img).manifestDigest);
});

test('an OCI layout whose ref.name is only a tag loads untagged with its id', async (t) => {
  const { svc } = await setup(t);
  const img = await busybox({ tags: ['latest'] });
  const res = await svc.load(Readable.from(await ociArchive([img], { fullNames: false })));
  assert.deepEqual(res.messages, [`Loaded image ID: ${buildImage(img).configDigest}`]);
  assert.deepEqual((await svc.list({ filters: { dangling: true } })).length, 1);
});

test('load reads the Docker 25+ format and a gzip-compressed archive', async (t) => {
  const { svc } = await setup(t);
  const img = await busybox({ tags: ['a:1', 'b:2'] });
  const res = await svc.load(Readable.from(gzipSync(await ociArchive([img], { dockerManifest: true }))));
  assert.deepEqual(res.messages.sort(), ['Loaded image: a:1', 'Loaded image: b:2']);
  assert.equal((await svc.inspect('b:2')).manifestDigest, buildImage(img).manifestDigest);
});

test('save writes OCI layout plus manifest.json and loads back into a fresh store with the same ids', async (t) => {
  const a = await setup(t);
  const one = await busybox();
  const two: FixtureImage = { layers: [await layerA()], tags: ['me/app:v1', 'me/app:v2'], gzip: true };
  await a.svc.load(Readable.from(await legacyDockerArchive([one, two])));
  const tar = await collect(a.svc.save(['busybox', 'me/app']));
  const names = await tarNames(tar);
  for (const n of ['index.json', 'manifest.json', 'oci-layout', 'repositories']) assert.ok(names.includes(n), n);
  assert.ok(names.filter((n) => n.startsWith('blobs/sha256/') && n.length > 20).length >= 5);

  const b = await setup(t);
  const res = await b.svc.load(Readable.from(tar));
  assert.deepEqual(res.messages.sort(), ['Loaded image: busybox:latest', 'Loaded image: me/app:v1', 'Loaded image: me/app:v2']);
  assert.equal((await b.svc.inspect('me/app:v2')).id, buildImage(two).configDigest);
  assert.equal((await b.svc.inspect('busybox')).id, buildImage(one).configDigest);
});

test('save of an unknown name fails before any byte is written', async (t) => {
  const { svc } = await setup(t);
  assert.throws(() => svc.save(['nope']), (e: unknown) => errorKind(e) === 'not-found' && /No such image: nope:latest/.test((e as Error).message));
});

test('import makes a one-layer image with the changes and Docker\'s comment', async (t) => {
  const { svc, events } = await setup(t);
  const rootfs = await tarOf([{ name: 'hello.txt', data: 'hi\n' }]);
  const id = await svc.importRootfs(Readable.from(gzipSync(rootfs)), { repo: 'imported', tag: 'v1', changes: ['CMD ["sh"]', 'ENV A=1'] });
  const info = await svc.inspect('imported:v1');
  assert.equal(info.id, id);
  assert.deepEqual(info.config.Cmd, ['sh']);
  assert.deepEqual(info.config.Env, ['A=1']);
  assert.equal(info.comment, 'Imported from -');
  assert.equal(info.rootFs.layers.length, 1);
  const hist = await svc.history(id);
  assert.equal(hist[0]!.comment, 'Imported from -');
  assert.ok(events.some((e) => e.action === 'import'));
});

test('tag adds a reference and rmi of one of two tags only untags', async (t) => {
  const { svc } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([await busybox()])));
  await svc.tag('busybox', 'localhost:5000/mine', 'v1');
  assert.deepEqual((await svc.inspect('busybox')).repoTags, ['busybox:latest', 'localhost:5000/mine:v1']);
  await assert.rejects(svc.tag('busybox', 'BAD::NAME'), (e: unknown) => errorKind(e) === 'invalid-argument' && /invalid reference format/.test((e as Error).message));
  await assert.rejects(svc.tag('missing', 'x'), (e: unknown) => errorKind(e) === 'not-found');
  const res = await svc.remove('localhost:5000/mine:v1');
  assert.deepEqual(res, [{ untagged: 'localhost:5000/mine:v1' }]);
});

test('rmi by id of an image in several repositories is a 409 unless forced', async (t) => {
  const { svc, storage } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([await busybox()])));
  await svc.tag('busybox', 'other', 'x');
  const id = (await svc.inspect('busybox')).id;
  await assert.rejects(
    svc.remove(id),
    (e: unknown) =>
      errorKind(e) === 'conflict' &&
      (e as Error).message === `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
  );
  const res = await svc.remove(id, { force: true });
  const untagged = res.filter((r): r is { untagged: string } => 'untagged' in r).map((r) => r.untagged).sort();
  assert.deepEqual(untagged, ['busybox:latest', 'other:x']);
  assert.ok(res.some((r) => 'deleted' in r && r.deleted === id));
  assert.ok(res.filter((r) => 'deleted' in r).length >= 3, 'the layers are reported deleted');
  assert.deepEqual(await svc.list(), []);
  assert.equal(await storage.content.info(id), undefined);
  assert.deepEqual(await storage.layers.list(), []);
});

test('rmi refuses an image a running container uses, even forced, and a stopped one unless forced', async (t) => {
  const { svc } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([await busybox()])));
  const id = (await svc.inspect('busybox')).id;
  svc.setUsageCheck(async () => [{ id: 'c0ffee0000000000', running: true }]);
  await assert.rejects(svc.remove(id, { force: true }), /\(cannot be forced\) - image is being used by running container c0ffee000000/);
  await assert.rejects(svc.remove('busybox'), /unable to remove repository reference "busybox" \(must force\) - container c0ffee000000 is using its referenced image/);
  svc.setUsageCheck(async () => [{ id: 'dead00000000aaaa', running: false }]);
  await assert.rejects(svc.remove(id), /\(must be forced\) - image is being used by stopped container dead00000000/);
  const res: DeleteItem[] = await svc.remove(id, { force: true });
  assert.ok(res.some((r) => 'deleted' in r));
});

test('commit stacks a layer on a parent and the parent cannot be removed while the child exists', async (t) => {
  const { svc } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([await busybox()])));
  const parent = (await svc.inspect('busybox')).id;
  const id = await svc.commit({
    parent,
    layer: Readable.from(await tarOf([{ name: 'app.txt', data: 'app' }])),
    changes: ['CMD ["app"]'],
    repo: 'app',
    comment: 'made by a test',
    createdBy: 'COPY app.txt /',
  });
  const info = await svc.inspect('app');
  assert.equal(info.id, id);
  assert.equal(info.parent, parent);
  assert.equal(info.rootFs.layers.length, 3);
  assert.deepEqual(info.config.Cmd, ['app']);
  const hist = await svc.history('app');
  assert.equal(hist[0]!.createdBy, 'COPY app.txt /');
  assert.equal(hist[1]!.id, parent);
  await svc.remove('busybox');
  await assert.rejects(svc.remove(parent, { force: true }), /\(cannot be forced\) - image has dependent child images/);
  const res = await svc.remove('app');
  assert.ok(res.some((r) => 'deleted' in r && r.deleted === parent), 'the untagged parent is pruned with the child');
});

test('list filters by dangling, reference glob, label and before/since', async (t) => {
  const { svc } = await setup(t);
  await svc.load(
    Readable.from(
      await legacyDockerArchive([
        { layers: [await layerA()], tags: ['web:1', 'web:2'], labels: { tier: 'front' }, created: '2024-01-01T00:00:00Z' },
        { layers: [await layerB()], tags: ['db:1'], labels: { tier: 'back' }, created: '2024-02-01T00:00:00Z' },
        { layers: [await layerA(), await layerB()], tags: [], created: '2024-03-01T00:00:00Z' },
      ]),
    ),
  );
  const tags = async (filters: Parameters<ImageService['list']>[0]) => (await svc.list(filters)).map((s) => s.repoTags.join(','));
  assert.deepEqual(await tags({}), ['', 'db:1', 'web:1,web:2']);
  assert.deepEqual(await tags({ filters: { dangling: true } }), ['']);
  assert.deepEqual(await tags({ filters: { dangling: false } }), ['db:1', 'web:1,web:2']);
  assert.deepEqual(await tags({ filters: { reference: ['web:2'] } }), ['web:2']);
  assert.deepEqual(await tags({ filters: { reference: ['w*'] } }), ['web:1,web:2']);
  assert.deepEqual(await tags({ filters: { label: ['tier=back'] } }), ['db:1']);
  assert.deepEqual(await tags({ filters: { label: ['tier!=back'] } }), ['', 'web:1,web:2']);
  assert.deepEqual(await tags({ filters: { before: 'db:1' } }), ['web:1,web:2']);
  assert.deepEqual(await tags({ filters: { since: 'db:1' } }), ['']);
  const df = await svc.diskUsage();
  assert.equal(df.images.length, 3);
  assert.ok(df.layersSize > 0);
  assert.ok(df.images.every((i) => i.sharedSize >= 0 && i.containers === 0));
});

test('prune removes dangling images, and with all every unused one, and reports reclaimed space', async (t) => {
  const { svc } = await setup(t);
  await svc.load(
    Readable.from(
      await legacyDockerArchive([
        { layers: [await layerA()], tags: ['keep:1'], labels: { keep: 'yes' } },
        { layers: [await layerB()], tags: [] },
      ]),
    ),
  );
  const r1 = await svc.prune();
  assert.equal(r1.imagesDeleted.filter((d) => 'deleted' in d).length, 2);
  assert.ok(r1.spaceReclaimed > 0);
  assert.deepEqual((await svc.list()).map((s) => s.repoTags), [['keep:1']]);
  assert.equal((await svc.prune({ all: true, filters: { labelNot: ['keep=yes'] } })).imagesDeleted.length, 0);
  const r2 = await svc.prune({ all: true });
  assert.deepEqual(r2.imagesDeleted[0], { untagged: 'keep:1' });
  assert.deepEqual(await svc.list(), []);
});

test('resolve gives the runtime the config and the top chainID', async (t) => {
  const { svc, storage } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([await busybox()])));
  const r = await svc.resolve('busybox');
  assert.deepEqual(r.config.config?.Cmd, ['sh']);
  assert.ok(r.topChainId && (await storage.layers.get(r.topChainId)));
  assert.deepEqual(r.repoTags, ['busybox:latest']);
});

// ---- bad input: one-line error, right kind, nothing changed on disk ----------------------------

async function expectUnchanged(
  t: TestContext,
  archive: () => Promise<Buffer>,
  check: (e: unknown) => boolean,
): Promise<void> {
  const { root, svc } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([{ layers: [await layerA()], tags: ['base:1'] }])));
  const before = await snapshot(root);
  const buf = await archive();
  await assert.rejects(svc.load(Readable.from(buf)), (e: unknown) => {
    assert.ok(e instanceof Error && !e.message.includes('\n'), `one line: ${(e as Error).message}`);
    return check(e);
  });
  assert.deepEqual(await snapshot(root), before);
  assert.deepEqual((await svc.list()).map((s) => s.repoTags), [['base:1']]);
}

const invalid = (re: RegExp) => (e: unknown) => errorKind(e) === 'invalid-argument' && re.test((e as Error).message);

test('a truncated archive is rejected and changes nothing', async (t) => {
  await expectUnchanged(t, async () => {
    const full = await legacyDockerArchive([await busybox()]);
    return full.subarray(0, 1536 + 100);
  }, invalid(/invalid image archive/));
});

test('a corrupt gzip archive is rejected and changes nothing', async (t) => {
  await expectUnchanged(t, async () => {
    const gz = gzipSync(await legacyDockerArchive([await busybox()]));
    const mid = gz.length >> 1;
    gz.writeUInt16BE(gz.readUInt16BE(mid) ^ 0xffff, mid);
    return gz;
  }, invalid(/invalid image archive/));
});

test('a blob whose content does not match its digest name is rejected and changes nothing', async (t) => {
  await expectUnchanged(t, async () => {
    const img = await busybox({ tags: ['evil:1'] });
    const b = buildImage(img);
    const wrong = b.blobs[0]!.digest.slice(7);
    return tarOf([
      { name: `blobs/sha256/${wrong}`, data: Buffer.from('not the layer') },
      { name: 'index.json', data: '{"schemaVersion":2,"manifests":[]}' },
    ]);
  }, invalid(/digest mismatch|size mismatch/));
});

test('a layer whose diffID does not match the config is rejected and changes nothing', async (t) => {
  await expectUnchanged(t, async () => {
    const img = await busybox({ tags: ['evil:2'] });
    // The second layer is not the one the config's diff_ids name.
    const b = buildImage(img);
    return tarOf([
      { name: `${b.configDigest.slice(7)}.json`, data: b.config },
      { name: 'l1/layer.tar', data: img.layers[0]! },
      { name: 'l2/layer.tar', data: await tarOf([{ name: 'x', data: 'y' }]) },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${b.configDigest.slice(7)}.json`, RepoTags: ['evil:2'], Layers: ['l1/layer.tar', 'l2/layer.tar'] }]) },
    ]);
  }, invalid(/digest mismatch for layer/));
});

test('a layer with a member escaping the layer is rejected, in every archive format, and changes nothing', async (t) => {
  const hostile = await tarOf([{ name: 'etc/', type: 'dir' }, { name: '../escape', data: 'x' }]);
  for (const make of [
    () => legacyDockerArchive([{ layers: [hostile], tags: ['evil:3'] }]),
    () => ociArchive([{ layers: [hostile], tags: ['evil:4'] }], { dockerManifest: true }),
    () => ociArchive([{ layers: [hostile], gzip: true, tags: ['evil:5'] }]),
  ]) {
    await expectUnchanged(t, make, invalid(/escape|outside|\.\./));
  }
});

test('a manifest with an unknown layer media type is rejected and changes nothing', async (t) => {
  await expectUnchanged(t, async () => {
    const img = await busybox({ tags: ['evil:3'] });
    const b = buildImage(img);
    const m = JSON.parse(b.manifest.toString());
    m.layers[0].mediaType = 'application/x-weird';
    const mb = Buffer.from(JSON.stringify(m));
    const md = sha256Digest(mb);
    return tarOf([
      ...b.blobs.map((l) => ({ name: `blobs/sha256/${l.digest.slice(7)}`, data: l.data })),
      { name: `blobs/sha256/${b.configDigest.slice(7)}`, data: b.config },
      { name: `blobs/sha256/${md.slice(7)}`, data: mb },
      { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: mb.length }] }) },
    ]);
  }, invalid(/unsupported media type "application\/x-weird" for a layer/));
});

test('an archive naming an invalid reference is rejected and changes nothing', async (t) => {
  await expectUnchanged(t, async () => legacyDockerArchive([await busybox({ tags: ['BAD::NAME'] })]), invalid(/invalid reference format/));
});

test('a tar that is no image archive is rejected naming what is missing', async (t) => {
  await expectUnchanged(t, async () => tarOf([{ name: 'hello.txt', data: 'hi' }]), invalid(/neither manifest\.json nor index\.json/));
});

test('a missing image is a not-found error in Docker\'s words', async (t) => {
  const { svc } = await setup(t);
  for (const op of [() => svc.inspect('ghost'), () => svc.history('ghost:1'), () => svc.remove('ghost'), () => svc.resolve('abc123')]) {
    await assert.rejects(op(), (e: unknown) => e instanceof BerthError && e.kind === 'not-found' && /^No such image: (ghost:latest|ghost:1|abc123:latest)$/.test(e.message));
  }
});

test('storePulled records an image from blobs already in the content store, with its repo digest', async (t) => {
  const { svc, storage, events } = await setup(t);
  const img = await busybox({ gzip: true });
  const b = buildImage(img);
  for (const l of b.blobs) await storage.content.put(l.data);
  await storage.content.put(b.config);
  await storage.content.put(b.manifest);
  const id = await svc.storePulled({ ref: 'registry.local:5000/team/busybox:1', manifestDigest: b.manifestDigest });
  assert.equal(id, b.configDigest);
  const info = await svc.inspect('registry.local:5000/team/busybox:1');
  assert.deepEqual(info.repoDigests, [`registry.local:5000/team/busybox@${b.manifestDigest}`]);
  assert.equal((await svc.inspect(`registry.local:5000/team/busybox@${b.manifestDigest}`)).id, id);
  assert.ok(events.some((e) => e.action === 'pull'));
  const push = await svc.pushContents('registry.local:5000/team/busybox:1');
  assert.equal(push.manifest.digest, b.manifestDigest);
  assert.deepEqual(push.layers.map((l) => l.digest), b.blobs.map((l) => l.digest));
  // The last tag of the repository takes the digest reference with it.
  const res = await svc.remove('registry.local:5000/team/busybox:1');
  assert.deepEqual(res.slice(0, 2), [
    { untagged: 'registry.local:5000/team/busybox:1' },
    { untagged: `registry.local:5000/team/busybox@${b.manifestDigest}` },
  ]);
  assert.ok(res.some((r) => 'deleted' in r && r.deleted === id));
});

test('load reads archives compressed with xz, bzip2 and zstd through their tools', async (t) => {
  const archive = await legacyDockerArchive([await busybox()]);
  for (const tool of ['xz', 'bzip2', 'zstd'] as const) {
    const packed = await runCompressor(tool, archive).catch(() => undefined);
    if (!packed) {
      t.diagnostic(`${tool} is not installed: skipped`);
      continue;
    }
    const { svc } = await setup(t);
    const res = await svc.load(Readable.from(packed));
    assert.deepEqual(res.messages, ['Loaded image: busybox:latest'], tool);
    const corrupt = Buffer.from(packed);
    corrupt.fill(0x55, 16, 64);
    await assert.rejects(svc.load(Readable.from(corrupt)), (e: unknown) => errorKind(e) === 'invalid-argument', `${tool} corrupt`);
  }
});

test('GC run by rmi keeps the roots other owners register', async (t) => {
  const { svc, storage } = await setup(t);
  const kept = await storage.content.put('builder cache record');
  const dropped = await storage.content.put('garbage');
  svc.addGcRoots(() => ({ blobs: new Set([kept.digest]), chains: new Set() }));
  await svc.load(Readable.from(await legacyDockerArchive([await busybox()])));
  await svc.remove('busybox');
  assert.ok(await storage.content.info(kept.digest));
  assert.equal(await storage.content.info(dropped.digest), undefined);
});

test('a load cancelled mid-stream rejects as cancelled and leaves the data-root as it was', async (t) => {
  const { root, svc } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([{ layers: [await layerA()], tags: ['base:1'] }])));
  const before = await snapshot(root);
  const archive = await legacyDockerArchive([await busybox({ tags: ['cancelled:1'] })]);
  const ac = new AbortController();
  const input = Readable.from(
    (async function* () {
      yield archive.subarray(0, 3000);
      ac.abort();
      await new Promise((r) => setTimeout(r, 10));
      yield archive.subarray(3000);
    })(),
  );
  await assert.rejects(svc.load(input, {}, { signal: ac.signal }), (e: unknown) => errorKind(e) === 'cancelled');
  assert.deepEqual(await snapshot(root), before);
});

test('an import of a corrupt or hostile tar fails and leaves the data-root as it was', async (t) => {
  const { root, svc } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([{ layers: [await layerA()], tags: ['base:1'] }])));
  const before = await snapshot(root);
  const gz = gzipSync(await tarOf([{ name: 'a.txt', data: 'x'.repeat(100_000) }]));
  gz.fill(0x41, 20, gz.length - 10);
  await assert.rejects(svc.importRootfs(Readable.from(gz), { repo: 'broken' }), (e: unknown) => errorKind(e) === 'invalid-argument');
  const escape = await tarOf([{ name: '../../etc/evil', data: 'x' }]);
  await assert.rejects(svc.importRootfs(Readable.from(escape), { repo: 'evil' }), (e: unknown) => errorKind(e) === 'invalid-argument');
  assert.deepEqual(await snapshot(root), before);
  assert.deepEqual((await svc.list()).map((s) => s.repoTags), [['base:1']]);
});

test('a second load reuses unpacked layers it can verify and re-checks the ones it cannot', async (t) => {
  const { root, svc, storage } = await setup(t);
  let applies = 0;
  let staged = 0;
  let committed = 0;
  const apply = storage.layers.apply.bind(storage.layers);
  storage.layers.apply = (...args) => {
    applies++;
    return apply(...args);
  };
  const stage = storage.layers.stage.bind(storage.layers);
  storage.layers.stage = (...args) => {
    staged++;
    return stage(...args);
  };
  const commitStaged = storage.layers.commitStaged.bind(storage.layers);
  storage.layers.commitStaged = (...args) => {
    committed++;
    return commitStaged(...args);
  };
  const plain = await busybox();
  await svc.load(Readable.from(await legacyDockerArchive([plain])));
  assert.deepEqual({ applies, staged, committed }, { applies: 0, staged: 2, committed: 2 }, 'layers unpack while the archive is read');
  await svc.load(Readable.from(await ociArchive([{ ...plain, tags: ['again:1'] }])));
  assert.deepEqual({ applies, staged, committed }, { applies: 0, staged: 2, committed: 2 }, 'uncompressed blobs are their own diffIDs: nothing to unpack again');
  await svc.load(Readable.from(await legacyDockerArchive([{ ...plain, tags: ['again:2'] }])));
  assert.deepEqual({ applies, staged, committed }, { applies: 0, staged: 2, committed: 2 }, 'legacy layer.tar members of known layers are not unpacked again');

  // New gzip blobs of known layers are unpacked while read (their diffIDs are not known before)
  // but their layers are not stored twice (the image exists: its GC drops the new blobs again).
  const zipped = await busybox({ gzip: true, tags: ['zipped:1'] });
  await svc.load(Readable.from(await ociArchive([zipped])));
  await svc.load(Readable.from(await ociArchive([{ ...zipped, tags: ['zipped:2'] }])));
  assert.deepEqual({ applies, staged, committed }, { applies: 0, staged: 6, committed: 2 });
  assert.equal((await storage.layers.list()).length, 2);

  // A blob that claims a known diffID but holds something else is still caught.
  const before = await snapshot(root);
  const b = buildImage(zipped);
  const evil = gzipSync(await tarOf([{ name: 'evil', data: 'not the layer' }]));
  const evilDigest = sha256Digest(evil);
  const m = JSON.parse(b.manifest.toString());
  m.layers[0] = { ...m.layers[0], digest: evilDigest, size: evil.length };
  const mb = Buffer.from(JSON.stringify(m));
  const md = sha256Digest(mb);
  const archive = await tarOf([
    { name: `blobs/sha256/${evilDigest.slice(7)}`, data: evil },
    { name: `blobs/sha256/${b.blobs[1]!.digest.slice(7)}`, data: b.blobs[1]!.data },
    { name: `blobs/sha256/${b.configDigest.slice(7)}`, data: b.config },
    { name: `blobs/sha256/${md.slice(7)}`, data: mb },
    { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: mb.length, annotations: { 'io.containerd.image.name': 'docker.io/library/evil:1' } }] }) },
  ]);
  await assert.rejects(svc.load(Readable.from(archive)), /digest mismatch for layer/);
  assert.deepEqual(await snapshot(root), before);
});

test('committing the same layer twice on one parent reuses the layer', async (t) => {
  const { svc, storage } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([await busybox()])));
  const layer = await tarOf([{ name: 'same.txt', data: 'same' }]);
  const a = await svc.commit({ parent: 'busybox', layer: Readable.from(layer), repo: 'a', comment: 'first' });
  const b = await svc.commit({ parent: 'busybox', layer: Readable.from(layer), repo: 'b', comment: 'second' });
  assert.notEqual(a, b);
  assert.equal((await svc.resolve('a')).topChainId, (await svc.resolve('b')).topChainId);
  assert.equal((await storage.layers.list()).length, 3);
});

test('gc removes what an interrupted load left behind and keeps every image', async (t) => {
  const { svc, storage } = await setup(t);
  await svc.load(Readable.from(await legacyDockerArchive([await busybox()])));
  const leftover = await storage.content.put('a blob a crashed load wrote');
  await svc.gc();
  assert.equal(await storage.content.info(leftover.digest), undefined);
  const r = await svc.resolve('busybox');
  assert.ok(await storage.content.info(r.id));
  assert.ok(await storage.layers.get(r.topChainId!));
});
