// A kill -9 of berthd leaves containers running and logging under conmon; a restarted
// berthd on the same roots shows them with the right state, and the exit codes of those
// that ended while it was down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DOCKER_CLI, apiRequest, runCommand } from '../../helpers/daemon.js';
import { buildBusyboxRootfs, skipReason } from './fixtures.js';

const REPO = resolve(import.meta.dirname, '../../..');
const skip = skipReason ?? (existsSync(DOCKER_CLI) ? undefined : `needs the docker CLI at ${DOCKER_CLI}`);

async function startBerthd(root: string, prefix: string): Promise<ChildProcess> {
  const sock = join(root, 'b.sock');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/berthd.ts', '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--host', `unix://${sock}`, '--name-prefix', prefix],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  for (let i = 0; i < 600; i++) {
    const up = await apiRequest(sock, 'GET', '/containers/json', undefined, { timeoutMs: 1000 }).then((r) => r.status === 200, () => false);
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`berthd did not come up: ${stderr}`);
}

test('containers survive a kill -9 of berthd and a restarted berthd reports their state and exit codes', { skip }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-crash-'));
  const prefix = `bc${randomBytes(2).toString('hex')}`;
  const env = { ...process.env, DOCKER_HOST: `unix://${join(root, 'b.sock')}`, DOCKER_CONFIG: join(root, 'docker-config') };
  const docker = (args: string[]) => runCommand(DOCKER_CLI, args, { env, timeoutMs: 60_000 });
  let daemon: ChildProcess | undefined;
  t.after(async () => {
    if (daemon) {
      const ids = (await docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await docker(['rm', '-f', ...ids]);
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon!.once('exit', r));
    }
    await rm(root, { recursive: true, force: true });
  });
  daemon = await startBerthd(root, prefix);
  await buildBusyboxRootfs(join(root, 'rootfs'));
  await runCommand('tar', ['-C', join(root, 'rootfs'), '-cf', join(root, 'bb.tar'), '.'], { timeoutMs: 30_000 });
  assert.equal((await docker(['import', join(root, 'bb.tar'), 'busybox:latest'])).code, 0);
  await docker(['run', '-d', '--network', 'none', '--name', 'long', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done']);
  await docker(['run', '-d', '--network', 'none', '--name', 'short', 'busybox', 'sh', '-c', 'sleep 1; exit 7']);

  daemon.kill('SIGKILL');
  await new Promise((r) => daemon!.once('exit', r));
  daemon = undefined;
  // While berthd is down the container keeps writing its log, and `short` exits.
  await new Promise((r) => setTimeout(r, 1500));

  daemon = await startBerthd(root, prefix);
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
  const root = await mkdtemp(join(tmpdir(), 'berth-crash-'));
  const prefix = `bc${randomBytes(2).toString('hex')}`;
  const planted = join('/sys/fs/cgroup/memory', prefix, randomBytes(32).toString('hex'));
  let daemon: ChildProcess | undefined;
  t.after(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon!.once('exit', r));
    }
    await rmdir(planted).catch(() => undefined);
    await rmdir(join('/sys/fs/cgroup/memory', prefix)).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });
  daemon = await startBerthd(root, prefix);
  daemon.kill('SIGKILL');
  await new Promise((r) => daemon!.once('exit', r));
  // What a container that ended while berthd was down, with nobody to delete it, leaves behind.
  await mkdir(planted, { recursive: true });
  daemon = await startBerthd(root, prefix);
  assert.equal(existsSync(planted), false, 'the empty container cgroup is still there after start-up');
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon!.once('exit', r));
  assert.deepEqual(await cgroupDirsWith(prefix), []);
});
