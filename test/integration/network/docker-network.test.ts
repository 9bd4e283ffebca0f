// Networking through the real docker CLI against a harness berthd: user networks with DNS by
// name and alias, published ports answering on 127.0.0.1, inspect's addresses, and
// `network rm` refusing a network in use. The image is a busybox rootfs (`docker import`).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { dockerOk as ok, runCommand, type TestDaemon } from '../../helpers/daemon.js';
import { startDaemonWithBusybox } from '../runtime/fixtures.js';

const IMAGE = 'nettest:1';

/** A daemon with the test image, or undefined when the test is skipped. */
function daemonWithImage(t: TestContext): Promise<TestDaemon | undefined> {
  return startDaemonWithBusybox(t, IMAGE, {
    customize: async (rootfs) => {
      await mkdir(join(rootfs, 'www'), { recursive: true });
      await writeFile(join(rootfs, 'www', 'index.html'), 'hello from a container\n');
    },
  });
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('http timeout')));
    req.on('error', reject);
    req.end();
  });
}

test('containers on a user network reach each other; the network cannot be removed while they run', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  await ok(d, ['network', 'create', 'app']);
  await ok(d, ['run', '-d', '--name', 'db', '--network', 'app', '--network-alias', 'database', IMAGE, 'sleep', '300']);
  try {
    const ip = await ok(d, ['inspect', '--format', '{{.NetworkSettings.Networks.app.IPAddress}}', 'db']);
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    // IPv4 networks: no IPv6 on eth0 (as dockerd), so no link-local talk past the IPv4 rules; lo keeps ::1.
    if (existsSync('/proc/sys/net/ipv6')) {
      assert.equal(await ok(d, ['exec', 'db', 'cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6']), '1');
      assert.match(await ok(d, ['exec', 'db', 'ip', '-6', 'addr', 'show', 'lo']), /inet6 ::1\/128/);
    }
    assert.equal(await ok(d, ['run', '--rm', '--network', 'app', IMAGE, 'ping', '-c', '1', '-W', '2', ip]).then(() => 'ok'), 'ok');
    const rmBusy = await d.docker(['network', 'rm', 'app']);
    assert.notEqual(rmBusy.code, 0);
    assert.match(rmBusy.stderr, /has active endpoints/);
  } finally {
    // Containers outlive berthd by design: remove them before the harness stops it.
    await ok(d, ['rm', '-f', 'db']);
  }
  await ok(d, ['network', 'rm', 'app']);
});

test('/etc/hosts and the UTS names follow dockerd: host-gateway is the default bridge’s gateway, a domain or a dotted hostname adds the short name', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  const gateway = await ok(d, ['network', 'inspect', 'bridge', '-f', '{{(index .IPAM.Config 0).Gateway}}']);
  for (const net of ['bridge', 'host', 'none']) {
    assert.match(await ok(d, ['run', '--rm', '--network', net, '--add-host', 'gw:host-gateway', IMAGE, 'grep', 'gw', '/etc/hosts']), new RegExp(`^${gateway.replace(/\./g, '\\.')}\\tgw$`), net);
  }
  const domain = await ok(d, ['run', '--rm', '--hostname', 'h', '--domainname', 'ex.com', IMAGE, 'sh', '-c', 'tail -n 1 /etc/hosts; hostname; cat /proc/sys/kernel/domainname']);
  assert.match(domain, /^[\d.]+\th\.ex\.com h\nh\nex\.com$/);
  assert.match(await ok(d, ['run', '--rm', '--hostname', 'a.b.c', IMAGE, 'tail', '-n', '1', '/etc/hosts']), /^[\d.]+\ta\.b\.c a$/);
});

test('a random published port answers on 127.0.0.1 and docker port shows it', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  await ok(d, ['run', '-d', '--name', 'web', '-p', '127.0.0.1::80', IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www']);
  try {
    const mapping = await ok(d, ['port', 'web', '80/tcp']);
    const m = /^127\.0\.0\.1:(\d+)$/.exec(mapping);
    assert.ok(m, mapping);
    let body = '';
    for (let i = 0; i < 50 && !body; i++) {
      body = await httpGet(Number(m[1])).catch(() => '');
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, 'hello from a container\n');
    // `true`, not a long sleep: should the refused container's process start anyway, it ends at once.
    const second = await d.docker(['run', '-d', '--name', 'web2', '-p', `127.0.0.1:${m[1]}:80`, IMAGE, 'true']);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${m[1]} failed: port is already allocated`));
  } finally {
    await d.docker(['rm', '-f', 'web', 'web2']);
  }
});

test(
  'containers on a user network resolve each other by name and alias; the default bridge does not',
  async (t) => {
    const d = await daemonWithImage(t);
    if (!d) return;
    await ok(d, ['network', 'create', 'app']);
    await ok(d, ['run', '-d', '--name', 'db', '--network', 'app', '--network-alias', 'database', IMAGE, 'sleep', '300']);
    try {
      const byName = await ok(d, [
        'run', '--rm', '--network', 'app', IMAGE, 'sh', '-c',
        'ping -c 1 -W 2 db >/dev/null && ping -c 1 -W 2 database >/dev/null && echo reached',
      ]);
      assert.equal(byName, 'reached');
      const conf = await ok(d, ['run', '--rm', '--network', 'app', IMAGE, 'cat', '/etc/resolv.conf']);
      assert.match(conf, /^nameserver 10\./m);
      await ok(d, ['run', '-d', '--name', 'plain', IMAGE, 'sleep', '300']);
      // Asked directly, the default bridge's gateway serves no names (and --dns keeps any
      // other lookup on the container's own loopback, never an outside resolver).
      const gw = await ok(d, ['inspect', '--format', '{{.NetworkSettings.Gateway}}', 'plain']);
      assert.match(gw, /^\d+\.\d+\.\d+\.\d+$/);
      const onBridge = await d.docker(['run', '--rm', '--dns', '127.0.0.1', IMAGE, 'sh', '-c', `timeout 3 nslookup plain ${gw} >/dev/null 2>&1 && echo resolved || echo unresolved`]);
      assert.equal(onBridge.stdout.trim(), 'unresolved', onBridge.stderr);
      const ownConf = await ok(d, ['run', '--rm', IMAGE, 'cat', '/etc/resolv.conf']);
      assert.doesNotMatch(ownConf, new RegExp(`nameserver ${gw.replace(/\./g, '\\.')}`));
    } finally {
      await ok(d, ['rm', '-f', 'db', 'plain']);
    }
  },
);

test('a restarted container keeps its address; connect and disconnect work on a running container', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  await ok(d, ['network', 'create', '--subnet', '10.247.3.0/24', 'front']);
  await ok(d, ['network', 'create', 'back']);
  await ok(d, ['run', '-d', '--name', 'app', '--network', 'front', IMAGE, 'sleep', '300']);
  try {
    const before = await ok(d, ['inspect', '--format', '{{.NetworkSettings.Networks.front.IPAddress}}', 'app']);
    assert.equal(before, '10.247.3.2');
    await ok(d, ['restart', '-t', '0', 'app']);
    assert.equal(await ok(d, ['inspect', '--format', '{{.NetworkSettings.Networks.front.IPAddress}}', 'app']), before);
    await ok(d, ['network', 'connect', '--alias', 'api', 'back', 'app']);
    const inspect = JSON.parse(await ok(d, ['network', 'inspect', 'back'])) as Array<{ Containers: Record<string, { Name: string }> }>;
    assert.deepEqual(Object.values(inspect[0]!.Containers).map((c) => c.Name), ['app']);
    assert.match(await ok(d, ['exec', 'app', 'ip', '-4', '-o', 'addr']), /eth1/);
    await ok(d, ['network', 'disconnect', 'back', 'app']);
    assert.doesNotMatch(await ok(d, ['exec', 'app', 'ip', '-4', '-o', 'addr']), /eth1/);
    const again = await d.docker(['network', 'disconnect', 'back', 'app']);
    const id = (await ok(d, ['inspect', '-f', '{{.Id}}', 'app'])).trim();
    assert.match(again.stderr, new RegExp(`container ${id} is not connected to network back`), 'named by its full id, as dockerd does');
  } finally {
    await ok(d, ['rm', '-f', 'app']);
  }
  await ok(d, ['network', 'rm', 'front', 'back']);
});

test('inspect follows connect and disconnect, and the next start joins the networks the container has then', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  await ok(d, ['network', 'create', 'left']);
  await ok(d, ['network', 'create', 'right']);
  const nets = async () => Object.keys(JSON.parse(await ok(d, ['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'sw'])) as Record<string, unknown>).sort();
  await ok(d, ['run', '-d', '--name', 'sw', '--network', 'left', IMAGE, 'sleep', '300']);
  try {
    await ok(d, ['network', 'connect', '--alias', 'sw-alias', 'right', 'sw']);
    assert.deepEqual(await nets(), ['left', 'right']);
    const addr = await ok(d, ['inspect', '--format', '{{.NetworkSettings.Networks.right.IPAddress}}', 'sw']);
    assert.match(addr, /^\d+\.\d+\.\d+\.\d+$/);
    await ok(d, ['network', 'disconnect', 'left', 'sw']);
    assert.deepEqual(await nets(), ['right']);
    await ok(d, ['restart', '-t', '0', 'sw']);
    assert.deepEqual(await nets(), ['right']);
    const ifaces = await ok(d, ['exec', 'sw', 'ip', '-4', '-o', 'addr']);
    assert.match(ifaces, new RegExp(addr.replace(/\./g, '\\.')));
    assert.doesNotMatch(ifaces, /eth1/);
    // Connecting the primary network again (to the stopped container) brings it back at the next start.
    await ok(d, ['stop', '-t', '0', 'sw']);
    await ok(d, ['network', 'connect', 'left', 'sw']);
    assert.deepEqual(await nets(), ['left', 'right']);
    await ok(d, ['start', 'sw']);
    assert.deepEqual(await nets(), ['left', 'right']);
    assert.match(await ok(d, ['exec', 'sw', 'ip', '-4', '-o', 'addr']), /eth1/);
  } finally {
    await ok(d, ['rm', '-f', 'sw']);
  }
  await ok(d, ['network', 'rm', 'left', 'right']);
});

test('a bridge deleted while berthd runs is made again by the next container that joins it', async (t) => {
  const d = await daemonWithImage(t);
  if (!d) return;
  t.after(() => d.stop());
  const bridge = await ok(d, ['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', 'bridge']);
  assert.match(bridge, /^\S+$/);
  // The bridge exists once a container has used the network.
  await ok(d, ['run', '--rm', IMAGE, 'true']);
  assert.equal(existsSync(`/sys/class/net/${bridge}`), true);
  const del = await runCommand('ip', ['link', 'del', bridge], { timeoutMs: 10_000 });
  assert.equal(del.code, 0, del.stderr);
  assert.equal(existsSync(`/sys/class/net/${bridge}`), false);
  assert.equal(await ok(d, ['run', '--rm', IMAGE, 'sh', '-c', 'ip -o -4 addr show eth0 | wc -l']), '1');
  assert.equal(existsSync(`/sys/class/net/${bridge}`), true, 'the bridge is back');
});
