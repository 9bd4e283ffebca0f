import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveApiPath, Router, type Route } from './router.js';

const noop = async () => undefined;
const routes: Route[] = [
  { method: 'GET', path: '/containers/json', handler: noop },
  { method: 'GET', path: '/containers/{id}/json', handler: noop },
  { method: 'GET', path: '/images/json', handler: noop },
  { method: 'GET', path: '/images/{name*}/json', handler: noop },
  { method: 'POST', path: '/images/{name*}/tag', handler: noop },
  { method: 'DELETE', path: '/images/{name*}', handler: noop },
  { method: 'GET', path: '/images/{name*}/get', handler: noop },
  { method: 'GET', path: '/images/get', handler: noop },
  { method: 'GET', path: '/_ping', handler: noop },
];
const router = new Router(routes);

const cases: [method: string, path: string, route: string | undefined, params?: Record<string, string>][] = [
  ['GET', '/containers/json', '/containers/json', {}],
  ['GET', '/containers/abc123/json', '/containers/{id}/json', { id: 'abc123' }],
  ['GET', '/images/json', '/images/json', {}],
  ['GET', '/images/busybox/json', '/images/{name*}/json', { name: 'busybox' }],
  ['GET', '/images/docker.io/library/busybox:latest/json', '/images/{name*}/json', { name: 'docker.io/library/busybox:latest' }],
  ['GET', '/images/localhost:5000/a/b@sha256:abcd/json', '/images/{name*}/json', { name: 'localhost:5000/a/b@sha256:abcd' }],
  ['GET', '/images/a%2Fb/json', '/images/{name*}/json', { name: 'a/b' }],
  ['POST', '/images/x/y:1/tag', '/images/{name*}/tag', { name: 'x/y:1' }],
  ['DELETE', '/images/x/y:1', '/images/{name*}', { name: 'x/y:1' }],
  ['DELETE', '/images/json', '/images/{name*}', { name: 'json' }],
  ['GET', '/images/get', '/images/get', {}],
  ['GET', '/images/busybox/get', '/images/{name*}/get', { name: 'busybox' }],
  ['GET', '/containers/json/', '/containers/json', {}],
  ['HEAD', '/_ping', '/_ping', {}],
  ['HEAD', '/containers/json', '/containers/json', {}],
  ['POST', '/_ping', undefined],
  ['GET', '/images//json', '/images/json', {}],
  ['GET', '/containers/a/b/json', undefined],
  ['GET', '/images/%E0%A4%A/json', undefined],
];

for (const [method, path, want, params] of cases) {
  test(`${method} ${path} routes to ${want ?? 'nothing'}`, () => {
    const m = router.match(method, path);
    assert.equal(m?.route.path, want);
    if (params) assert.deepEqual(m?.params, params);
  });
}

test('a route registered twice is refused', () => {
  assert.throws(() => new Router([routes[0]!, routes[0]!]), /registered twice/);
});

const versions: [path: string, expected: { path: string; apiVersion: string } | RegExp][] = [
  ['/_ping', { path: '/_ping', apiVersion: '1.51' }],
  ['/v1.24/_ping', { path: '/_ping', apiVersion: '1.24' }],
  ['/v1.41/images/json', { path: '/images/json', apiVersion: '1.41' }],
  ['/v1.51/info', { path: '/info', apiVersion: '1.51' }],
  ['/v1.52/info', /client version 1\.52 is too new\. Maximum supported API version is 1\.51/],
  ['/v1.99/info', /client version 1\.99 is too new/],
  ['/v2/info', /client version 2 is too new/],
  ['/v1.23/info', /client version 1\.23 is too old\. Minimum supported API version is 1\.24/],
  ['/version', { path: '/version', apiVersion: '1.51' }],
  ['/volumes', { path: '/volumes', apiVersion: '1.51' }],
];

for (const [path, expected] of versions) {
  test(`the version prefix of ${path} resolves like dockerd`, () => {
    const r = resolveApiPath(path);
    if (expected instanceof RegExp) {
      assert.equal(r.kind, 'bad-version');
      assert.match(r.kind === 'bad-version' ? r.error.message : '', expected);
    } else {
      assert.deepEqual(r, { kind: 'ok', ...expected });
    }
  });
}

test('a request for a route still loading waits for it instead of answering a miss', async () => {
  const r = new Router([{ method: 'GET', path: '/_ping', handler: async () => undefined }]);
  let load!: (routes: Route[]) => void;
  r.addLater(new Promise<Route[]>((res) => (load = res)));
  const pending = r.resolve('GET', '/containers/abc/json');
  load([{ method: 'GET', path: '/containers/{id}/json', handler: async () => undefined }]);
  assert.deepEqual((await pending)?.params, { id: 'abc' });
  assert.equal(await r.resolve('GET', '/nothing/here'), undefined);
});

test('routes whose load failed or never ends answer unavailable, not a miss', async () => {
  const failed = new Router();
  failed.addLater(Promise.reject(new Error('storage is broken')));
  await assert.rejects(failed.resolve('GET', '/containers/json'), { kind: 'unavailable', message: /engine failed to load: storage is broken/ });
  const stuck = new Router([], 5);
  stuck.addLater(new Promise<Route[]>(() => undefined));
  await assert.rejects(stuck.resolve('GET', '/containers/json'), { kind: 'unavailable', message: /did not load within 5 ms/ });
});
