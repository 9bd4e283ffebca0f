// RUN steps on the default bridge (like `docker run`): an eth0 with an address on the bridge,
// traffic to a server bound on the bridge gateway, and nothing left once the step is done.
// `--network=none|host` keep their meaning. Traffic goes only to the gateway of the harness's
// own bridge (prefix-named) and to loopback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerBuild, makeContext, startBuildDaemon } from '../build/fixtures.js';
import { serveHttp } from './http-server.js';

interface NetworkInspect {
  Containers: Record<string, unknown>;
  IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
}

test('RUN steps and the default bridge', async (t) => {
  const d = await startBuildDaemon(t);
  if (!d) return;
  t.after(() => d.stop());
  const bridge = async () => {
    const r = await d.docker(['network', 'inspect', 'bridge']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as NetworkInspect[])[0]!;
  };
  const gateway = (await bridge()).IPAM.Config[0]!.Gateway;
  assert.ok(gateway, 'the default bridge has a gateway');

  await t.test('a RUN step reaches a server listening on the bridge gateway and has an eth0', async (t) => {
    const { port } = await serveHttp(t, gateway, (_req, res) => res.end('hello-from-gateway\n'));
    const dir = await makeContext(t, {
      Dockerfile: [
        'FROM busybox',
        'RUN ip -o addr show eth0 | grep -q "inet " && echo has-eth0',
        `RUN wget -qO /got.txt http://${gateway}:${port}/ && cat /got.txt`,
        'RUN grep -q nameserver /etc/resolv.conf && echo has-resolv',
        '',
      ].join('\n'),
    });
    const r = await dockerBuild(d, dir, ['--no-cache', '-t', 'netrun:1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /has-eth0/);
    assert.match(r.stdout, /hello-from-gateway/);
    assert.match(r.stdout, /has-resolv/);
    const got = await d.docker(['run', '--rm', '--network', 'none', 'netrun:1', 'cat', '/got.txt']);
    assert.equal(got.stdout, 'hello-from-gateway\n');
    // The step's endpoint is gone (the harness checks links, mounts and processes at stop).
    assert.deepEqual((await bridge()).Containers ?? {}, {});
  });

  await t.test('RUN --network=none has loopback only, and the build option none does too', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: 'FROM busybox\nRUN --network=none sh -c "ip -o link | grep -v \': lo:\' | wc -l > /links" && cat /links\nRUN cat /links\n',
    });
    const r = await dockerBuild(d, dir, ['--no-cache']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^0$/m);
    const dir2 = await makeContext(t, { Dockerfile: 'FROM busybox\nRUN ip -o link | grep -c eth0 || echo no-eth0\n' });
    const r2 = await dockerBuild(d, dir2, ['--no-cache', '--network', 'none']);
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    assert.match(r2.stdout, /no-eth0/);
  });

  await t.test('--network host runs in the host namespace (loopback server reachable)', async (t) => {
    const { port } = await serveHttp(t, '127.0.0.1', (_req, res) => res.end('hello-from-loopback\n'));
    const dir = await makeContext(t, { Dockerfile: `FROM busybox\nRUN wget -qO- http://127.0.0.1:${port}/\n` });
    const r = await dockerBuild(d, dir, ['--no-cache', '--network', 'host']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /hello-from-loopback/);
  });

  await t.test('a failing RUN on the bridge leaves no endpoint behind', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nRUN ip -o addr show eth0 && exit 3\n' });
    const r = await dockerBuild(d, dir, ['--no-cache']);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /exit code: 3/);
    assert.deepEqual((await bridge()).Containers ?? {}, {});
  });
});
