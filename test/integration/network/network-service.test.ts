// NetworkService on the real kernel: bridges, veths, iptables and the embedded DNS, with
// named network namespaces standing in for containers and busybox running inside them.
// Traffic stays between the host and these namespaces; DNS forwarding goes to a stand-in
// upstream on 127.0.0.1.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { NetworkService } from '../../../src/network/index.js';
import { EventBus, spawnStreaming } from '../../../src/util/index.js';
import { NetnsPool, assertNothingLeft, inNetns, randomPrefix, sh, skipReason, testPool } from './netns-fixture.js';

interface Env {
  prefix: string;
  svc: NetworkService;
  pool: NetnsPool;
  root: string;
  upstreamPort: number;
  container(name: string): Promise<{ id: string; name: string; ns: string; path: string }>;
  reopen(): Promise<NetworkService>;
}

/** A stand-in upstream resolver on 127.0.0.1 that answers every A query with 192.0.2.123. */
async function startUpstream(t: TestContext): Promise<number> {
  const s = createSocket('udp4');
  s.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    const answers = q.questions?.[0]?.type === 'A' ? [{ type: 'A' as const, name: q.questions[0].name, data: '192.0.2.123' }] : [];
    s.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }), r.port, r.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  t.after(() => s.close());
  return s.address().port;
}

async function setup(t: TestContext): Promise<Env> {
  const prefix = randomPrefix();
  const root = await mkdtemp(join(tmpdir(), 'berth-net-it-'));
  const pool = new NetnsPool(prefix);
  const upstreamPort = await startUpstream(t);
  const bus = new EventBus();
  const addressPools = [testPool()];
  const make = () =>
    new NetworkService({
      dataRoot: root,
      events: bus,
      namePrefix: prefix,
      addressPools,
      dnsUpstreams: async () => [{ host: '127.0.0.1', port: upstreamPort }],
    });
  let svc = make();
  t.after(async () => {
    await svc.cleanupAll();
    await pool.disposeAll();
    await rm(root, { recursive: true, force: true });
    await assertNothingLeft(prefix);
  });
  await svc.restore();
  let n = 0;
  return {
    prefix,
    get svc() {
      return svc;
    },
    pool,
    root,
    upstreamPort,
    container: async (name) => {
      const ns = await pool.create();
      const id = `${(++n).toString(16)}${'0'.repeat(63)}`.slice(0, 64);
      return { id, name, ns: ns.name, path: ns.path };
    },
    reopen: async () => {
      await svc.close();
      svc = make();
      await svc.restore();
      return svc;
    },
  };
}

/** A global IPv4 address of the host itself (traffic to it stays on the host). */
async function firstHostAddress(): Promise<string | undefined> {
  const rows: Array<{ ifname: string; addr_info?: Array<{ family: string; local: string; scope: string }> }> = JSON.parse(
    (await sh('ip', ['-j', '-4', 'addr', 'show'])).stdout,
  );
  for (const r of rows) {
    if (r.ifname === 'lo' || r.ifname.startsWith('bt') || r.ifname.startsWith('berth')) continue;
    const a = r.addr_info?.find((x) => x.family === 'inet' && x.scope === 'global');
    if (a) return a.local;
  }
  return undefined;
}

async function canPing(ns: string, target: string): Promise<boolean> {
  const r = await inNetns(ns, ['busybox', 'ping', '-c', '1', '-W', '1', target], { okCodes: [1, 2] });
  return r.exitCode === 0;
}

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('http timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Starts busybox httpd in the namespace serving `body` on port 80; stopped in t.after. */
async function startHttpd(t: TestContext, env: Env, ns: string, body: string): Promise<void> {
  // (busybox-static's `wget -T` crashes: rely on the run timeout instead.)
  const dir = join(env.root, `www-${ns}`);
  await rm(dir, { recursive: true, force: true });
  await sh('mkdir', ['-p', dir]);
  await writeFile(join(dir, 'index.html'), body);
  const child = spawnStreaming('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', '80', '-h', dir], {
    timeoutMs: 120_000,
    stdout: 'ignore',
    okCodes: [137, 143],
  });
  t.after(async () => {
    child.kill('SIGKILL');
    await child.done.catch(() => undefined);
  });
  // Wait until it listens: a request from inside the namespace succeeds.
  for (let i = 0; i < 50; i++) {
    const r = await inNetns(ns, ['busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1/'], { okCodes: [1] });
    if (r.exitCode === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('httpd did not start');
}

test('two containers on a user network reach each other by name', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  await env.svc.create({ name: 'app' });
  const web = await env.container('web');
  const db = await env.container('db');
  const w = await env.svc.attach(web, web.path, [{ network: 'app' }]);
  await env.svc.attach(db, db.path, [{ network: 'app', endpoint: { aliases: ['database'] } }]);
  const gw = w.dns.nameservers[0]!;
  assert.equal(gw, w.networks['app']!.Gateway);
  await env.pool.setResolver(web.ns, gw);
  assert.ok(await canPing(web.ns, 'db'), 'web pings db by name');
  assert.ok(await canPing(web.ns, 'database'), 'web pings db by alias');
  const ans = await inNetns(web.ns, ['busybox', 'nslookup', 'database', gw]);
  assert.match(ans.stdout, new RegExp(env.svc.containerNetworks(db.id)['app']!.IPAddress.replace(/\./g, '\\.')));
  // Other names go to the upstream (the stand-in on 127.0.0.1).
  const ext = await inNetns(web.ns, ['busybox', 'nslookup', 'example.test', gw]);
  assert.match(ext.stdout, /192\.0\.2\.123/);
  // A container with its own --dns gets other names from that server (a stand-in on 127.0.0.77:53).
  const own = createSocket('udp4');
  own.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    const answers = [{ type: 'A' as const, name: q.questions![0]!.name, data: '192.0.2.77' }];
    own.send(dnsPacket.encode({ type: 'response', id: q.id, questions: q.questions, answers }), r.port, r.address);
  });
  await new Promise<void>((r) => own.bind(53, '127.0.0.77', () => r()));
  t.after(() => own.close());
  const cli = await env.container('cli');
  await env.svc.attach(cli, cli.path, [{ network: 'app', endpoint: { dnsServers: ['127.0.0.77'] } }]);
  const viaOwn = await inNetns(cli.ns, ['busybox', 'nslookup', 'example.test', gw]);
  assert.match(viaOwn.stdout, /192\.0\.2\.77/);
  const stillLocal = await inNetns(cli.ns, ['busybox', 'nslookup', 'db', gw]);
  assert.doesNotMatch(stillLocal.stdout, /192\.0\.2\.77/);
  await env.svc.detach(web.id);
  await env.svc.detach(db.id);
  await env.svc.detach(cli.id);
});

test('the default bridge gives addresses and routes but no name resolution', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  const a = await env.container('a');
  const b = await env.container('b');
  const ra = await env.svc.attach(a, a.path, [{ network: 'bridge' }]);
  const rb = await env.svc.attach(b, b.path, [{ network: 'bridge' }]);
  assert.deepEqual(ra.dns.nameservers, []);
  assert.deepEqual((await env.svc.dnsSettings(a.id)).nameservers.includes(ra.networks['bridge']!.Gateway), false);
  assert.ok(await canPing(a.ns, rb.networks['bridge']!.IPAddress), 'a pings b by address');
  const gw = ra.networks['bridge']!.Gateway;
  const q = await inNetns(a.ns, ['busybox', 'nslookup', 'b', gw], { okCodes: [1] });
  assert.equal(q.exitCode, 1, 'no DNS server answers on the default bridge');
  const route = await sh('ip', ['-n', a.ns, 'route', 'show', 'default']);
  assert.match(route.stdout, new RegExp(`default via ${gw.replace(/\./g, '\\.')}`));
});

test('an internal network has no outbound route but its members reach each other', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  await env.svc.create({ name: 'secret', internal: true });
  const a = await env.container('a');
  const b = await env.container('b');
  const ra = await env.svc.attach(a, a.path, [{ network: 'secret' }]);
  const rb = await env.svc.attach(b, b.path, [{ network: 'secret' }]);
  assert.equal(ra.networks['secret']!.Gateway, '');
  const route = await sh('ip', ['-n', a.ns, 'route', 'show', 'default']);
  assert.equal(route.stdout.trim(), '');
  assert.ok(await canPing(a.ns, rb.networks['secret']!.IPAddress));
  // A host address outside the subnet is unreachable.
  assert.equal(await canPing(a.ns, '192.0.2.200'), false);
  // Internal networks resolve their members but do not forward.
  const gw = (await env.svc.inspect('secret')).IPAM.Config[0]!.Gateway;
  const ans = await inNetns(a.ns, ['busybox', 'nslookup', 'b', gw]);
  assert.match(ans.stdout, new RegExp(rb.networks['secret']!.IPAddress.replace(/\./g, '\\.')));
});

test('a published random port answers on 127.0.0.1 and from another container via the host', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  await env.svc.create({ name: 'pub' });
  const web = await env.container('web');
  const client = await env.container('client');
  const res = await env.svc.attach(web, web.path, [{ network: 'pub' }], [{ hostIp: '0.0.0.0', containerPort: 80, protocol: 'tcp' }]);
  await env.svc.attach(client, client.path, [{ network: 'pub' }]);
  const port = res.ports[0]!.hostPort;
  await startHttpd(t, env, web.ns, 'hello from web\n');
  assert.equal(await httpGet('127.0.0.1', port), 'hello from web\n');
  // The host's own (non-loopback) address works too.
  const hostIp = await firstHostAddress();
  if (hostIp) assert.equal(await httpGet(hostIp, port), 'hello from web\n');
  // Hairpin: another container on the same bridge through the host's address (its gateway).
  const gw = res.networks['pub']!.Gateway;
  const hp = await inNetns(client.ns, ['busybox', 'wget', '-q', '-O', '-', `http://${gw}:${port}/`]);
  assert.equal(hp.stdout, 'hello from web\n');
  await env.svc.detach(web.id);
  const rules = (await sh('iptables-save', ['-t', 'nat'])).stdout;
  assert.ok(!rules.includes(`--dport ${port} `), 'the DNAT rule went with the endpoint');
});

test('a host port that is already published fails the second container and sets nothing up', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  const a = await env.container('a');
  const b = await env.container('b');
  const res = await env.svc.attach(a, a.path, [{ network: 'bridge' }], [{ hostIp: '0.0.0.0', containerPort: 80, protocol: 'tcp' }]);
  const port = res.ports[0]!.hostPort;
  await assert.rejects(
    env.svc.attach(b, b.path, [{ network: 'bridge' }], [{ hostIp: '127.0.0.1', hostPorts: [port, port], containerPort: 80, protocol: 'tcp' }]),
    // dockerd's wording and status (500) for a port it cannot publish at start.
    { kind: 'internal', message: new RegExp(`^driver failed programming external connectivity on endpoint \\S+ \\([0-9a-f]{64}\\): Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated$`) },
  );
  const links = (await sh('ip', ['-n', b.ns, '-o', 'link'])).stdout;
  assert.ok(!links.includes('eth0'), 'no interface in the refused container');
  assert.equal((await env.svc.driver.listResources()).hostVeths.length, 1);
});

test('connect and disconnect change reachability at once', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  await env.svc.create({ name: 'front' });
  await env.svc.create({ name: 'back' });
  const web = await env.container('web');
  const api = await env.container('api');
  await env.svc.attach(web, web.path, [{ network: 'front' }]);
  const rApi = await env.svc.attach(api, api.path, [{ network: 'back' }]);
  const apiIp = rApi.networks['back']!.IPAddress;
  assert.equal(await canPing(web.ns, apiIp), false, 'networks are isolated');
  await env.svc.connect('back', web, { aliases: ['webby'] });
  assert.ok(await canPing(web.ns, apiIp), 'reachable after connect');
  const backGw = rApi.networks['back']!.Gateway;
  const ans = await inNetns(api.ns, ['busybox', 'nslookup', 'webby', backGw]);
  assert.match(ans.stdout, new RegExp(env.svc.containerNetworks(web.id)['back']!.IPAddress.replace(/\./g, '\\.')));
  await env.svc.disconnect('back', web.id);
  assert.equal(await canPing(web.ns, apiIp), false, 'unreachable after disconnect');
  // Unknown now, the name goes to the stand-in upstream (which answers 192.0.2.123 for anything).
  const gone = await inNetns(api.ns, ['busybox', 'nslookup', 'webby', backGw]);
  assert.match(gone.stdout, /192\.0\.2\.123/, 'the alias is gone from DNS at once');
});

test('restore after a crash removes what belonged to containers that are gone', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  await env.svc.create({ name: 'app' });
  const a = await env.container('a');
  const b = await env.container('b');
  await env.svc.attach(a, a.path, [{ network: 'app' }], [{ hostIp: '0.0.0.0', containerPort: 80, protocol: 'tcp' }]);
  const rb = await env.svc.attach(b, b.path, [{ network: 'app' }], [{ hostIp: '0.0.0.0', containerPort: 81, protocol: 'udp' }]);
  const bPort = rb.ports[0]!.hostPort;
  // b's container dies while berthd is down.
  await env.pool.remove(b.ns);
  const svc = await env.reopen();
  assert.equal(svc.containerNetworks(b.id)['app']!.IPAddress, '');
  assert.ok(svc.containerNetworks(a.id)['app']!.IPAddress);
  const rules = (await sh('iptables-save', ['-t', 'nat'])).stdout;
  assert.ok(!rules.includes(`--dport ${bPort} `), "the dead container's port is unpublished");
  assert.equal((await svc.driver.listResources()).hostVeths.length, 1);
  // After a reboot-like wipe of the kernel state, restore re-creates bridge and rules.
  await svc.driver.cleanupAll();
  const again = await env.reopen();
  const res = await again.driver.listResources();
  assert.equal(res.bridges.length, 2);
  assert.equal(res.hostVeths.length, 1, 'the living container is plumbed again');
});

test('a published UDP port delivers datagrams sent to 127.0.0.1', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  const sink = await env.container('sink');
  const res = await env.svc.attach(sink, sink.path, [{ network: 'bridge' }], [{ hostIp: '127.0.0.1', containerPort: 9999, protocol: 'udp' }]);
  const port = res.ports[0]!.hostPort;
  // busybox-static's nc has no UDP: a tiny node UDP sink runs inside the namespace instead.
  const sinkJs = "const s=require('dgram').createSocket('udp4');s.on('message',m=>process.stdout.write(m));s.bind(9999)";
  const nc = spawnStreaming('ip', ['netns', 'exec', sink.ns, process.execPath, '-e', sinkJs], {
    timeoutMs: 60_000,
    okCodes: [137, 143],
  });
  t.after(async () => {
    nc.kill('SIGKILL');
    await nc.done.catch(() => undefined);
  });
  let got = '';
  nc.stdout.on('data', (c: Buffer) => (got += c.toString()));
  const s = createSocket('udp4');
  t.after(() => s.close());
  // The sink needs a moment to bind; resend until the datagram shows up.
  for (let i = 0; i < 100 && !got.includes('ping-udp'); i++) {
    s.send('ping-udp\n', port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(got, /ping-udp/);
});

test('a network MTU reaches the bridge and both ends of the veth', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  await env.svc.create({ name: 'jumbo', options: { 'com.docker.network.driver.mtu': '1400' } });
  const a = await env.container('a');
  await env.svc.attach(a, a.path, [{ network: 'jumbo' }]);
  const inside = (await sh('ip', ['-n', a.ns, '-o', 'link', 'show', 'eth0'])).stdout;
  assert.match(inside, / mtu 1400 /);
  const veth = (await env.svc.driver.listResources()).hostVeths[0]!;
  assert.match((await sh('ip', ['-o', 'link', 'show', veth])).stdout, / mtu 1400 /);
});

test('disconnecting the network that held the default route moves it to another one', { skip: skipReason }, async (t) => {
  const env = await setup(t);
  await env.svc.create({ name: 'one' });
  await env.svc.create({ name: 'two' });
  const a = await env.container('a');
  const res = await env.svc.attach(a, a.path, [{ network: 'one' }, { network: 'two' }]);
  const route = async () => (await sh('ip', ['-n', a.ns, 'route', 'show', 'default'])).stdout;
  assert.match(await route(), new RegExp(`via ${res.networks['one']!.Gateway.replace(/\./g, '\\.')} dev eth0`));
  await env.svc.disconnect('one', a.id);
  assert.match(await route(), new RegExp(`via ${res.networks['two']!.Gateway.replace(/\./g, '\\.')} dev eth1`));
});
