// A bridge container's network namespace is a file under <exec-root>/netns made before runc
// create (at create, beside the premount of the rootfs); these check that the container really
// runs in it, and that nothing of it outlives the container: after an exit, a removal of a
// never-started container, a daemon stop, or a kill -9 of berthd between an exit and its release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dockerOk } from '../../helpers/daemon.js';
import { startRestartableBerthd } from '../../helpers/restartable-berthd.js';
import { skipReason, startDaemonWithBusybox } from './fixtures.js';

async function mountPoints(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return new Set(text.split('\n').map((l) => l.split(' ')[4] ?? '').filter(Boolean));
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function filesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

test('a bridge container runs in its namespace file, which goes with its exit', { skip: skipReason }, async (t) => {
  const d = await startDaemonWithBusybox(t, 'busybox');
  if (!d) return;
  const id = (await dockerOk(d, ['run', '-d', 'busybox', 'sleep', '30'])).trim();
  const file = join(d.execRoot, 'netns', id);
  assert.ok((await mountPoints()).has(file), 'the namespace file is a mount point while the container runs');
  const pid = Number((await dockerOk(d, ['inspect', '-f', '{{.State.Pid}}', id])).trim());
  assert.equal((await stat(`/proc/${pid}/ns/net`)).ino, (await stat(file)).ino, 'the container process is in that namespace');
  assert.match(await dockerOk(d, ['exec', id, 'ip', '-o', '-4', 'addr', 'show', 'eth0']), /inet 10\.\d+\.\d+\.\d+\//);

  await dockerOk(d, ['stop', '-t', '0', id]);
  await until('the namespace file to be released', async () => !(await mountPoints()).has(file) && !existsSync(file));
  // The next start makes a new one: the restarted container is on the network again.
  await dockerOk(d, ['start', id]);
  assert.match(await dockerOk(d, ['exec', id, 'ip', '-o', '-4', 'addr', 'show', 'eth0']), /inet 10\./);
  await dockerOk(d, ['rm', '-f', id]);
  await until('no namespace file left', async () => (await filesIn(join(d.execRoot, 'netns'))).length === 0);
});

test('a created container is mounted with a namespace file until its removal, and a stopped daemon leaves neither', { skip: skipReason }, async (t) => {
  const d = await startDaemonWithBusybox(t, 'busybox');
  if (!d) return;
  const removed = (await dockerOk(d, ['create', 'busybox', 'true'])).trim();
  const kept = (await dockerOk(d, ['create', '--network', 'none', 'busybox', 'true'])).trim();
  const rootfs = (id: string) => join(d.dataRoot, 'containers', id, 'rootfs');
  const nsFile = (id: string) => join(d.execRoot, 'netns', id);
  await until('both rootfs mounts and the bridge container namespace file', async () => {
    const m = await mountPoints();
    return m.has(rootfs(removed)) && m.has(rootfs(kept)) && m.has(nsFile(removed));
  });
  assert.equal(existsSync(nsFile(kept)), false, 'a --network none container gets no namespace file');
  // cp out of a created container works on that mount.
  await dockerOk(d, ['cp', `${kept}:/bin/busybox`, join(d.root, 'busybox-copy')]);
  assert.ok((await stat(join(d.root, 'busybox-copy'))).size > 0);

  await dockerOk(d, ['rm', removed]);
  const after = await mountPoints();
  assert.equal(after.has(rootfs(removed)), false);
  assert.equal(after.has(nsFile(removed)), false);
  assert.equal(existsSync(nsFile(removed)), false);
  // The harness's stop fails on any mount left under the daemon's root (the kept container's).
  await d.stop();
});

test('a namespace file left by a kill -9 between an exit and its release is released when berthd restarts', { skip: skipReason }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const ran = await d.docker(['run', '-d', 'busybox', 'sleep', '300']);
  assert.equal(ran.code, 0, ran.stderr);
  const id = ran.stdout.trim();
  const file = join(d.root, 'run', 'netns', id);
  const pid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
  await d.kill9();
  process.kill(pid, 'SIGKILL');
  await until('conmon to write the exit file', async () => existsSync(join(d.dataRoot, 'containers', id, 'exits', id)));
  assert.ok((await mountPoints()).has(file), 'nobody released the namespace while berthd was down');
  await d.restart();
  await until('the namespace file to be released', async () => !(await mountPoints()).has(file) && !existsSync(file));
  const st = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]);
  assert.equal(st.stdout.trim(), 'exited 137');
});
