// Table-driven API tests of /volumes against an in-process server on a temp socket,
// backed by a real VolumeService in a temp directory (no root needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../util/index.js';
import { VolumeService } from '../../volume/index.js';
import { startRouteTestServer } from '../route-test-server.js';
import { volumeRoutes } from './volumes.js';

const q = (filters: Record<string, string[]>) => encodeURIComponent(JSON.stringify(filters));

test('the volume endpoints answer in Docker\'s wire shape and status codes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-volroutes-'));
  const svc = new VolumeService({ root: join(dir, 'volumes'), events: new EventBus() });
  const server = await startRouteTestServer(volumeRoutes(svc), dir);
  const call = server.call;
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const created = await call('POST', '/v1.51/volumes/create', { Name: 'web1', Labels: { app: 'web' }, DriverOpts: {} });
  assert.equal(created.status, 201);
  assert.deepEqual(Object.keys(created.body).sort(), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.equal(created.body.Mountpoint, join(dir, 'volumes', 'web1', '_data'));
  assert.deepEqual(created.body.Labels, { app: 'web' });

  const anon = await call('POST', '/volumes/create', {});
  assert.equal(anon.status, 201);
  assert.match(anon.body.Name, /^[0-9a-f]{64}$/);
  assert.deepEqual(anon.body.Labels, { 'com.docker.volume.anonymous': '' });

  const cases: [string, string, unknown, number, (b: any) => void][] = [
    ['POST', '/volumes/create', undefined, 201, (b) => assert.match(b.Name, /^[0-9a-f]{64}$/)],
    ['POST', '/volumes/create', { Name: 'web1' }, 201, (b) => assert.deepEqual(b.Labels, { app: 'web' })],
    ['POST', '/volumes/create', { Name: 'bad/name' }, 400, (b) => assert.match(b.message, /includes invalid characters for a local volume name/)],
    ['POST', '/volumes/create', { Name: 'x1', Driver: 'nfs' }, 404, (b) => assert.match(b.message, /plugin "nfs" not found/)],
    ['POST', '/volumes/create', { Name: 'x1', DriverOpts: { bogus: '1' } }, 400, (b) => assert.equal(b.message, 'invalid option: "bogus"')],
    ['POST', '/volumes/create', { Name: 5 }, 400, (b) => assert.match(b.message, /Name/)],
    ['GET', '/volumes/web1', undefined, 200, (b) => assert.equal(b.Name, 'web1')],
    ['GET', '/volumes/missing', undefined, 404, (b) => assert.equal(b.message, 'get missing: no such volume')],
    ['GET', `/volumes?filters=${q({ label: ['app=web'] })}`, undefined, 200, (b) => {
      assert.deepEqual(b.Volumes.map((v: { Name: string }) => v.Name), ['web1']);
      assert.deepEqual(b.Warnings, []);
    }],
    ['GET', `/volumes?filters=${q({ name: ['^web'] })}`, undefined, 200, (b) => assert.equal(b.Volumes.length, 1)],
    ['GET', `/volumes?filters=${encodeURIComponent('{"dangling":{"true":true}}')}`, undefined, 200, (b) => assert.equal(b.Volumes.length, 3)],
    ['GET', `/volumes?filters=${q({ dangling: ['maybe'] })}`, undefined, 400, (b) => assert.equal(b.message, "Invalid filter 'dangling=[maybe]'")],
    ['GET', `/volumes?filters=${q({ colour: ['red'] })}`, undefined, 400, (b) => assert.equal(b.message, "invalid filter 'colour'")],
    ['DELETE', '/volumes/missing', undefined, 404, () => undefined],
    ['DELETE', '/volumes/missing?force=1', undefined, 204, () => undefined],
  ];
  for (const [method, path, body, status, check] of cases) {
    const r = await call(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    check(r.body);
  }

  await svc.acquire('web1', 'c0ffee');
  const inUse = await call('DELETE', '/volumes/web1?force=true');
  assert.equal(inUse.status, 409);
  assert.equal(inUse.body.message, 'remove web1: volume is in use - [c0ffee]');

  // API ≥ 1.42 prunes anonymous volumes only; `all` takes named ones too.
  const pruned = await call('POST', '/v1.51/volumes/prune');
  assert.equal(pruned.status, 200);
  assert.equal(pruned.body.VolumesDeleted.length, 2);
  assert.equal(pruned.body.SpaceReclaimed, 0);
  await svc.release('web1', 'c0ffee');
  await call('POST', '/volumes/create', { Name: 'keepme', Labels: { keep: '1' } });
  const prunedAll = await call('POST', `/v1.51/volumes/prune?filters=${q({ all: ['true'], 'label!': ['keep'] })}`);
  assert.deepEqual(prunedAll.body.VolumesDeleted, ['web1']);
  // Old clients (API < 1.42) prune named volumes without asking.
  const prunedOld = await call('POST', '/v1.41/volumes/prune');
  assert.deepEqual(prunedOld.body.VolumesDeleted, ['keepme']);
  const removed = await call('DELETE', '/volumes/x1');
  assert.equal(removed.status, 404);
});
