// The seeds deploy with `--restart unless-stopped` so the app "survives EC2 reboots". Here the
// reboot is simulated: berthd is killed with -9, then every container process is killed while
// it is down; a new berthd on the same roots must bring back the `always` and
// `unless-stopped` containers, and leave alone the one with no policy and the one a user
// stopped with `docker stop`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerCliSkipReason } from '../helpers/busybox-suite.js';
import { startRestartableBerthd } from '../helpers/restartable-berthd.js';

const skip = dockerCliSkipReason();

test('after a simulated reboot, unless-stopped and always containers run again; no-policy and docker-stopped ones stay exited', { skip }, async (t) => {
  const b = await startRestartableBerthd(t);
  const ok = async (args: string[]) => {
    const r = await b.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  await b.importBusybox();
  const loop = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.1; done"];
  await ok(['run', '-d', '--network', 'none', '--name', 'jira-agent', '--restart', 'unless-stopped', 'busybox', ...loop]);
  await ok(['run', '-d', '--network', 'none', '--name', 'always', '--restart', 'always', 'busybox', ...loop]);
  await ok(['run', '-d', '--network', 'none', '--name', 'plain', 'busybox', ...loop]);
  await ok(['run', '-d', '--network', 'none', '--name', 'stopped-by-user', '--restart', 'unless-stopped', 'busybox', ...loop]);
  await ok(['stop', '-t', '5', 'stopped-by-user']);
  const pids = new Map<string, number>();
  for (const n of ['jira-agent', 'always', 'plain']) pids.set(n, Number(await ok(['inspect', '-f', '{{.State.Pid}}', n])));

  // "Reboot": the daemon dies first, then every container process.
  await b.kill9();
  for (const pid of pids.values()) process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 500));

  await b.restart();
  const state = async (n: string) => ok(['inspect', '-f', '{{.State.Status}}', n]);
  for (let i = 0; i < 100 && ((await state('jira-agent')) !== 'running' || (await state('always')) !== 'running'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await state('jira-agent'), 'running');
  assert.equal(await state('always'), 'running');
  assert.notEqual(Number(await ok(['inspect', '-f', '{{.State.Pid}}', 'jira-agent'])), pids.get('jira-agent'), 'a new process');
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'plain']), 'exited 137');
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'stopped-by-user']), 'exited 0');
  assert.deepEqual((await ok(['ps', '--format', '{{.Names}}'])).split('\n').sort(), ['always', 'jira-agent']);
});
