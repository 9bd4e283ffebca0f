// Table-driven API tests of /networks against an in-process server on a temp socket, backed
// by a real NetworkService with the fake driver (no root needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeNetworkDriver, NetworkService } from '../../network/index.js';
import { EventBus, notFound } from '../../util/index.js';
import { startRouteTestServer } from '../route-test-server.js';
import { networkRoutes } from './networks.js';

const q = (filters: Record<string, string[]>) => encodeURIComponent(JSON.stringify(filters));

test("the network endpoints answer in Docker's wire shape and status codes", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-netroutes-'));
  const svc = new NetworkService({
    dataRoot: dir,
    events: new EventBus(),
    driver: new FakeNetworkDriver(),
    addressPools: [{ base: '10.78.0.0/16', size: 24 }],
    hostRoutes: async () => [],
    dnsPort: false,
  });
  await svc.restore();
  const web = { id: 'ab'.repeat(32), name: 'web' };
  const resolveContainer = async (ref: string) => {
    if (ref === 'web' || web.id.startsWith(ref)) return web;
    throw notFound(`No such container: ${ref}`);
  };
  const server = await startRouteTestServer(networkRoutes(svc, resolveContainer), dir);
  const call = server.call;
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const created = await call('POST', '/v1.51/networks/create', {
    Name: 'app',
    CheckDuplicate: true,
    IPAM: { Driver: 'default', Config: [{ Subnet: '10.90.0.0/24', Gateway: '10.90.0.254' }] },
    Labels: { tier: 'front' },
    Options: { 'com.docker.network.driver.mtu': '1500' },
  });
  assert.equal(created.status, 201);
  assert.match(created.body.Id, /^[0-9a-f]{64}$/);
  assert.equal(created.body.Warning, '');
  const ns = join(dir, 'netns-web');
  await writeFile(ns, '');
  await svc.attach(web, ns, [{ network: 'bridge' }]);

  const cases: [string, string, unknown, number, (b: any) => void][] = [
    ['POST', '/networks/create', { Name: 'app' }, 409, (b) => assert.equal(b.message, 'network with name app already exists')],
    ['POST', '/networks/create', { Name: 'x', Driver: 'weave' }, 404, (b) => assert.equal(b.message, 'plugin "weave" not found')],
    ['POST', '/networks/create', { Name: 'x', Driver: 'host' }, 403, () => undefined],
    ['POST', '/networks/create', {}, 400, (b) => assert.match(b.message, /Name/)],
    ['POST', '/networks/create', { Name: 'x', IPAM: { Config: [{ Subnet: '10.90.0.0/25' }] } }, 403, (b) => assert.match(b.message, /overlaps/)],
    ['POST', '/networks/create', { Name: 'x', IPAM: { Config: [{ Subnet: '10.91.0.1/24' }] } }, 400, () => undefined],
    ['GET', '/networks/app', undefined, 200, (b) => {
      assert.deepEqual(b.IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '10.90.0.0/24', Gateway: '10.90.0.254' }] });
      assert.equal(b.Scope, 'local');
      assert.deepEqual(b.Labels, { tier: 'front' });
      assert.deepEqual(b.Containers, {});
    }],
    ['GET', '/networks/bridge', undefined, 200, (b) => {
      assert.equal(b.Containers[web.id].Name, 'web');
      assert.match(b.Containers[web.id].IPv4Address, /^10\.78\.0\.2\/24$/);
      assert.equal(b.Options['com.docker.network.bridge.default_bridge'], 'true');
    }],
    ['GET', '/networks/nope', undefined, 404, (b) => assert.equal(b.message, 'network nope not found')],
    ['GET', '/networks', undefined, 200, (b) => assert.deepEqual(b.map((n: { Name: string }) => n.Name), ['app', 'bridge', 'host', 'none'])],
    ['GET', `/networks?filters=${q({ label: ['tier=front'] })}`, undefined, 200, (b) => assert.deepEqual(b.map((n: { Name: string }) => n.Name), ['app'])],
    ['GET', `/networks?filters=${encodeURIComponent('{"type":{"builtin":true}}')}`, undefined, 200, (b) => assert.equal(b.length, 3)],
    ['GET', `/networks?filters=${q({ driver: ['null'] })}`, undefined, 200, (b) => assert.deepEqual(b.map((n: { Name: string }) => n.Name), ['none'])],
    ['GET', `/networks?filters=${q({ colour: ['red'] })}`, undefined, 400, (b) => assert.equal(b.message, "invalid filter 'colour'")],
    ['POST', '/networks/app/connect', { Container: 'web', EndpointConfig: { Aliases: ['w'], IPAMConfig: { IPv4Address: '10.90.0.7' } } }, 200, () => undefined],
    ['POST', '/networks/app/connect', { Container: 'web' }, 403, () => undefined],
    ['POST', '/networks/app/connect', { Container: 'ghost' }, 404, (b) => assert.equal(b.message, 'No such container: ghost')],
    ['GET', '/networks/app', undefined, 200, (b) => assert.equal(b.Containers[web.id].IPv4Address, '10.90.0.7/24')],
    ['DELETE', '/networks/app', undefined, 403, (b) => assert.match(b.message, /^error while removing network: network app has active endpoints/)],
    ['POST', '/networks/app/disconnect', { Container: 'web', Force: false }, 200, () => undefined],
    ['POST', '/networks/app/disconnect', { Container: 'web' }, 403, () => undefined],
    ['POST', '/networks/app/disconnect', { Container: 'web', Force: true }, 200, () => undefined],
    ['DELETE', '/networks/bridge', undefined, 403, (b) => assert.equal(b.message, 'bridge is a pre-defined network and cannot be removed')],
    ['POST', '/networks/create', { Name: 'spare', Labels: { keep: 'no' } }, 201, () => undefined],
    ['POST', `/networks/prune?filters=${q({ label: ['keep=no'] })}`, undefined, 200, (b) => assert.deepEqual(b, { NetworksDeleted: ['spare'] })],
    ['DELETE', '/networks/app', undefined, 204, () => undefined],
    ['DELETE', '/networks/app', undefined, 404, () => undefined],
  ];
  for (const [method, path, body, status, check] of cases) {
    const r = await call(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    check(r.body);
  }
});
