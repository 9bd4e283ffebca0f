// Table-driven API tests of a multi-platform image under /images/{name}/json (manifests=1,
// platform=) against an in-process server backed by a real ImageService in a temp directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import { ImageService, hostPlatform } from '../../image/index.js';
import { openStorage } from '../../storage/index.js';
import { EventBus } from '../../util/index.js';
import { startRouteTestServer } from '../route-test-server.js';
import { imageRoutes } from './images.js';

async function oneFileTar(name: string, data: string): Promise<Readable> {
  const p = tarPack();
  p.entry({ name }, data);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

test('a multi-platform image inspects as its host image, per platform, and with its manifests', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-imgroutes-'));
  const svc = await ImageService.open({ storage: await openStorage(dir), root: dir, events: new EventBus() });
  const server = await startRouteTestServer(imageRoutes(svc), dir);
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const host = hostPlatform().architecture;
  const other = host === 'arm64' ? 'amd64' : 'arm64';
  const hostId = await svc.importRootfs(await oneFileTar('a', 'host'), { platform: `linux/${host}` });
  const otherId = await svc.importRootfs(await oneFileTar('a', 'other'), { platform: `linux/${other}` });
  const index = await svc.createIndex([hostId, otherId], ['multi:1']);
  const platform = (arch: string) => encodeURIComponent(JSON.stringify({ os: 'linux', architecture: arch }));

  const cases: Array<[string, number, (b: any) => void]> = [
    ['/images/multi:1/json', 200, (b) => {
      assert.equal(b.Id, hostId);
      assert.deepEqual(b.RepoTags, ['multi:1']);
      assert.equal(b.Manifests, undefined);
    }],
    [`/images/multi:1/json?platform=${platform(other)}`, 200, (b) => {
      assert.equal(b.Id, otherId);
      assert.equal(b.Architecture, other);
    }],
    [`/images/multi:1/json?platform=${platform('s390x')}`, 404, (b) => assert.match(b.message, /linux\/s390x/)],
    ['/images/multi:1/json?manifests=1', 200, (b) => {
      assert.equal(b.Descriptor.digest, index);
      assert.equal(b.Descriptor.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.deepEqual(b.Manifests.map((m: any) => [m.Descriptor.platform.architecture, m.ImageID, m.Available, m.Kind]), [
        [host, hostId, true, 'image'],
        [other, otherId, true, 'image'],
      ]);
      assert.match(b.Manifests[0].ID, /^sha256:[0-9a-f]{64}$/);
      assert.ok(b.Manifests[0].Descriptor.size > 0);
      assert.ok(b.Manifests[0].ImageData.Size.Unpacked > 0);
    }],
    [`/images/multi:1/json?manifests=1&platform=${platform(other)}`, 400, (b) => assert.match(b.message, /manifests and platform/)],
    [`/images/${hostId}/json?manifests=1`, 200, (b) => {
      assert.equal(b.Descriptor, undefined);
      assert.equal(b.Manifests.length, 1);
    }],
  ];
  for (const [path, status, check] of cases) {
    const r = await server.call('GET', path);
    assert.equal(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
    check(r.body);
  }
});
