// The real docker CLI against berthd: run (attached, -d, --rm, -t), logs -f, exec, stop,
// rm -f, inspect, ps --filter, wait, and the 125/126/127 exit codes.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_CLI, runCommand, type TestDaemon } from '../helpers/daemon.js';
import { busyboxSuite } from '../helpers/busybox-suite.js';

const suite = busyboxSuite();
const { skip, ok } = suite;

let d: TestDaemon;

before(async () => {
  if (!skip) d = await suite.ready();
});

test('docker run --rm prints the output and leaves no container', { skip }, async () => {
  assert.equal(await ok(['run', '--rm', 'busybox', 'echo', 'hello']), 'hello\n');
  assert.equal((await ok(['ps', '-aq'])).trim(), '');
});

test('docker run passes the exit code, stdout and stderr through', { skip }, async () => {
  const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 42']);
  assert.equal(r.code, 42);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('a missing command exits 127, a non-executable one 126, a bad flag value 125', { skip }, async () => {
  const notFound = await d.docker(['run', '--rm', 'busybox', 'nosuchcmd']);
  assert.equal(notFound.code, 127, notFound.stderr);
  assert.match(notFound.stderr, /executable file not found/);
  const notExec = await d.docker(['run', '--rm', 'busybox', '/etc/passwd']);
  assert.equal(notExec.code, 126, notExec.stderr);
  const badMem = await d.docker(['run', '--rm', '-m', '1k', 'busybox', 'true']);
  assert.equal(badMem.code, 125);
  assert.match(badMem.stderr, /Minimum memory limit allowed is 6MB/);
  const noImage = await d.docker(['run', '--rm', '--pull', 'never', 'nosuchimage', 'true']);
  assert.equal(noImage.code, 125);
});

test('a detached container is listed, logs -f follows it to the end and wait returns its code', { skip }, async () => {
  const id = (await ok(['run', '-d', '--name', 'follow', '-l', 'suite=compat', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo n$i; sleep 0.2; done; exit 3'])).trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  assert.equal(await ok(['logs', '-f', 'follow']), 'n1\nn2\nn3\n');
  assert.equal((await ok(['wait', 'follow'])).trim(), '3');
  assert.equal((await ok(['ps', '-a', '--filter', 'label=suite=compat', '--format', '{{.Names}} {{.State}}'])).trim(), 'follow exited');
  assert.equal((await ok(['ps', '-aq', '--filter', 'exited=3', '--no-trunc'])).trim(), id);
  assert.equal((await ok(['ps', '-q', '--filter', 'name=follow'])).trim(), '');
  assert.equal((await ok(['logs', '--tail', '1', 'follow'])).trim(), 'n3');
  await ok(['rm', 'follow']);
});

test('exec runs in a running container, stop ends it, inspect shows Docker-shaped state', { skip }, async () => {
  await ok(['run', '-d', '--name', 'svc', 'busybox', 'sleep', '300']);
  const info = JSON.parse(await ok(['inspect', 'svc'])) as Array<{ State: { Status: string; Running: boolean; Pid: number }; Name: string; Config: { Hostname: string; Cmd: string[] }; HostConfig: { NetworkMode: string } }>;
  assert.equal(info[0]!.State.Status, 'running');
  assert.ok(info[0]!.State.Pid > 0);
  assert.equal(info[0]!.Name, '/svc');
  assert.deepEqual(info[0]!.Config.Cmd, ['sleep', '300']);
  assert.equal((await ok(['exec', 'svc', 'hostname'])).trim(), info[0]!.Config.Hostname);
  const ex = await d.docker(['exec', 'svc', 'sh', '-c', 'echo e >&2; exit 5']);
  assert.equal(ex.code, 5);
  assert.equal(ex.stderr, 'e\n');
  const missing = await d.docker(['exec', 'svc', 'nosuchcmd']);
  assert.notEqual(missing.code, 0);
  const rmRunning = await d.docker(['rm', 'svc']);
  assert.notEqual(rmRunning.code, 0);
  assert.match(rmRunning.stderr, /stop the container before removing or force remove/);
  await ok(['stop', '-t', '1', 'svc']);
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'svc'])).trim(), 'exited 137', 'sleep as pid 1 ignores SIGTERM: killed after the timeout');
  const execStopped = await d.docker(['exec', 'svc', 'true']);
  assert.notEqual(execStopped.code, 0);
  assert.match(execStopped.stderr, /is not running/);
  await ok(['rm', 'svc']);
});

test('rm -f kills a running container; a name in use is a conflict', { skip }, async () => {
  await ok(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '300']);
  const dup = await d.docker(['run', '-d', '--name', 'busy', 'busybox', 'true']);
  assert.equal(dup.code, 125);
  assert.match(dup.stderr, /The container name "\/busy" is already in use/);
  await ok(['rm', '-f', 'busy']);
  const gone = await d.docker(['inspect', 'busy']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /No such (container|object): busy/);
});

test('a tty container gets a terminal and raw output', { skip }, async () => {
  const out = await ok(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'tty; echo $TERM']);
  assert.equal(out, '/dev/pts/0\r\nxterm\r\n');
});

test('stdin reaches the container with -i, for run and exec', { skip }, async () => {
  assert.equal(await ok(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], 'piped input\n'), 'piped input\ndone\n');
  await ok(['run', '-d', '--name', 'stdin-svc', 'busybox', 'sleep', '300']);
  const r = await d.docker(['exec', '-i', 'stdin-svc', 'sh', '-c', 'read a; echo got $a; exit 2'], { input: 'x\n' });
  assert.equal(r.code, 2);
  assert.equal(r.stdout, 'got x\n');
  await ok(['rm', '-f', 'stdin-svc']);
});

test('a health check turns the container healthy, then unhealthy after retries failures', { skip }, async () => {
  await ok(['run', '-d', '--name', 'hc', '--health-cmd', 'test -e /tmp/ok', '--health-interval', '1s', '--health-retries', '1', 'busybox', 'sh', '-c', 'touch /tmp/ok; sleep 300']);
  const status = async () => (await ok(['inspect', '-f', '{{.State.Health.Status}}', 'hc'])).trim();
  const until = async (want: string) => {
    for (let i = 0; i < 100 && (await status()) !== want; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await status(), want);
  };
  await until('healthy');
  assert.match(await ok(['ps', '--filter', 'health=healthy', '--format', '{{.Names}} {{.Status}}']), /^hc Up .* \(healthy\)$/m);
  await ok(['exec', 'hc', 'rm', '/tmp/ok']);
  await until('unhealthy');
  const log = JSON.parse(await ok(['inspect', '-f', '{{json .State.Health}}', 'hc'])) as { FailingStreak: number; Log: Array<{ ExitCode: number }> };
  assert.ok(log.FailingStreak >= 1);
  assert.ok(log.Log.length <= 5 && log.Log.at(-1)!.ExitCode !== 0);
  await ok(['rm', '-f', 'hc']);
});

test('cp in and out, diff, export and commit work on running and stopped containers', { skip }, async () => {
  await ok(['run', '-d', '--name', 'fs', 'busybox', 'sh', '-c', 'echo hi > /tmp/f; rm /etc/group; sleep 300']);
  for (let i = 0; i < 50 && (await d.docker(['exec', 'fs', 'test', '-e', '/tmp/f'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  const diff = (await ok(['diff', 'fs'])).trim().split('\n');
  assert.ok(diff.includes('A /tmp/f'), diff.join(','));
  assert.ok(diff.includes('D /etc/group'), diff.join(','));
  assert.ok(!diff.includes('A /etc/hosts'));
  const dir = await mkdtemp(join(tmpdir(), 'berth-cp-'));
  try {
    await ok(['cp', 'fs:/tmp/f', dir]);
    assert.equal(await readFile(join(dir, 'f'), 'utf8'), 'hi\n');
    await writeFile(join(dir, 'in.txt'), 'payload\n');
    await ok(['cp', join(dir, 'in.txt'), 'fs:/tmp/']);
    assert.equal(await ok(['exec', 'fs', 'cat', '/tmp/in.txt']), 'payload\n');
    const missing = await d.docker(['cp', 'fs:/nonexist', dir]);
    assert.notEqual(missing.code, 0);
    // Named as the user named it, as dockerd does.
    assert.match(missing.stderr, /Could not find the file \/nonexist in container fs$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const id = (await ok(['commit', '-c', 'CMD ["cat", "/tmp/f"]', 'fs', 'committed:1'])).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  assert.equal(await ok(['run', '--rm', 'committed:1']), 'hi\n');
  await ok(['stop', '-t', '0', 'fs']);
  assert.equal((await ok(['diff', 'fs'])).includes('A /tmp/in.txt'), true);
  const exported = await runCommand('sh', ['-c', `${DOCKER_CLI} export fs | tar -t | grep -c '^./tmp/f$'`], { env: d.env, timeoutMs: 30_000 });
  assert.equal(exported.stdout.trim(), '1');
  await ok(['rm', 'fs']);
  await ok(['rmi', 'committed:1']);
});

test('a command on a bind mount runs, and a missing one there still exits 127', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bind-'));
  try {
    await writeFile(join(dir, 'run.sh'), '#!/bin/sh\necho from-script\n', { mode: 0o755 });
    assert.equal(await ok(['run', '--rm', '-v', `${dir}:/app:ro`, 'busybox', '/app/run.sh']), 'from-script\n');
    const missing = await d.docker(['run', '--rm', '-v', `${dir}:/app`, 'busybox', '/app/nosuch']);
    assert.equal(missing.code, 127, missing.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('top, stats, pause/unpause, rename, update and restart work through the CLI', { skip }, async () => {
  await ok(['run', '-d', '--name', 'ops', '-m', '64m', 'busybox', 'sleep', '300']);
  const top = await ok(['top', 'ops']);
  assert.match(top, /^UID\s+PID\s+PPID/);
  assert.match(top, /sleep 300/);
  const stats = JSON.parse(await ok(['stats', '--no-stream', '--format', '{{json .}}', 'ops'])) as { Name: string; MemUsage: string; PIDs: string };
  assert.equal(stats.Name, 'ops');
  assert.match(stats.MemUsage, /\/ 64MiB$/);
  assert.equal(stats.PIDs, '1');
  await ok(['pause', 'ops']);
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'ops'])).trim(), 'paused true');
  const paused = await d.docker(['exec', 'ops', 'true']);
  assert.notEqual(paused.code, 0);
  assert.match(paused.stderr, /Container ops is paused, unpause the container before exec/);
  await ok(['unpause', 'ops']);
  await ok(['rename', 'ops', 'ops2']);
  assert.equal((await ok(['inspect', '-f', '{{.Name}}', 'ops2'])).trim(), '/ops2');
  await ok(['update', '--memory', '128m', '--memory-swap', '256m', '--restart', 'on-failure:3', 'ops2']);
  assert.equal((await ok(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}', 'ops2'])).trim(), '134217728 on-failure');
  const pidBefore = (await ok(['inspect', '-f', '{{.State.Pid}}', 'ops2'])).trim();
  await ok(['restart', '-t', '0', 'ops2']);
  const after = (await ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'ops2'])).trim().split(' ');
  assert.equal(after[0], 'running');
  assert.notEqual(after[1], pidBefore);
  await ok(['rm', '-f', 'ops2']);
});

test('ps --filter publish matches the host ports of running containers, expose the exposed ports, both with ranges and protocols', { skip }, async () => {
  await ok(['run', '-d', '--name', 'ports', '-p', '18095:80', '--expose', '7000/udp', 'busybox', 'sleep', '300']);
  const names = async (filter: string) => (await ok(['ps', '-a', '--filter', filter, '--format', '{{.Names}}'])).trim();
  // dockerd's list keys `publish` by the host port: the container port alone matches nothing.
  assert.equal(await names('publish=18095'), 'ports');
  assert.equal(await names('publish=18090-18099/tcp'), 'ports');
  assert.equal(await names('publish=80'), '');
  assert.equal(await names('publish=18095/udp'), '');
  assert.equal(await names('expose=80'), 'ports');
  assert.equal(await names('expose=7000/udp'), 'ports');
  assert.equal(await names('expose=6990-7010/udp'), 'ports');
  assert.equal(await names('expose=7000'), '');
  const bad = await d.docker(['ps', '--filter', 'publish=1:2']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /filter for 'publish' should not contain ':'/);
  await ok(['stop', '-t', '0', 'ports']);
  assert.equal(await names('publish=18095'), '', 'a stopped container has no bound ports');
  await ok(['rm', 'ports']);
});

test('a committed layer’s size is what its files take, as docker history and the image’s size show it under dockerd', { skip }, async () => {
  await ok(['run', '--name', 'sized', 'busybox', 'sh', '-c', 'printf abc > /f']);
  await ok(['commit', 'sized', 'sized:1']);
  assert.equal((await ok(['history', '--format', '{{.Size}}', 'sized:1'])).split('\n')[0], '3B');
  const size = async (img: string) => Number((await ok(['image', 'inspect', '-f', '{{.Size}}', img])).trim());
  assert.equal(await size('sized:1'), (await size('busybox')) + 3);
  await ok(['rm', 'sized']);
  await ok(['rmi', 'sized:1']);
});

test('-e VAR passes the CLI’s value of VAR, and leaves VAR unset in the container when the CLI has none, for run and exec', { skip }, async () => {
  const env: NodeJS.ProcessEnv = { ...d.env, BERTH_TEST_SET: 'from-cli' };
  delete env['BERTH_TEST_UNSET'];
  const script = 'echo "$BERTH_TEST_SET|${BERTH_TEST_UNSET-unset}"';
  const run = await d.docker(['run', '--rm', '-e', 'BERTH_TEST_SET', '-e', 'BERTH_TEST_UNSET', 'busybox', 'sh', '-c', script], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'from-cli|unset\n');
  await ok(['run', '-d', '--name', 'envs', '-e', 'BERTH_TEST_UNSET=image-like', 'busybox', 'sleep', '300']);
  const exec = await d.docker(['exec', '-e', 'BERTH_TEST_UNSET', 'envs', 'sh', '-c', script], { env });
  assert.equal(exec.code, 0, exec.stderr);
  assert.equal(exec.stdout, '|unset\n');
  await ok(['rm', '-f', 'envs']);
});

test('logs --details puts the attributes the log options name before each line, and a space alone when they name none', { skip }, async () => {
  await ok(['run', '--name', 'detailed', '--label', 'app=web', '--label', 'other=x', '-e', 'REGION=eu west', '--log-opt', 'labels=app', '--log-opt', 'env=REGION', 'busybox', 'echo', 'hi']);
  assert.equal(await ok(['logs', '--details', 'detailed']), 'REGION=eu+west,app=web hi\n');
  await ok(['run', '--name', 'plain', 'busybox', 'echo', 'hi']);
  assert.equal(await ok(['logs', '--details', 'plain']), ' hi\n');
  await ok(['rm', 'detailed', 'plain']);
});

test('a failed start leaves wait?condition=next-exit waiting, as dockerd does, until a run that exits', { skip }, async () => {
  await ok(['run', '-d', '--name', 'holder', '-p', '18297:80', 'busybox', 'sleep', '300']);
  const id = (await ok(['create', '--name', 'late', '-p', '18297:80', 'busybox', 'sh', '-c', 'exit 4'])).trim();
  const waited = d.request('POST', `/containers/${id}/wait?condition=next-exit`, undefined, { timeoutMs: 30_000 });
  const failed = await d.docker(['start', 'late']);
  assert.notEqual(failed.code, 0);
  assert.match(failed.stderr, /port is already allocated/);
  const early = await Promise.race([waited.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 700))]);
  assert.equal(early, 'waiting');
  await ok(['rm', '-f', 'holder']);
  await ok(['start', 'late']);
  const r = await waited;
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { StatusCode: 4, Error: null });
  await ok(['rm', 'late']);
});
