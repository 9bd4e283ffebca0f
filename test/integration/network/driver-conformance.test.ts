// Runs the NetworkDriver conformance suite on the bridge driver (root) and on the fake.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeDriver, FakeNetworkDriver, type DriverNetwork } from '../../../src/network/index.js';
import { networkDriverSuite } from '../../suites/network-driver.js';
import { NetnsPool, assertNothingLeft, randomPrefix, sh, skipReason } from './netns-fixture.js';

networkDriverSuite('fake driver', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-fake-ns-'));
  let n = 0;
  return {
    driver: new FakeNetworkDriver(),
    subnet: '10.99.0.0/24',
    makeNetns: async () => {
      const p = join(dir, `ns${n++}`);
      await writeFile(p, '');
      return p;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

/** The bridge driver on a fresh prefix; `native: false` makes its steps take the fallback (ip) until dispose. */
function bridgeFixture(native: boolean) {
  return async () => {
    // BERTH_NATIVE is read on every call.
    const before = process.env.BERTH_NATIVE;
    if (!native) process.env.BERTH_NATIVE = '0';
    const prefix = randomPrefix();
    const pool = new NetnsPool(prefix);
    const octet = 211 + Math.floor(Math.random() * 39);
    return {
      driver: new BridgeDriver({ prefix }),
      subnet: `10.${octet}.${Math.floor(Math.random() * 250)}.0/24`,
      makeNetns: async () => (await pool.create()).path,
      dispose: async () => {
        if (before === undefined) delete process.env.BERTH_NATIVE;
        else process.env.BERTH_NATIVE = before;
        await pool.disposeAll();
        await assertNothingLeft(prefix);
      },
    };
  };
}

networkDriverSuite('bridge driver', bridgeFixture(true), { skip: skipReason });
networkDriverSuite('bridge driver with ip (no berth-sys)', bridgeFixture(false), { skip: skipReason });

/**
 * A bridge-driver test on a fresh prefix (the addon's path): `body` gets the fixture and a
 * network (id from `fill`, mtu `mtu`) the driver has made; everything of the prefix goes after.
 */
function bridgeTest(title: string, fill: string, body: (f: Awaited<ReturnType<ReturnType<typeof bridgeFixture>>>, net: DriverNetwork, base: string) => Promise<void>, opts: { mtu?: number; native?: boolean } = {}) {
  test(title, { skip: skipReason }, async (t) => {
    const f = await bridgeFixture(opts.native ?? true)();
    t.after(() => f.dispose());
    const base = f.subnet.replace(/\.0\/24$/, '');
    const id = fill.repeat(64);
    const net: DriverNetwork = { id, bridgeName: f.driver.bridgeNameFor(id, false), subnet: f.subnet, gateway: `${base}.1`, internal: false, ...(opts.mtu ? { mtu: opts.mtu } : {}) };
    try {
      await f.driver.ensureNetwork(net);
      await body(f, net, base);
    } finally {
      await f.driver.cleanupAll();
    }
  });
}

for (const native of [true, false]) {
  bridgeTest(
    `the bridge driver plumbs an endpoint the same way ${native ? 'through berth-sys (rtnetlink)' : 'with ip'}: address, MAC, lo, route, the host end in the bridge`,
    'f',
    async (f, net, base) => {
      const ns = await f.makeNetns();
      const inNetns = (args: string[]) => sh('nsenter', [`--net=${ns}`, ...args]);
      const endpointId = '7'.repeat(64);
      const ep = { endpointId, netnsPath: ns, ifName: 'eth0', hostVeth: f.driver.hostVethNameFor(endpointId), ipv4: `${base}.7`, prefixLen: 24, mac: '02:42:00:00:00:07', defaultGateway: net.gateway };
      await f.driver.attachEndpoint(net, ep);
      const inside = (await inNetns(['ip', '-o', 'addr', 'show'])).stdout;
      assert.match(inside, new RegExp(`eth0\\s+inet ${base.replace(/\./g, '\\.')}\\.7/24 `));
      assert.match(inside, /lo\s+inet 127\.0\.0\.1\/8/);
      const link = (await inNetns(['ip', '-o', 'link', 'show', 'eth0'])).stdout;
      assert.match(link, /state UP|,UP/);
      assert.match(link, /mtu 1400 /);
      assert.match(link, /link\/ether 02:42:00:00:00:07 /);
      assert.match((await inNetns(['ip', 'route'])).stdout, new RegExp(`^default via ${base.replace(/\./g, '\\.')}\\.1 dev eth0`, 'm'));
      const host = (await sh('ip', ['-o', 'link', 'show', ep.hostVeth])).stdout;
      assert.match(host, new RegExp(`master ${net.bridgeName} `));
      assert.match(host, /mtu 1400 /);
      assert.match(host, /,UP/);
      // A second attach of the same endpoint fails and undoes its half: the first stays.
      await assert.rejects(f.driver.attachEndpoint(net, ep));
    },
    { mtu: 1400, native },
  );
}

bridgeTest('the bridge driver sweeps its firewall rules even when cleanupAll cannot delete a link', 'a', async (f, net) => {
  await f.driver.syncFirewall({ networks: [net], publications: [] });
  assert.ok((await f.driver.listResources()).chains.length > 0);
  // The same prefix, with an ip that fails every batch: the bridge stays, the chains must not.
  const failing = new BridgeDriver({ prefix: f.driver.prefix, ipBin: 'false' });
  await assert.rejects(failing.cleanupAll());
  const left = await f.driver.listResources();
  assert.deepEqual(left.chains, []);
  assert.deepEqual(left.bridges, [net.bridgeName]);
});

bridgeTest('the bridge driver puts back a jump into its chains that was removed from outside, after the next sync', 'b', async (f, net) => {
  const jump = ['-t', 'nat', '-C', 'OUTPUT', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', `${f.driver.prefix}-DNAT`];
  const present = async () => (await sh('iptables', jump, { okCodes: [0, 1] })).exitCode === 0;
  await f.driver.syncFirewall({ networks: [net], publications: [] });
  assert.ok(await present());
  // What an `iptables -F` or a firewall reload does to it.
  await sh('iptables', jump.map((a) => (a === '-C' ? '-D' : a)));
  assert.ok(!(await present()));
  await f.driver.syncFirewall({ networks: [net], publications: [] });
  const deadline = Date.now() + 10_000;
  while (!(await present())) {
    assert.ok(Date.now() < deadline, 'the jump is back within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
});
