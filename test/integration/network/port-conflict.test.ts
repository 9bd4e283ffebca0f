// A published port that is already taken: `docker run -p X:80` a second time fails with
// Docker's "port is already allocated" and leaves nothing of the second start behind — no
// process, no rootfs mount, no cgroup, no veth, no iptables rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../../src/util/index.js';
import { DOCKER_CLI, dockerOk as ok, startTestDaemon } from '../../helpers/daemon.js';
import { importBusyboxImage } from '../runtime/fixtures.js';

const IMAGE = 'porttest:1';

async function cgroupDirsOf(id: string): Promise<string[]> {
  const found: string[] = [];
  const base = '/sys/fs/cgroup';
  for (const r of [base, ...(await readdir(base)).map((c) => join(base, c))]) {
    for (const sub of await readdir(r).catch(() => [] as string[])) {
      if (existsSync(join(r, sub, id))) found.push(join(r, sub, id));
    }
  }
  return found;
}

async function linesWith(cmd: string, args: string[], needle: string): Promise<string[]> {
  const { stdout } = await run(cmd, args, { timeoutMs: 10_000 });
  return stdout.split('\n').filter((l) => l.includes(needle));
}

test('a second docker run on a taken host port fails with port is already allocated and leaves nothing running', async (t) => {
  if (!existsSync(DOCKER_CLI) || !existsSync('/bin/busybox')) return t.skip(`needs ${DOCKER_CLI} and /bin/busybox`);
  const d = await startTestDaemon(t);
  if (!d) return;
  await importBusyboxImage(d, IMAGE);
  try {
    // All addresses (`-p X:80`), as users write it; the random host port keeps the test off fixed ports.
    await ok(d, ['run', '-d', '--name', 'first', '-p', '80', IMAGE, 'sleep', '300']);
    const port = /:(\d+)$/.exec((await ok(d, ['port', 'first', '80'])).split('\n')[0]!)![1]!;
    const linksBefore = await linesWith('ip', ['-o', 'link', 'show'], d.namePrefix);
    const natBefore = await linesWith('iptables', ['-w', '-t', 'nat', '-S'], d.namePrefix);
    // A long sleep: should the refused container's process start anyway, it stays visible.
    const second = await d.docker(['run', '-d', '--name', 'second', '-p', `${port}:80`, IMAGE, 'sleep', '300']);
    assert.equal(second.code, 125, second.stderr);
    assert.match(second.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`));
    const info = JSON.parse(await ok(d, ['inspect', 'second'])) as Array<{ Id: string; State: { Status: string; Running: boolean; Pid: number; ExitCode: number } }>;
    const c = info[0]!;
    assert.equal(c.State.Running, false);
    assert.equal(c.State.Pid, 0);
    assert.notEqual(c.State.Status, 'running');
    // Nothing of the second container in the kernel: processes, mount, cgroup, veth, rules.
    const procs: string[] = [];
    for (const p of await readdir('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      const cg = await readFile(`/proc/${p}/cgroup`, 'utf8').catch(() => '');
      if (cg.includes(c.Id)) procs.push(p);
    }
    assert.deepEqual(procs, [], 'processes of the refused container');
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(c.Id));
    assert.deepEqual(mounts, [], 'mounts of the refused container');
    assert.deepEqual(await cgroupDirsOf(c.Id), [], 'cgroups of the refused container');
    assert.deepEqual(await linesWith('ip', ['-o', 'link', 'show'], d.namePrefix).then((l) => l.length), linksBefore.length, 'links');
    assert.deepEqual(await linesWith('iptables', ['-w', '-t', 'nat', '-S'], d.namePrefix), natBefore, 'nat rules');
    // The first container still answers on the port, and the second can start once it is free.
    await ok(d, ['rm', '-f', 'first']);
    await ok(d, ['start', 'second']);
    assert.equal(await ok(d, ['inspect', '--format', '{{.State.Running}}', 'second']), 'true');
  } finally {
    await d.docker(['rm', '-f', 'first', 'second']);
  }
});

test('the API answers a start on a taken port with a 500 and Docker\'s message', async (t) => {
  if (!existsSync(DOCKER_CLI) || !existsSync('/bin/busybox')) return t.skip(`needs ${DOCKER_CLI} and /bin/busybox`);
  const d = await startTestDaemon(t);
  if (!d) return;
  await importBusyboxImage(d, IMAGE);
  try {
    await ok(d, ['run', '-d', '--name', 'pa', '-p', '127.0.0.1::80', IMAGE, 'sleep', '300']);
    const port = /:(\d+)$/.exec(await ok(d, ['port', 'pa', '80']))![1]!;
    await ok(d, ['create', '--name', 'pb', '-p', `127.0.0.1:${port}:80`, IMAGE, 'sleep', '300']);
    const r = await d.request('POST', '/containers/pb/start');
    assert.equal(r.status, 500, r.text);
    assert.match(r.json<{ message: string }>().message, /^driver failed programming external connectivity on endpoint pb \([0-9a-f]{64}\): Bind for 127\.0\.0\.1:\d+ failed: port is already allocated$/);
  } finally {
    await d.docker(['rm', '-f', 'pa', 'pb']);
  }
});
