// A reader that hangs up mid-stream (`docker run … | head -1`, `docker logs … | head -1`) ends
// that stream only: berthd keeps serving, and the container is still cleaned up.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DOCKER_CLI, runCommand, type TestDaemon } from '../helpers/daemon.js';
import { busyboxSuite } from '../helpers/busybox-suite.js';

const suite = busyboxSuite();
const { skip } = suite;

let d: TestDaemon;

before(async () => {
  if (!skip) d = await suite.ready();
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
