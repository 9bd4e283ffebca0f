// Pruning while a build runs: the images the build has made so far and its base image are
// held (used by a running build), so `image prune` (with and without -a), `rmi` and
// `builder prune` skip them and the build finishes; once it is tagged they are free again.
// The RUN step waits for a server the test binds on the harness bridge's gateway.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerBuild, makeContext, startBuildDaemon } from '../build/fixtures.js';
import { bridgeGateway, serveHttp } from './http-server.js';

test('prune during a build', async (t) => {
  const d = await startBuildDaemon(t);
  if (!d) return;
  t.after(() => d.stop());
  const gateway = await bridgeGateway((args) => d.docker(args));

  await t.test('image prune, rmi and builder prune during a build leave what it needs', async (t) => {
    let go = false;
    let waiting: () => void = () => undefined;
    const stepWaits = new Promise<void>((r) => (waiting = r));
    const { port } = await serveHttp(t, gateway, (_req, res) => {
      waiting();
      res.statusCode = go ? 200 : 503;
      res.end(go ? 'go\n' : 'wait\n');
    });
    const dir = await makeContext(t, {
      Dockerfile: [
        'FROM busybox',
        'RUN echo one > /one',
        `RUN until wget -qO- http://${gateway}:${port}/; do sleep 0.2; done`,
        'RUN cat /one',
        '',
      ].join('\n'),
    });
    const build = dockerBuild(d, dir, ['--no-cache', '-t', 'prunerace:1']);
    await stepWaits;
    const pruned = await d.docker(['image', 'prune', '-f']);
    assert.equal(pruned.code, 0, pruned.stderr);
    const prunedAll = await d.docker(['image', 'prune', '-a', '-f']);
    assert.equal(prunedAll.code, 0, prunedAll.stderr);
    const rmi = await d.docker(['rmi', 'busybox']);
    assert.notEqual(rmi.code, 0, 'the base image of a running build is in use');
    assert.match(rmi.stderr, /is using its referenced image/);
    const builderPrune = await d.request('POST', '/build/prune');
    assert.equal(builderPrune.status, 200, builderPrune.text);
    go = true;
    const r = await build;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^one$/m);
    const run = await d.docker(['run', '--rm', '--network', 'none', 'prunerace:1', 'cat', '/one']);
    assert.equal(run.stdout, 'one\n');
    // Tagged: the build holds nothing any more.
    const rm = await d.docker(['rmi', 'prunerace:1']);
    assert.equal(rm.code, 0, rm.stderr);
    const rmBase = await d.docker(['rmi', 'busybox']);
    assert.equal(rmBase.code, 0, rmBase.stderr);
  });
});
