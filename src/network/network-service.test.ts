import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type EngineEvent } from '../util/index.js';
import { FakeNetworkDriver } from './fake-network-driver.js';
import type { HostRoute } from './ipam.js';
import { parseCidr } from './ipv4.js';
import { NetworkService } from './network-service.js';

interface Harness {
  root: string;
  driver: FakeNetworkDriver;
  events: EngineEvent[];
  svc: NetworkService;
  netns(name: string): Promise<string>;
  reopen(): Promise<NetworkService>;
  /** The host routes the service reads at its next start. */
  routes: HostRoute[];
}

async function harness(t: TestContext): Promise<Harness> {
  const root = await mkdtemp(join(tmpdir(), 'berth-netsvc-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const driver = new FakeNetworkDriver();
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const routes: HostRoute[] = [];
  const make = () =>
    new NetworkService({
      dataRoot: root,
      events: bus,
      driver,
      addressPools: [{ base: '10.77.0.0/16', size: 24 }],
      hostRoutes: async () => routes,
      dnsPort: false,
      ports: { isFree: async () => true, ephemeralRange: async () => [41000, 41999] },
    });
  const svc = make();
  await svc.restore();
  return {
    root,
    driver,
    events,
    svc,
    // A plain file stands in for a namespace file: the service only checks its identity.
    netns: async (name) => {
      const p = join(root, `ns-${name}`);
      await writeFile(p, '');
      return p;
    },
    reopen: async () => {
      const s = make();
      await s.restore();
      return s;
    },
    routes,
  };
}

const web = { id: 'c1'.repeat(32), name: 'web' };
const db = { id: 'd2'.repeat(32), name: 'db' };

test('the predefined networks exist after the first start, with the bridge subnet from the pool', async (t) => {
  const h = await harness(t);
  const nets = await h.svc.list();
  assert.deepEqual(nets.map((n) => [n.Name, n.Driver]), [
    ['bridge', 'bridge'],
    ['host', 'host'],
    ['none', 'null'],
  ]);
  assert.deepEqual(nets[0]?.IPAM.Config, [{ Subnet: '10.77.0.0/24', Gateway: '10.77.0.1' }]);
  assert.deepEqual(h.driver.bridges.has('fake0'), true);
  await assert.rejects(h.svc.remove('bridge'), { kind: 'forbidden', message: 'bridge is a pre-defined network and cannot be removed' });
  // A restart keeps the same ids.
  const again = await h.reopen();
  assert.equal((await again.inspect('bridge')).Id, nets[0]?.Id);
});

test('a restart moves a berth-picked subnet nothing uses off a route another device took meanwhile, and keeps one in use or given', async (t) => {
  const h = await harness(t);
  await h.svc.create({ name: 'given', ipam: { config: [{ subnet: '10.60.0.0/24' }] } });
  // A leaked bridge of another daemon took the default subnet while this one was down, and another the given one.
  h.routes.push({ cidr: parseCidr('10.77.0.0/24'), dev: 'other0' }, { cidr: parseCidr('10.60.0.0/24'), dev: 'other1' });
  const again = await h.reopen();
  assert.deepEqual((await again.inspect('bridge')).IPAM.Config, [{ Subnet: '10.77.1.0/24', Gateway: '10.77.1.1' }]);
  assert.deepEqual((await again.inspect('given')).IPAM.Config?.map((c) => c.Subnet), ['10.60.0.0/24']);
  // Its own bridge's route is no clash, nor a broader one (a VPN's 10/8 loses to the bridge's /24).
  h.routes.splice(0, h.routes.length, { cidr: parseCidr('10.77.1.0/24'), dev: 'fake0' }, { cidr: parseCidr('10.0.0.0/8'), dev: 'tun0' });
  assert.deepEqual((await (await h.reopen()).inspect('bridge')).IPAM.Config, [{ Subnet: '10.77.1.0/24', Gateway: '10.77.1.1' }]);
});

test('a restart keeps a subnet another device routes when a container is connected to it', async (t) => {
  const h = await harness(t);
  await h.svc.attach(web, await h.netns('web'), [{ network: 'bridge' }]);
  h.routes.push({ cidr: parseCidr('10.77.0.0/24'), dev: 'other0' });
  assert.deepEqual((await (await h.reopen()).inspect('bridge')).IPAM.Config, [{ Subnet: '10.77.0.0/24', Gateway: '10.77.0.1' }]);
});

test('user networks are created once per name, found by id, name or prefix, and removed', async (t) => {
  const h = await harness(t);
  const { id } = await h.svc.create({ name: 'app', labels: { tier: 'x' } });
  await assert.rejects(h.svc.create({ name: 'app' }), { kind: 'conflict', message: 'network with name app already exists' });
  const net = await h.svc.inspect(id.slice(0, 6));
  assert.equal(net.Name, 'app');
  assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.77.1.0/24', Gateway: '10.77.1.1' }]);
  assert.equal((await h.svc.inspect('app')).Id, id);
  await h.svc.remove('app');
  await assert.rejects(h.svc.inspect('app'), { kind: 'not-found', message: 'network app not found' });
  assert.deepEqual(
    h.events.map((e) => [e.action, e.actor.attributes['name']]),
    [
      ['create', 'app'],
      ['destroy', 'app'],
    ],
  );
});

test('a user subnet that overlaps another network is refused', async (t) => {
  const h = await harness(t);
  await h.svc.create({ name: 'a', ipam: { config: [{ subnet: '10.50.0.0/16', gateway: '10.50.0.254', ipRange: '10.50.1.0/24' }] } });
  const a = await h.svc.inspect('a');
  assert.deepEqual(a.IPAM.Config, [{ Subnet: '10.50.0.0/16', Gateway: '10.50.0.254', IPRange: '10.50.1.0/24' }]);
  await assert.rejects(h.svc.create({ name: 'b', ipam: { config: [{ subnet: '10.50.3.0/24' }] } }), { kind: 'forbidden' });
  await assert.rejects(h.svc.create({ name: 'bad name!' }), { kind: 'invalid-argument' });
  await assert.rejects(h.svc.create({ name: 'c', driver: 'overlay' }), { kind: 'not-found' });
});

test('attach gives addresses in Docker inspect shape, detach keeps them for the next start', async (t) => {
  const h = await harness(t);
  await h.svc.create({ name: 'app', ipam: { config: [{ subnet: '10.60.0.0/24' }] } });
  const ns = await h.netns('web');
  const appId = (await h.svc.inspect('app')).Id;
  // Named twice (name and id), the network still gets one endpoint.
  const res = await h.svc.attach(web, ns, [{ network: 'app', endpoint: { aliases: ['www'] } }, { network: appId }]);
  const ep = res.networks['app']!;
  assert.equal(h.driver.veths.size, 1);
  assert.equal(ep.IPAddress, '10.60.0.2');
  assert.equal(ep.IPPrefixLen, 24);
  assert.equal(ep.Gateway, '10.60.0.1');
  assert.equal(ep.MacAddress, '02:42:0a:3c:00:02');
  assert.deepEqual(ep.Aliases, ['www']);
  assert.deepEqual(ep.DNSNames, ['web', 'www', web.id.slice(0, 12)]);
  assert.match(ep.EndpointID, /^[0-9a-f]{64}$/);
  assert.deepEqual(res.dns.nameservers, ['10.60.0.1']);
  assert.equal(h.driver.veths.size, 1);
  const inspect = await h.svc.inspect('app');
  assert.equal(inspect.Containers[web.id]?.IPv4Address, '10.60.0.2/24');

  await h.svc.detach(web.id);
  assert.equal(h.driver.veths.size, 0);
  assert.equal(h.svc.containerNetworks(web.id)['app']?.IPAddress, '');
  // Another container starting meanwhile does not take the stopped container's address.
  const other = await h.svc.attach(db, await h.netns('db'), [{ network: 'app' }]);
  assert.equal(other.networks['app']?.IPAddress, '10.60.0.3');
  const again = await h.svc.attach(web, ns, [{ network: 'app' }]);
  assert.equal(again.networks['app']?.IPAddress, '10.60.0.2');
  assert.deepEqual(
    h.events.filter((e) => e.actor.attributes['container'] === web.id).map((e) => e.action),
    ['connect', 'disconnect', 'connect'],
  );
});

test('the default bridge refuses aliases and fixed addresses, user subnets accept --ip', async (t) => {
  const h = await harness(t);
  const ns = await h.netns('web');
  await assert.rejects(h.svc.attach(web, ns, [{ network: 'bridge', endpoint: { aliases: ['x'] } }]), {
    message: 'network-scoped alias is supported only for containers in user defined networks',
  });
  await h.svc.create({ name: 'auto' });
  await assert.rejects(h.svc.attach(web, ns, [{ network: 'auto', endpoint: { ipv4Address: '10.77.1.9' } }]), {
    kind: 'invalid-argument',
  });
  await h.svc.create({ name: 'fixed', ipam: { config: [{ subnet: '10.61.0.0/24' }] } });
  const res = await h.svc.attach(web, ns, [{ network: 'fixed', endpoint: { ipv4Address: '10.61.0.40' } }]);
  assert.equal(res.networks['fixed']?.IPAddress, '10.61.0.40');
  assert.deepEqual(res.networks['fixed']?.IPAMConfig, { IPv4Address: '10.61.0.40' });
  assert.equal(h.driver.veths.size, 1, 'the failed attaches left nothing behind');
});

test('published ports go to the firewall and a taken host port fails the whole attach', async (t) => {
  const h = await harness(t);
  const res = await h.svc.attach(web, await h.netns('web'), [{ network: 'bridge' }], [
    { hostIp: '0.0.0.0', hostPorts: [8080, 8080], containerPort: 80, protocol: 'tcp' },
    { hostIp: '127.0.0.1', containerPort: 53, protocol: 'udp' },
  ]);
  assert.equal(res.ports.length, 2);
  assert.ok(res.ports[1]!.hostPort >= 41000 && res.ports[1]!.hostPort <= 41999);
  assert.deepEqual(h.driver.firewall.publications.map((p) => p.bindings.length), [2]);
  await assert.rejects(
    h.svc.attach(db, await h.netns('db'), [{ network: 'bridge' }], [
      { hostIp: '0.0.0.0', hostPorts: [8080, 8080], containerPort: 80, protocol: 'tcp' },
    ]),
    // dockerd answers 500 with this wording when it cannot publish at start.
    { kind: 'internal', message: /^driver failed programming external connectivity on endpoint \S+ \([0-9a-f]{64}\): Bind for 0\.0\.0\.0:8080 failed: port is already allocated$/ },
  );
  assert.deepEqual(Object.keys(h.svc.containerNetworks(db.id)), []);
  assert.equal(h.driver.veths.size, 1);
  await h.svc.detach(web.id);
  assert.deepEqual(h.driver.firewall.publications, []);
});

test('a network with a running container cannot be removed; prune removes unused ones by label', async (t) => {
  const h = await harness(t);
  await h.svc.create({ name: 'busy' });
  await h.svc.create({ name: 'idle1', labels: { keep: 'no' } });
  await h.svc.create({ name: 'idle2', labels: { keep: 'yes' } });
  await h.svc.attach(web, await h.netns('web'), [{ network: 'busy' }]);
  await assert.rejects(h.svc.remove('busy'), { kind: 'forbidden', message: /network busy has active endpoints/ });
  assert.deepEqual(await h.svc.prune({ 'label!': ['keep=yes'] }), { NetworksDeleted: ['idle1'] });
  assert.deepEqual((await h.svc.list({ type: ['custom'] })).map((n) => n.Name), ['busy', 'idle2']);
  assert.deepEqual((await h.svc.list({ dangling: ['true'] })).map((n) => n.Name), ['idle2']);
  await assert.rejects(h.svc.list({ bogus: ['1'] }), { message: "invalid filter 'bogus'" });
});

test('connect and disconnect act at once on a running container', async (t) => {
  const h = await harness(t);
  await h.svc.create({ name: 'front' });
  await h.svc.create({ name: 'back' });
  await h.svc.attach(web, await h.netns('web'), [{ network: 'front' }]);
  await h.svc.connect('back', web, { aliases: ['api'] });
  const nets = h.svc.containerNetworks(web.id);
  assert.ok(nets['back']?.IPAddress);
  assert.equal(h.driver.veths.size, 2);
  const ifNames = [...h.driver.veths.values()].map((v) => v.endpoint.ifName).sort();
  assert.deepEqual(ifNames, ['eth0', 'eth1']);
  await assert.rejects(h.svc.connect('back', web), { kind: 'forbidden' });
  await h.svc.disconnect('front', web.id);
  assert.equal(h.driver.veths.size, 1);
  assert.equal([...h.driver.routes.values()][0]?.ifName, 'eth1', 'the default route moved to the remaining network');
  await h.svc.connect('front', web);
  await h.svc.disconnect('back', web.id);
  assert.deepEqual(Object.keys(h.svc.containerNetworks(web.id)), ['front']);
  await assert.rejects(h.svc.disconnect('back', web.id), { kind: 'forbidden' });
});

test('restore drops endpoints whose namespace is gone and keeps the live ones', async (t) => {
  const h = await harness(t);
  await h.svc.create({ name: 'app' });
  const nsWeb = await h.netns('web');
  const nsDb = await h.netns('db');
  await h.svc.attach(web, nsWeb, [{ network: 'app' }], [{ hostIp: '0.0.0.0', hostPorts: [9000, 9000], containerPort: 80, protocol: 'tcp' }]);
  await h.svc.attach(db, nsDb, [{ network: 'app' }]);
  // Crash: the db container died with berthd; a stray veth is left by nobody.
  await rm(nsDb);
  h.driver.veths.set('fakevstray', { bridge: 'x', endpoint: { endpointId: '', netnsPath: '', ifName: '', hostVeth: 'fakevstray', ipv4: '', prefixLen: 0, mac: '' } });
  const svc = await h.reopen();
  assert.ok(svc.containerNetworks(web.id)['app']?.IPAddress);
  assert.equal(svc.containerNetworks(db.id)['app']?.IPAddress, '');
  assert.deepEqual([...h.driver.veths.keys()].length, 1);
  assert.deepEqual(h.driver.firewall.publications.map((p) => p.bindings[0]?.hostPort), [9000]);
  await svc.releaseContainer(db.id);
  assert.deepEqual(Object.keys(svc.containerNetworks(db.id)), []);
});

test('bridge options are validated and honoured: MTU, masquerade, icc, host binding address', async (t) => {
  const h = await harness(t);
  await assert.rejects(h.svc.create({ name: 'bad', options: { 'com.docker.network.driver.mtu': '10' } }), { kind: 'invalid-argument' });
  await assert.rejects(h.svc.create({ name: 'bad', options: { 'com.docker.network.bridge.enable_icc': 'maybe' } }), {
    kind: 'invalid-argument',
  });
  await h.svc.create({
    name: 'tuned',
    options: {
      'com.docker.network.driver.mtu': '1400',
      'com.docker.network.bridge.enable_ip_masquerade': 'false',
      'com.docker.network.bridge.enable_icc': 'false',
      'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1',
    },
  });
  const tuned = h.driver.firewall.networks.find((n) => n.bridgeName === [...h.driver.bridges.keys()].find((b) => b !== 'fake0'));
  assert.deepEqual([tuned?.mtu, tuned?.masquerade, tuned?.icc], [1400, false, false]);
  const res = await h.svc.attach(web, await h.netns('web'), [{ network: 'tuned' }], [{ hostIp: '0.0.0.0', containerPort: 80, protocol: 'tcp' }]);
  assert.equal(res.ports[0]?.hostIp, '127.0.0.1');
});

test('a second attach to the same sandbox conflicts; one whose old sandbox is gone replaces it', async (t) => {
  const h = await harness(t);
  const first = await h.netns('web-1');
  await h.svc.attach(web, first, [{ network: 'bridge' }], [{ hostIp: '0.0.0.0', hostPorts: [9100, 9100], containerPort: 80, protocol: 'tcp' }]);
  await assert.rejects(h.svc.attach(web, first, [{ network: 'bridge' }]), { kind: 'conflict' });
  // The first run died without a detach (runtime crashed); the next start must not be blocked.
  await rm(first);
  const res = await h.svc.attach(web, await h.netns('web-2'), [{ network: 'bridge' }], [
    { hostIp: '0.0.0.0', hostPorts: [9100, 9100], containerPort: 80, protocol: 'tcp' },
  ]);
  assert.equal(res.ports[0]?.hostPort, 9100);
  assert.equal(h.driver.veths.size, 1);
});
