import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultContainerSpec, type ContainerSpec } from '../../../src/runtime/index.js';
import { canRun, collectLogs, runtimeEnv, skipReason } from './fixtures.js';
import { readdir, readFile } from 'node:fs/promises';

function spec(cmd: string[], mut: (s: ContainerSpec) => void = () => {}): ContainerSpec {
  const s = defaultContainerSpec('busybox');
  s.cmd = cmd;
  s.host.networkMode = 'none';
  mut(s);
  return s;
}

test('a container runs, its output lands in the log with stdout and stderr apart, and its exit code is kept', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv();
  t.after(() => env.cleanup());
  const { id } = await env.service.create(spec(['sh', '-c', 'echo hello; echo oops >&2; exit 3']));
  const exited = env.service.wait(id, 'next-exit');
  await env.service.start(id);
  assert.deepEqual(await exited, { exitCode: 3, error: undefined });
  const c = env.service.get(id);
  assert.equal(c.state.status, 'exited');
  assert.equal(c.state.exitCode, 3);
  assert.deepEqual(await collectLogs(env.service.logs(id, { follow: false })), { stdout: 'hello\n', stderr: 'oops\n' });
  await env.service.remove(id);
  assert.equal(env.service.find(id), undefined);
});

test('the container sees Docker defaults: hostname is the short id, user resolution, env, /.dockerenv', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv();
  t.after(() => env.cleanup());
  const { id } = await env.service.create(spec(['sh', '-c', 'hostname; id -u; echo $HOSTNAME; cat /etc/hostname; test -f /.dockerenv && echo dockerenv'], (s) => (s.user = 'nobody')));
  const exited = env.service.wait(id, 'next-exit');
  await env.service.start(id);
  assert.equal((await exited).exitCode, 0);
  const out = (await collectLogs(env.service.logs(id, { follow: false }))).stdout.split('\n');
  assert.deepEqual(out.slice(0, 5), [id.slice(0, 12), '65534', id.slice(0, 12), id.slice(0, 12), 'dockerenv']);
  // dockerd keeps its markers in an init layer: they are no change of the container's.
  assert.deepEqual(await env.service.changes(id), []);
});

test('stop sends SIGTERM, then SIGKILL after the timeout, and the status becomes exited', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv();
  t.after(() => env.cleanup());
  const { id } = await env.service.create(spec(['sh', '-c', "trap '' TERM; while true; do sleep 1; done"]));
  await env.service.start(id);
  assert.equal(env.service.get(id).state.status, 'running');
  await env.service.stop(id, { timeoutS: 1 });
  assert.equal(env.service.get(id).state.status, 'exited');
  assert.equal(env.service.get(id).state.exitCode, 137);
  await assert.rejects(env.service.stop(id), (e: Error & { kind?: string }) => e.kind === 'not-modified');
});

test('a missing command fails the start with the not-found wording and leaves no mount and no monitor', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv();
  t.after(() => env.cleanup());
  const { id } = await env.service.create(spec(['nosuchcmd']));
  await assert.rejects(env.service.start(id), /executable file not found in \$PATH/);
  const { id: id2 } = await env.service.create(spec(['/notexec']));
  await assert.rejects(env.service.start(id2), /permission denied/);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  assert.ok(!mounts.includes(env.root), 'no mount left under the test root');
  assert.equal(env.service.get(id).state.status, 'created');
  // conmon starts before the preparations and waits for them: a failed one is killed, not left waiting.
  const monitors: string[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    // argv[0] is conmon's absolute path (found at restore) or its bare name.
    if (/^(\S*\/)?conmon\0/.test(cmd) && cmd.includes(env.root)) monitors.push(pid);
  }
  assert.deepEqual(monitors, []);
});

test('a restarted service sees a running container as running and one that ended meanwhile with its exit code', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv();
  t.after(() => env.cleanup());
  const { id: longId } = await env.service.create(spec(['sleep', '30']));
  const { id: shortId } = await env.service.create(spec(['sh', '-c', 'read x < /dev/null; sleep 0.3; exit 7']));
  await env.service.start(longId);
  await env.service.start(shortId);
  // The "daemon" goes away: watchers stop, conmon keeps the containers.
  await env.service.close();
  await new Promise((r) => setTimeout(r, 800));
  const again = await env.reopen();
  assert.equal(again.get(longId).state.status, 'running');
  assert.equal(again.get(shortId).state.status, 'exited');
  assert.equal(again.get(shortId).state.exitCode, 7);
  const exited = again.wait(longId, 'next-exit');
  await again.kill(longId, 'KILL');
  assert.equal((await exited).exitCode, 137);
});

test('names conflict with Docker wording and containers are found by name and id prefix', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv();
  t.after(() => env.cleanup());
  const { id } = await env.service.create(spec(['true']), { name: 'web' });
  await assert.rejects(env.service.create(spec(['true']), { name: 'web' }), new RegExp(`The container name "/web" is already in use by container "${id}"`));
  assert.equal(env.service.get('/web').id, id);
  assert.equal(env.service.get(id.slice(0, 6)).id, id);
  await assert.rejects(env.service.create(spec(['true'], (s) => (s.image = 'nope'))), /No such image: nope/);
});

void canRun;

test('on-failure:2 restarts a failing container twice with backoff, then leaves it exited; events carry the exit code', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv();
  t.after(() => env.cleanup());
  const events: string[] = [];
  const unsub = env.events.subscribe((e) => events.push(e.action === 'die' ? `die:${e.actor.attributes.exitCode}` : e.action));
  t.after(unsub);
  const { id } = await env.service.create(spec(['sh', '-c', 'exit 4'], (s) => (s.host.restartPolicy = { name: 'on-failure', maximumRetryCount: 2 })));
  await env.service.start(id);
  const c = env.service.get(id);
  for (let i = 0; i < 100 && events.filter((e) => e.startsWith('die')).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(c.state.restartCount, 2);
  assert.equal(c.state.status, 'exited');
  assert.equal(c.state.exitCode, 4);
  assert.deepEqual(events.filter((e) => e !== 'restart'), ['create', 'start', 'die:4', 'start', 'die:4', 'start', 'die:4']);
});

test('pause freezes and unpause thaws; exec runs inside and reports its exit code', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv();
  t.after(() => env.cleanup());
  const { ExecManager } = await import('../../../src/runtime/index.js');
  const execs = new ExecManager(env.service);
  const { id } = await env.service.create(spec(['sleep', '30']));
  await env.service.start(id);
  await env.service.pause(id);
  assert.equal(env.service.get(id).state.status, 'paused');
  await assert.rejects(() => execs.create(id, { cmd: ['true'], env: [], user: '', workingDir: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true, privileged: false, detachKeys: '' }), /is paused/);
  await env.service.unpause(id);
  const s = await execs.create(id, { cmd: ['sh', '-c', 'echo out; echo err >&2; exit 6'], env: ['X=1'], user: 'nobody', workingDir: '/tmp', tty: false, attachStdin: false, attachStdout: true, attachStderr: true, privileged: false, detachKeys: '' });
  const run = await execs.start(s.id);
  assert.deepEqual(await collectLogs(run.output), { stdout: 'out\n', stderr: 'err\n' });
  assert.equal(await run.exitCode, 6);
  assert.equal(execs.get(s.id).exitCode, 6);
});
