// Requests sent the moment berthd's socket appears (before its engine has loaded) get their real
// answer: the routes registered later are waited for, never answered with a 404.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { apiRequest, isRoot } from '../../helpers/daemon.js';
import { REPO, entryArgv } from '../../helpers/entry-point.js';

test('requests sent right after the socket appears are answered by the engine, not with 404', { skip: isRoot() ? false : 'needs root: the engine sets up iptables and cgroups' }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-early-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const sock = join(root, 'berth.sock');
  const child = spawn(process.execPath, [
    ...entryArgv('berthd', 'BERTH_TEST_DAEMON'),
    '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--host', `unix://${sock}`,
    '--name-prefix', `bt${randomBytes(3).toString('hex')}`, '--log-level', 'error',
  ], { cwd: REPO, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  for (let i = 0; !existsSync(sock); i++) {
    assert.ok(i < 2000 && child.exitCode === null, 'berthd did not create its socket');
    await new Promise((r) => setTimeout(r, 5));
  }
  const [containers, images, volumes, networks, missing, unknown] = await Promise.all([
    apiRequest(sock, 'GET', '/containers/json', undefined),
    apiRequest(sock, 'GET', '/v1.45/images/json', undefined),
    apiRequest(sock, 'GET', '/volumes', undefined),
    apiRequest(sock, 'GET', '/networks', undefined),
    apiRequest(sock, 'GET', '/containers/nosuch/json', undefined),
    apiRequest(sock, 'GET', '/no/such/route', undefined),
  ]);
  assert.equal(containers.status, 200, containers.text);
  assert.deepEqual(containers.json(), []);
  assert.equal(images.status, 200, images.text);
  assert.equal(volumes.status, 200, volumes.text);
  assert.equal(networks.status, 200, networks.text);
  assert.equal(missing.status, 404);
  assert.match(missing.text, /No such container: nosuch/);
  assert.equal(unknown.status, 404);
  child.kill('SIGTERM');
  await exited;
  assert.equal(child.exitCode, 0);
});
