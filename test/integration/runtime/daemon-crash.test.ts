// A kill -9 of berthd leaves containers running and logging under conmon; a restarted
// berthd on the same roots shows them with the right state, and the exit codes of those
// that ended while it was down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DOCKER_CLI } from '../../helpers/daemon.js';
import { startRestartableBerthd } from '../../helpers/restartable-berthd.js';
import { skipReason } from './fixtures.js';

const skip = skipReason ?? (existsSync(DOCKER_CLI) ? undefined : `needs the docker CLI at ${DOCKER_CLI}`);

test('containers survive a kill -9 of berthd and a restarted berthd reports their state and exit codes', { skip }, async (t) => {
  const b = await startRestartableBerthd(t);
  const docker = b.docker;
  await b.importBusybox();
  await docker(['run', '-d', '--network', 'none', '--name', 'long', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done']);
  await docker(['run', '-d', '--network', 'none', '--name', 'short', 'busybox', 'sh', '-c', 'sleep 1; exit 7']);

  await b.kill9();
  // While berthd is down the container keeps writing its log, and `short` exits.
  await new Promise((r) => setTimeout(r, 1500));

  await b.restart();
  assert.equal((await docker(['inspect', '-f', '{{.State.Status}}', 'long'])).stdout.trim(), 'running');
  assert.equal((await docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'short'])).stdout.trim(), 'exited 7');
  const ticks = (await docker(['logs', 'long'])).stdout.trim().split('\n');
  assert.ok(ticks.length >= 15, `the log kept growing while berthd was down (${ticks.length} lines)`);
  assert.equal((await docker(['wait', 'short'])).stdout.trim(), '7');
  assert.equal((await docker(['stop', '-t', '1', 'long'])).code, 0);
  assert.match((await docker(['inspect', '-f', '{{.State.Status}}', 'long'])).stdout.trim(), /^exited$/);
});

async function cgroupDirsWith(prefix: string): Promise<string[]> {
  const base = '/sys/fs/cgroup';
  const out: string[] = [];
  for (const r of [base, ...(await readdir(base)).map((c) => join(base, c))]) {
    if (existsSync(join(r, prefix))) out.push(join(r, prefix));
  }
  return out;
}

test('berthd removes empty cgroups a crash left under its parent at start-up, and its parent at a clean stop', { skip }, async (t) => {
  const b = await startRestartableBerthd(t);
  const planted = join('/sys/fs/cgroup/memory', b.prefix, randomBytes(32).toString('hex'));
  t.after(async () => {
    await rmdir(planted).catch(() => undefined);
    await rmdir(join('/sys/fs/cgroup/memory', b.prefix)).catch(() => undefined);
  });
  await b.kill9();
  // What a container that ended while berthd was down, with nobody to delete it, leaves behind.
  await mkdir(planted, { recursive: true });
  await b.restart();
  // /_ping answers before the engine has loaded; the clean-up is part of that load.
  assert.equal((await b.request('GET', '/containers/json')).status, 200);
  assert.equal(existsSync(planted), false, 'the empty container cgroup is still there after start-up');
  await b.stop();
  assert.deepEqual(await cgroupDirsWith(b.prefix), []);
});
