// Signals reach a container the way `runc kill` would deliver them, whether berthd sends them to
// the init process itself (running, own pid namespace) or through runc (paused, --pid host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dockerOk } from '../../helpers/daemon.js';
import { skipReason, startDaemonWithBusybox } from './fixtures.js';

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Host processes whose command line is exactly `argv`. */
async function processesRunning(argv: string[]): Promise<number[]> {
  const wanted = argv.join('\0') + '\0';
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline === wanted) pids.push(Number(name));
  }
  return pids;
}

test('kill -s delivers the signal to the init process, which keeps running when it traps it', { skip: skipReason }, async (t) => {
  const d = await startDaemonWithBusybox(t, 'busybox');
  if (!d) return;
  const id = (await dockerOk(d, ['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'trap "echo got-usr1" USR1; echo ready; while true; do sleep 0.05; done'])).trim();
  await until('the trap to be set', async () => (await d.docker(['logs', id])).stdout.includes('ready'));
  await dockerOk(d, ['kill', '-s', 'USR1', id]);
  await until('the trap to run', async () => (await d.docker(['logs', id])).stdout.includes('got-usr1'));
  assert.equal((await dockerOk(d, ['inspect', '-f', '{{.State.Status}}', id])).trim(), 'running');
  await dockerOk(d, ['kill', id]);
  assert.equal((await dockerOk(d, ['wait', id])).trim(), '137');
});

test('rm -f removes a paused container and one whose processes share the host pid namespace', { skip: skipReason }, async (t) => {
  const d = await startDaemonWithBusybox(t, 'busybox');
  if (!d) return;
  const paused = (await dockerOk(d, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '300'])).trim();
  await dockerOk(d, ['pause', paused]);
  // With --pid host the init's death does not take the background sleep along: it must be killed as one of the cgroup's processes.
  const marker = ['sleep', String(3000 + (process.pid % 997))];
  const shared = (await dockerOk(d, ['run', '-d', '--network', 'none', '--pid', 'host', 'busybox', 'sh', '-c', `${marker.join(' ')} & exec sleep 300`])).trim();
  await until('the background sleep to run', async () => (await processesRunning(marker)).length === 1);
  const [background] = await processesRunning(marker);

  await dockerOk(d, ['rm', '-f', paused, shared]);
  assert.equal((await dockerOk(d, ['ps', '-aq'])).trim(), '');
  // Gone, not only dead: a zombie is still in the container's cgroup until its new parent reaps it.
  await until('the background sleep to be gone', async () => !existsSync(`/proc/${background}`));
});
