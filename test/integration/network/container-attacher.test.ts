// ContainerNetworkAttacher is what runtime calls: it must fit runtime's NetworkAttacher
// (checked by the compiler here) and turn a container spec into plumbing and settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerNetworkAttacher, FakeNetworkDriver, NetworkService } from '../../../src/network/index.js';
import { defaultContainerSpec, type NetworkAttacher } from '../../../src/runtime/index.js';
import { EventBus } from '../../../src/util/index.js';

test('the attacher plans hosts and resolv.conf, publishes ports and reports Docker-like settings', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-attacher-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const driver = new FakeNetworkDriver();
  const svc = new NetworkService({
    dataRoot: dir,
    events: new EventBus(),
    driver,
    addressPools: [{ base: '10.79.0.0/16', size: 24 }],
    hostRoutes: async () => [],
    dnsPort: false,
    ports: { isFree: async () => true },
  });
  await svc.restore();
  await svc.create({ name: 'app' });
  const attacher: NetworkAttacher = new ContainerNetworkAttacher(svc, async () => ({ search: ['corp.test'], options: [] }));

  const spec = defaultContainerSpec('busybox');
  spec.host.networkMode = 'app';
  spec.endpoints = { app: { aliases: ['api'] } };
  spec.host.portBindings = { '80/tcp': [{ hostIp: '', hostPort: '18080' }] };
  spec.exposedPorts = ['80/tcp'];
  const c = { id: 'f0'.repeat(32), name: 'svc1', spec };
  const plan = await attacher.plan(c);
  assert.deepEqual(plan.namespace, { mode: 'new' });
  assert.deepEqual(plan.hostsEntries, [`10.79.1.2\t${c.id.slice(0, 12)}`]);
  assert.equal(plan.resolvConf, 'nameserver 10.79.1.1\nsearch corp.test\noptions ndots:0\n');
  const settings = (await attacher.attach({ ...c, netnsPath: `/proc/${process.pid}/ns/net` })) as {
    networks: Record<string, { ipAddress: string; aliases: string[] }>;
    ports: Record<string, Array<{ hostIp: string; hostPort: string }>>;
  };
  assert.equal(settings.networks['app']?.ipAddress, '10.79.1.2');
  assert.deepEqual(settings.networks['app']?.aliases, ['api']);
  assert.deepEqual(settings.ports, { '80/tcp': [{ hostIp: '0.0.0.0', hostPort: '18080' }] });
  assert.equal(driver.firewall.publications.length, 1);
  await attacher.detach(c);
  assert.equal(driver.veths.size, 0);
  assert.deepEqual(driver.firewall.publications, []);

  const plain = { id: 'e1'.repeat(32), name: 'plain', spec: defaultContainerSpec('busybox') };
  const p2 = await attacher.plan(plain);
  assert.equal(p2.resolvConf, undefined, 'the default bridge keeps the host resolvers');
  const s2 = (await attacher.attach({ ...plain, netnsPath: `/proc/${process.pid}/ns/net` })) as { networks: Record<string, unknown> };
  assert.deepEqual(Object.keys(s2.networks), ['bridge']);
  await attacher.detach(plain);

  const shared = { id: 'd3'.repeat(32), name: 'sidecar', spec: defaultContainerSpec('busybox') };
  shared.spec.host.networkMode = `container:${c.id}`;
  assert.deepEqual(await attacher.attach({ ...shared, netnsPath: `/proc/${process.pid}/ns/net` }), { networks: {}, ports: {} });
  await attacher.detach(shared);
});
