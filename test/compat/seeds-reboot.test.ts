// The seeds deploy with `--restart unless-stopped` so the app "survives EC2 reboots". Here the
// reboot is simulated: berthd is killed with -9, then every container process is killed while
// it is down; a new berthd on the same roots must bring back the `always` and
// `unless-stopped` containers, and leave alone the one with no policy and the one a user
// stopped with `docker stop`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_CLI, apiRequest, isRoot, runCommand } from '../helpers/daemon.js';
import { REPO, entryArgv } from '../helpers/entry-point.js';
import { importBusyboxImage } from '../integration/runtime/fixtures.js';

const skip = !isRoot()
  ? 'needs root'
  : !existsSync(DOCKER_CLI)
    ? `needs the docker CLI at ${DOCKER_CLI}`
    : !existsSync('/bin/busybox')
      ? 'needs busybox-static'
      : undefined;

async function startBerthd(root: string, prefix: string): Promise<ChildProcess> {
  const sock = join(root, 'b.sock');
  const args = [...entryArgv('berthd', 'BERTH_TEST_DAEMON'), '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--host', `unix://${sock}`, '--name-prefix', prefix];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) break;
    const up = await apiRequest(sock, 'GET', '/_ping', undefined, { timeoutMs: 1000 }).then((r) => r.status === 200, () => false);
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`berthd did not come up: ${stderr}`);
}

test('after a simulated reboot, unless-stopped and always containers run again; no-policy and docker-stopped ones stay exited', { skip }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-seeds-reboot-'));
  const prefix = `bs${randomBytes(3).toString('hex')}`;
  const env = { ...process.env, DOCKER_HOST: `unix://${join(root, 'b.sock')}`, DOCKER_CONFIG: join(root, 'docker-config') };
  const docker = (args: string[]) => runCommand(DOCKER_CLI, args, { env, timeoutMs: 60_000 });
  const ok = async (args: string[]) => {
    const r = await docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
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
  await importBusyboxImage({ docker }, 'busybox:latest');
  const loop = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.1; done"];
  await ok(['run', '-d', '--network', 'none', '--name', 'jira-agent', '--restart', 'unless-stopped', 'busybox', ...loop]);
  await ok(['run', '-d', '--network', 'none', '--name', 'always', '--restart', 'always', 'busybox', ...loop]);
  await ok(['run', '-d', '--network', 'none', '--name', 'plain', 'busybox', ...loop]);
  await ok(['run', '-d', '--network', 'none', '--name', 'stopped-by-user', '--restart', 'unless-stopped', 'busybox', ...loop]);
  await ok(['stop', '-t', '5', 'stopped-by-user']);
  const pids = new Map<string, number>();
  for (const n of ['jira-agent', 'always', 'plain']) pids.set(n, Number(await ok(['inspect', '-f', '{{.State.Pid}}', n])));

  // "Reboot": the daemon dies first, then every container process.
  daemon.kill('SIGKILL');
  await new Promise((r) => daemon!.once('exit', r));
  daemon = undefined;
  for (const pid of pids.values()) process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 500));

  daemon = await startBerthd(root, prefix);
  const state = async (n: string) => ok(['inspect', '-f', '{{.State.Status}}', n]);
  for (let i = 0; i < 100 && ((await state('jira-agent')) !== 'running' || (await state('always')) !== 'running'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await state('jira-agent'), 'running');
  assert.equal(await state('always'), 'running');
  assert.notEqual(Number(await ok(['inspect', '-f', '{{.State.Pid}}', 'jira-agent'])), pids.get('jira-agent'), 'a new process');
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'plain']), 'exited 137');
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'stopped-by-user']), 'exited 0');
  assert.deepEqual((await ok(['ps', '--format', '{{.Names}}'])).split('\n').sort(), ['always', 'jira-agent']);
});
