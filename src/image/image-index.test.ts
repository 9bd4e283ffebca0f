import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openStorage } from '../storage/index.js';
import { EventBus, errorKind, sha256Digest, type Digest } from '../util/index.js';
import { buildImage, tarEntries, tarOf } from './archive-fixtures.js';
import { ImageService } from './image-service.js';
import { hostPlatform } from './platform.js';

async function setup(t: TestContext): Promise<ImageService> {
  const root = await mkdtemp(join(tmpdir(), 'berth-index-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const storage = await openStorage(root);
  return ImageService.open({ storage, root, events: new EventBus() });
}

const FOREIGN = hostPlatform().architecture === 'arm64' ? 'linux/amd64' : 'linux/arm64';
const HOST = `linux/${hostPlatform().architecture}`;

/** Two one-layer images (host and foreign platform) and an index over them tagged `multi:latest`. */
async function twoPlatforms(svc: ImageService): Promise<{ host: Digest; foreign: Digest; index: Digest }> {
  const host = await svc.importRootfs(Readable.from([await tarOf([{ name: 'arch', data: 'host\n' }])]), { platform: HOST });
  const foreign = await svc.importRootfs(Readable.from([await tarOf([{ name: 'arch', data: 'foreign\n' }])]), { platform: FOREIGN });
  const index = await svc.createIndex([host, foreign], ['multi:latest']);
  return { host, foreign, index };
}

test('a tag naming an index resolves to the host image, and to another platform when asked', async (t) => {
  const svc = await setup(t);
  const { host, foreign } = await twoPlatforms(svc);
  assert.equal((await svc.resolve('multi:latest')).id, host);
  assert.equal((await svc.resolve('multi:latest', { platform: FOREIGN })).id, foreign);
  await assert.rejects(svc.resolve('multi:latest', { platform: 'linux/s390x' }), (e) => errorKind(e) === 'not-found' && /linux\/s390x/.test(String(e)));
});

test('an index is found by its digest and by a unique prefix of it', async (t) => {
  const svc = await setup(t);
  const { host, index } = await twoPlatforms(svc);
  assert.equal((await svc.resolve(index)).id, host);
  assert.equal((await svc.resolve(index.slice(7, 19))).id, host);
  assert.equal((await svc.platforms(index.slice(7, 19))).index?.digest, index);
});

test('images lists the tag of an index once, on its host image, and inspect shows that image', async (t) => {
  const svc = await setup(t);
  const { host, foreign } = await twoPlatforms(svc);
  const rows = await svc.list();
  assert.deepEqual(rows.map((r) => [r.id, r.repoTags]), [[host, ['multi:latest']]]);
  const all = await svc.list({ all: true });
  assert.ok(all.some((r) => r.id === foreign && r.repoTags.length === 0));
  assert.equal((await svc.list({ filters: { dangling: true } })).length, 0);
  const d = await svc.inspect('multi:latest');
  assert.equal(d.id, host);
  assert.deepEqual(d.repoTags, ['multi:latest']);
});

test('platforms lists each manifest of an index with its image id and size', async (t) => {
  const svc = await setup(t);
  const { host, foreign, index } = await twoPlatforms(svc);
  const v = await svc.platforms('multi');
  assert.equal(v.index?.digest, index);
  assert.deepEqual(
    v.images.map((i) => [`${i.platform?.os}/${i.platform?.architecture}`, i.imageId, i.available, i.size > 0]),
    [
      [HOST, host, true, true],
      [FOREIGN, foreign, true, true],
    ],
  );
  const single = await svc.platforms(host);
  assert.equal(single.index, undefined);
  assert.equal(single.images[0]?.imageId, host);
});

test('rmi of the tag removes the index and the images only it kept; prune leaves an index alone', async (t) => {
  const svc = await setup(t);
  const { host, foreign, index } = await twoPlatforms(svc);
  assert.deepEqual((await svc.prune()).imagesDeleted, []);
  await svc.tag('multi:latest', 'other', 'v1');
  assert.deepEqual(await svc.remove('multi:latest'), [{ untagged: 'multi:latest' }]);
  const items = await svc.remove('other:v1');
  assert.deepEqual(items.slice(0, 2), [{ untagged: 'other:v1' }, { deleted: index }]);
  assert.ok(items.some((i) => 'deleted' in i && i.deleted === host));
  assert.ok(items.some((i) => 'deleted' in i && i.deleted === foreign));
  assert.equal(svc.count(), 0);
  await assert.rejects(svc.resolve('other:v1'), (e) => errorKind(e) === 'not-found');
});

test('save writes the index and every platform, and load into a fresh store keeps the index', async (t) => {
  const svc = await setup(t);
  const { host, foreign, index } = await twoPlatforms(svc);
  const files = await tarEntries(svc.save(['multi:latest']));
  const top = JSON.parse(files.get('index.json')!.toString()) as { manifests: Array<{ digest: string; mediaType: string }> };
  assert.deepEqual(top.manifests.map((m) => m.digest), [index]);
  assert.ok(files.has(`blobs/sha256/${foreign.slice(7)}`));

  const other = await setup(t);
  const res = await other.load(svc.save(['multi:latest']));
  assert.deepEqual(res.messages, ['Loaded image: multi:latest']);
  assert.equal((await other.platforms('multi:latest')).index?.digest, index);
  assert.equal((await other.resolve('multi:latest')).id, host);
  assert.equal((await other.resolve('multi:latest', { platform: FOREIGN })).id, foreign);
});

test('an index refuses two images of one platform', async (t) => {
  const svc = await setup(t);
  const a = await svc.importRootfs(Readable.from([await tarOf([{ name: 'a', data: 'a' }])]), { platform: HOST });
  const b = await svc.importRootfs(Readable.from([await tarOf([{ name: 'b', data: 'b' }])]), { platform: HOST });
  await assert.rejects(svc.createIndex([a, b], ['x:y']), (e) => errorKind(e) === 'conflict');
});

test('prune removes an index no tag names, then its images as dangling', async (t) => {
  const svc = await setup(t);
  const host = await svc.importRootfs(Readable.from([await tarOf([{ name: 'a', data: 'a' }])]), { platform: HOST });
  const foreign = await svc.importRootfs(Readable.from([await tarOf([{ name: 'b', data: 'b' }])]), { platform: FOREIGN });
  const index = await svc.createIndex([host, foreign], []);
  const r = await svc.prune();
  const deleted = r.imagesDeleted.map((d) => ('deleted' in d ? d.deleted : ''));
  for (const d of [index, host, foreign]) assert.ok(deleted.includes(d), d);
  assert.equal(svc.count(), 0);
});

test('a load of an index with platforms and attestations the archive lacks keeps the index and loads what is there', async (t) => {
  const svc = await setup(t);
  const img = buildImage({ layers: [await tarOf([{ name: 'x', data: 'x' }])], tags: [] });
  const missing = `sha256:${'f'.repeat(64)}`;
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifestDigest, size: img.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: missing, size: 500, platform: { os: 'linux', architecture: 's390x' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'e'.repeat(64)}`, size: 300, platform: { os: 'unknown', architecture: 'unknown' } },
      ],
    }),
  );
  const indexDigest = sha256Digest(index);
  const top = {
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: index.length, annotations: { 'io.containerd.image.name': 'docker.io/library/partial:1' } }],
  };
  const blob = (d: string, data: Buffer) => ({ name: `blobs/sha256/${d.slice(7)}`, data });
  const archive = await tarOf([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify(top) },
    blob(indexDigest, index),
    blob(img.manifestDigest, img.manifest),
    blob(img.configDigest, img.config),
    ...img.blobs.map((b) => blob(b.digest, b.data)),
  ]);
  const r = await svc.load(Readable.from([archive]));
  assert.deepEqual(r.messages, ['Loaded image: partial:1']);
  const v = await svc.platforms('partial:1');
  assert.equal(v.index?.digest, indexDigest);
  assert.deepEqual(v.images.map((i) => [i.platform?.architecture, i.available]), [['amd64', true], ['s390x', false], ['unknown', false]]);
  assert.equal((await svc.resolve('partial:1', { platform: 'linux/amd64' })).id, img.configDigest);
  await assert.rejects(svc.resolve('partial:1', { platform: 'linux/s390x' }), (e) => errorKind(e) === 'not-found');
});
