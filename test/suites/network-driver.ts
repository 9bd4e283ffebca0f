// Conformance suite for NetworkDriver (STYLE.md §10): every implementation and every fake
// runs it. The caller supplies the driver and a way to make namespaces to attach to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverEndpoint, DriverNetwork, NetworkDriver } from '../../src/network/index.js';

export interface NetworkDriverFixture {
  driver: NetworkDriver;
  /** A fresh namespace file the driver can plumb into. */
  makeNetns(): Promise<string>;
  /** A subnet `a.b.c.0/24` reserved for this run. */
  subnet: string;
  /** Removes namespaces and anything the driver left (after the asserts). */
  dispose(): Promise<void>;
}

export interface NetworkDriverSuiteOptions {
  skip?: string | false;
}

export function networkDriverSuite(
  name: string,
  setup: () => Promise<NetworkDriverFixture>,
  opts: NetworkDriverSuiteOptions = {},
): void {
  const skip = opts.skip || undefined;
  const run = (title: string, body: (f: NetworkDriverFixture, net: DriverNetwork) => Promise<void>) =>
    test(`${name}: ${title}`, { skip }, async (t) => {
      const f = await setup();
      t.after(() => f.dispose());
      const base = f.subnet.replace(/\.0\/24$/, '');
      const id = 'e'.repeat(64);
      const net: DriverNetwork = {
        id,
        bridgeName: f.driver.bridgeNameFor(id, false),
        subnet: f.subnet,
        gateway: `${base}.1`,
        internal: false,
      };
      try {
        await body(f, net);
      } finally {
        await f.driver.cleanupAll();
      }
      const left = await f.driver.listResources();
      assert.deepEqual(left, { bridges: [], hostVeths: [], chains: [] }, 'cleanupAll leaves nothing of the prefix');
    });

  const endpoint = (f: NetworkDriverFixture, net: DriverNetwork, netnsPath: string, n: number): DriverEndpoint => {
    const base = f.subnet.replace(/\.0\/24$/, '');
    const endpointId = String(n).repeat(64).slice(0, 64);
    return {
      endpointId,
      netnsPath,
      ifName: 'eth0',
      hostVeth: f.driver.hostVethNameFor(endpointId),
      ipv4: `${base}.${n + 1}`,
      prefixLen: 24,
      mac: `02:42:00:00:00:${(n + 1).toString(16).padStart(2, '0')}`,
      defaultGateway: net.gateway,
    };
  };

  run('names of devices carry the prefix and fit in 15 bytes', async (f) => {
    const br = f.driver.bridgeNameFor('f'.repeat(64), false);
    const veth = f.driver.hostVethNameFor('a'.repeat(64));
    for (const n of [br, veth, f.driver.bridgeNameFor('', true)]) {
      assert.ok(n.startsWith(f.driver.prefix), n);
      assert.ok(n.length <= 15, n);
    }
    assert.notEqual(f.driver.hostVethNameFor('a'.repeat(64)), f.driver.hostVethNameFor('b'.repeat(64)));
  });

  run('creating a network twice is the same as once, and removing it twice too', async (f, net) => {
    await f.driver.ensureNetwork(net);
    await f.driver.ensureNetwork(net);
    assert.deepEqual((await f.driver.listResources()).bridges, [net.bridgeName]);
    await f.driver.removeNetwork(net);
    await f.driver.removeNetwork(net);
    assert.deepEqual((await f.driver.listResources()).bridges, []);
  });

  run('an endpoint appears on attach and goes on detach, which may be repeated', async (f, net) => {
    await f.driver.ensureNetwork(net);
    const ep = endpoint(f, net, await f.makeNetns(), 1);
    await f.driver.attachEndpoint(net, ep);
    assert.deepEqual((await f.driver.listResources()).hostVeths, [ep.hostVeth]);
    await f.driver.detachEndpoint(net, ep);
    await f.driver.detachEndpoint(net, ep);
    assert.deepEqual((await f.driver.listResources()).hostVeths, []);
  });

  run('attaching to a network that does not exist fails and leaves no veth', async (f, net) => {
    const ep = endpoint(f, net, await f.makeNetns(), 2);
    await assert.rejects(f.driver.attachEndpoint(net, ep));
    assert.deepEqual((await f.driver.listResources()).hostVeths, []);
  });

  run('the firewall is replaced as a whole and cleanupAll removes its chains', async (f, net) => {
    await f.driver.ensureNetwork(net);
    const ep = endpoint(f, net, await f.makeNetns(), 3);
    await f.driver.attachEndpoint(net, ep);
    const pub = {
      endpointId: ep.endpointId,
      ipv4: ep.ipv4,
      bridgeName: net.bridgeName,
      bindings: [{ hostIp: '127.0.0.1', hostPort: 1, containerPort: 80, protocol: 'tcp' as const }],
    };
    await f.driver.syncFirewall({ networks: [net], publications: [pub] });
    await f.driver.syncFirewall({ networks: [net], publications: [] });
    assert.ok((await f.driver.listResources()).chains.length > 0);
  });
}
