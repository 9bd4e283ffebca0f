// Table-driven API tests of /images/* and /system/df against an in-process server on a temp
// socket, backed by a real ImageService over a temp data-root. Needs no root; it lives here
// because it builds its archives with image/'s fixtures, which src/api may not import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageService } from '../../../src/image/index.js';
import { buildImage, legacyDockerArchive, tarOf } from '../../../src/image/archive-fixtures.js';
import { openStorage } from '../../../src/storage/index.js';
import { EventBus, logger } from '../../../src/util/index.js';
import { Router } from '../../../src/api/router.js';
import { ApiServer } from '../../../src/api/server.js';
import { imageRoutes, progressBar } from '../../../src/api/routes/images.js';
import { systemDfRoutes } from '../../../src/api/routes/system-df.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  text: string;
  body: any;
}

function call(socketPath: string, method: string, path: string, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: body ? { 'Content-Length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        let parsed: unknown;
        try {
          parsed = text.trim() ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined; // streams and tars are checked through `text`/`raw`
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, text, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const q = (v: unknown) => encodeURIComponent(JSON.stringify(v));

test("the image endpoints answer in Docker's wire shape and status codes", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-imageroutes-'));
  const storage = await openStorage(dir);
  const images = await ImageService.open({ storage, root: dir, events: new EventBus() });
  const server = new ApiServer({ router: new Router([...imageRoutes(images), ...systemDfRoutes(images)]), log: logger('test'), serverVersion: 'test' });
  const socket = join(dir, 'api.sock');
  await server.listen(`unix://${socket}`);
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const layer = await tarOf([{ name: 'etc/', type: 'dir' }, { name: 'etc/motd', data: 'hi\n' }]);
  const img = { layers: [layer], tags: ['busybox:latest'], labels: { a: 'b' } };
  const id = buildImage(img).configDigest;
  const archive = await legacyDockerArchive([img]);

  type Row = [method: string, path: string, body: Buffer | undefined, status: number, check?: (r: Reply) => void];
  const rows: Row[] = [
    ['POST', '/v1.51/images/load?quiet=1', archive, 200, (r) => {
      assert.equal(r.headers['content-type'], 'application/json');
      assert.deepEqual(r.text.trim().split('\n').map((l) => JSON.parse(l)), [{ stream: 'Loaded image: busybox:latest\n' }]);
    }],
    ['POST', '/v1.51/images/load', archive, 200, (r) => {
      const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(lines.some((l) => l.status === 'Loading layer' && l.progressDetail.total > 0));
      assert.deepEqual(lines.at(-1), { stream: 'Loaded image: busybox:latest\n' });
    }],
    ['POST', '/v1.51/images/load?quiet=1', Buffer.from('definitely not a tar archive, just some bytes'.repeat(20)), 400, (r) => {
      assert.match(r.body.message, /^invalid image archive/);
    }],
    ['GET', '/v1.51/images/json', undefined, 200, (r) => {
      assert.equal(r.body.length, 1);
      const s = r.body[0];
      assert.deepEqual(Object.keys(s).sort(), ['Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size']);
      assert.equal(s.Id, id);
      assert.deepEqual(s.RepoTags, ['busybox:latest']);
      assert.deepEqual(s.Labels, { a: 'b' });
      assert.equal(s.SharedSize, -1);
      assert.equal(s.Containers, -1);
    }],
    ['GET', '/v1.41/images/json', undefined, 200, (r) => assert.equal(r.body[0].VirtualSize, r.body[0].Size)],
    ['GET', `/images/json?filters=${q({ reference: { 'busy*': true } })}`, undefined, 200, (r) => assert.equal(r.body.length, 1)],
    ['GET', `/images/json?filters=${q({ dangling: ['true'] })}`, undefined, 200, (r) => assert.deepEqual(r.body, [])],
    ['GET', `/images/json?filters=${q({ dangling: ['maybe'] })}`, undefined, 400, (r) => assert.match(r.body.message, /invalid filter 'dangling=maybe'/)],
    ['GET', `/images/json?filters=${q({ color: ['red'] })}`, undefined, 400, (r) => assert.equal(r.body.message, "invalid filter 'color'")],
    ['GET', '/images/json?shared-size=1', undefined, 200, (r) => assert.equal(r.body[0].SharedSize, 0)],
    ['GET', '/v1.51/images/busybox/json', undefined, 200, (r) => {
      assert.equal(r.body.Id, id);
      assert.deepEqual(r.body.RootFS, { Type: 'layers', Layers: buildImage(img).diffIds });
      assert.deepEqual(r.body.Config.Cmd, ['sh']);
      assert.equal(r.body.Config.Entrypoint, null);
      assert.equal(r.body.GraphDriver.Name, 'overlay2');
      assert.ok(r.body.Metadata.LastTagTime);
      assert.equal(r.body.ContainerConfig, undefined);
    }],
    ['GET', '/v1.43/images/busybox/json', undefined, 200, (r) => assert.equal(r.body.Container, '')],
    ['GET', `/images/${id.slice(7, 19)}/json`, undefined, 200, (r) => assert.equal(r.body.Id, id)],
    ['GET', '/images/nope/json', undefined, 404, (r) => assert.equal(r.body.message, 'No such image: nope:latest')],
    ['GET', '/images/busybox/history', undefined, 200, (r) => {
      assert.equal(r.body.length, 2);
      assert.deepEqual(Object.keys(r.body[0]).sort(), ['Comment', 'Created', 'CreatedBy', 'Id', 'Size', 'Tags']);
      assert.deepEqual(r.body[0].Tags, ['busybox:latest']);
      assert.equal(r.body[1].Id, '<missing>');
      assert.equal(r.body[1].Tags, null);
    }],
    ['POST', '/images/busybox/tag?repo=localhost:5000/me/box&tag=v1', undefined, 201],
    ['POST', '/images/busybox/tag?repo=BAD::NAME', undefined, 400, (r) => assert.match(r.body.message, /invalid reference format/)],
    ['POST', '/images/busybox/tag', undefined, 400, (r) => assert.match(r.body.message, /repo is required/)],
    ['POST', '/images/ghost/tag?repo=x', undefined, 404],
    ['GET', '/images/localhost:5000/me/box:v1/json', undefined, 200, (r) => assert.equal(r.body.Id, id)],
    ['DELETE', `/images/${id}`, undefined, 409, (r) =>
      assert.equal(r.body.message, `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`)],
    ['DELETE', '/images/localhost:5000/me/box:v1', undefined, 200, (r) => assert.deepEqual(r.body, [{ Untagged: 'localhost:5000/me/box:v1' }])],
    ['GET', '/images/get?names=busybox', undefined, 200, (r) => {
      assert.equal(r.headers['content-type'], 'application/x-tar');
      assert.ok(r.raw.length > 1024);
      assert.ok(r.raw.includes(Buffer.from('manifest.json')));
    }],
    ['GET', '/images/busybox/get', undefined, 200, (r) => assert.ok(r.raw.includes(Buffer.from('oci-layout')))],
    ['GET', '/images/get?names=busybox&names=ghost', undefined, 404, (r) => assert.equal(r.body.message, 'No such image: ghost:latest')],
    ['POST', `/images/create?fromSrc=-&repo=imported&tag=v2&changes=${encodeURIComponent('CMD ["sh"]')}&message=hello`, gzipSync(layer), 200, (r) => {
      const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
      assert.match(lines.at(-1).status, /^sha256:[a-f0-9]{64}$/);
    }],
    ['GET', '/images/imported:v2/json', undefined, 200, (r) => {
      assert.deepEqual(r.body.Config.Cmd, ['sh']);
      assert.equal(r.body.Comment, 'hello');
    }],
    ['POST', `/images/create?fromSrc=-&changes=${encodeURIComponent('RUN x')}`, layer, 400, (r) => assert.equal(r.body.message, 'RUN is not a valid change command')],
    ['POST', '/images/create?fromSrc=http://example.com/x.tar', undefined, 400],
    ['POST', '/images/create?fromImage=busybox&tag=latest', undefined, 501, (r) => assert.match(r.body.message, /no registry client/)],
    ['GET', '/system/df', undefined, 200, (r) => {
      assert.ok(r.body.LayersSize > 0);
      assert.equal(r.body.Images.length, 2);
      assert.ok(r.body.Images.every((i: any) => i.Containers === 0 && i.SharedSize >= 0));
      assert.deepEqual([r.body.Containers, r.body.Volumes, r.body.BuildCache], [[], [], []]);
    }],
    ['GET', '/system/df?type=nonsense', undefined, 400],
    ['POST', `/images/prune?filters=${q({ dangling: { false: true } })}`, undefined, 200, (r) => {
      assert.ok(r.body.ImagesDeleted.some((d: any) => d.Untagged === 'busybox:latest'));
      assert.ok(r.body.SpaceReclaimed > 0);
    }],
    ['POST', '/images/prune', undefined, 200, (r) => assert.deepEqual(r.body, { ImagesDeleted: null, SpaceReclaimed: 0 })],
    ['POST', `/images/prune?filters=${q({ reference: ['x'] })}`, undefined, 400],
  ];
  for (const [method, path, body, status, check] of rows) {
    const r = await call(socket, method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${r.text.slice(0, 300)}`);
    check?.(r);
  }
});

test('the progress bar text matches docker\'s shape', () => {
  assert.equal(progressBar(0, 0), '');
  assert.equal(progressBar(500, 1000), `[${'='.repeat(25)}>${' '.repeat(25)}]     500B/1kB`);
  assert.equal(progressBar(2_500_000, 2_500_000), `[${'='.repeat(50)}>] ${'2.5MB'.padStart(8)}/2.5MB`);
});
