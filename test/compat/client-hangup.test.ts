// A reader that hangs up mid-stream (`docker run … | head -1`, `docker logs … | head -1`) ends
// that stream only: berthd keeps serving, and the container is still cleaned up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DOCKER_CLI, isRoot, runCommand, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { importBusyboxImage } from '../integration/runtime/fixtures.js';

const skip = !isRoot() ? 'needs root' : !existsSync(DOCKER_CLI) ? `needs the docker CLI at ${DOCKER_CLI}` : !existsSync('/bin/busybox') ? 'needs busybox-static' : undefined;

let d: TestDaemon;

before(async () => {
  if (skip) return;
  d = (await startTestDaemon())!;
  await importBusyboxImage(d, 'busybox:latest');
});

after(async () => {
  if (skip || !d) return;
  const ids = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await d.docker(['rm', '-f', ...ids]);
  await d.stop();
});

function pipeToHead(dockerArgs: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCommand('sh', ['-c', `${DOCKER_CLI} ${dockerArgs} | head -n 1`], { env: d.env, timeoutMs: 60_000 });
}

test('berthd survives an attached client that hangs up mid-output', { skip }, async () => {
  const r = await pipeToHead('run --rm busybox seq 1 2000000');
  assert.equal(r.stdout, '1\n');
  const ping = await d.request('GET', '/_ping');
  assert.equal(ping.status, 200);
  assert.equal((await d.docker(['run', '--rm', 'busybox', 'echo', 'still serving'])).stdout, 'still serving\n');
});

test('berthd survives a logs reader that hangs up mid-output', { skip }, async () => {
  const id = (await d.docker(['run', '-d', 'busybox', 'seq', '1', '500000'])).stdout.trim();
  assert.equal((await d.docker(['wait', id])).stdout.trim(), '0');
  const r = await pipeToHead(`logs ${id}`);
  assert.equal(r.stdout, '1\n');
  assert.equal((await d.request('GET', '/_ping')).status, 200);
  assert.equal((await d.docker(['rm', id])).code, 0);
});
