// The files of a container around its answers: create writes its record and snapshot without
// waiting for the disk and syncs them after (container-create.ts); a removal takes the
// snapshot and directory out of their names with one rename each and deletes the files after
// its answer (container-remove.ts). A kill -9 right after a create must lose nothing, one
// between a rename and the delete must leave nothing once berthd is back, and a clean stop
// must wait for the deletes it began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCKER_CLI, runCommand } from '../../helpers/daemon.js';
import { startRestartableBerthd } from '../../helpers/restartable-berthd.js';
import { TEMP_PREFIX, tempName } from '../../../src/storage/layout.js';
import { skipReason } from './fixtures.js';

const skip = skipReason ?? (existsSync(DOCKER_CLI) ? undefined : `needs the docker CLI at ${DOCKER_CLI}`);

/** Entries of the snapshots and containers directories that are not a live snapshot or container. */
async function leftovers(dataRoot: string): Promise<string[]> {
  const snaps = await readdir(join(dataRoot, 'snapshots')).catch(() => [] as string[]);
  const ctrs = await readdir(join(dataRoot, 'containers')).catch(() => [] as string[]);
  return [...snaps.filter((n) => n.startsWith(TEMP_PREFIX)).map((n) => `snapshots/${n}`), ...ctrs.filter((n) => n.startsWith('.')).map((n) => `containers/${n}`)];
}

test('a removal cut by a kill -9 after its renames leaves nothing once berthd restarts, and the container cut before its record went is removable again', { skip }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const ids: Record<string, string> = {};
  for (const name of ['cut-after-both', 'cut-after-snapshot']) {
    const r = await d.docker(['run', '--network', 'none', '--name', name, 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    ids[name] = (await d.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
  }
  await d.kill9();
  // What a removal leaves at each point after the unmount: the snapshot renamed away, then the
  // container's directory too (the record is gone then), the files not deleted yet.
  const containers = join(d.dataRoot, 'containers');
  const snapshots = join(d.dataRoot, 'snapshots');
  const keyOf = async (id: string) => (JSON.parse(await readFile(join(containers, id, 'config.json'), 'utf8')) as { rootfsKey: string }).rootfsKey;
  for (const id of Object.values(ids)) await rename(join(snapshots, await keyOf(id)), join(snapshots, tempName()));
  await rename(join(containers, ids['cut-after-both']!), join(containers, `.removed-${ids['cut-after-both']}-0badf00d`));
  assert.equal((await leftovers(d.dataRoot)).length, 3);
  await d.restart();

  // The engine (and with it the start-up sweep) is loaded once the socket is up: a list waits for it.
  const names = (await d.docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
  assert.deepEqual(names, ['cut-after-snapshot']);
  assert.deepEqual(await leftovers(d.dataRoot), []);
  const rm = await d.docker(['rm', 'cut-after-snapshot']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(existsSync(join(containers, ids['cut-after-snapshot']!)), false);
  // Both names are free again.
  for (const name of Object.keys(ids)) {
    const r = await d.docker(['run', '--rm', '--network', 'none', '--name', name, 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
  }
  // Their files are deleted after the answer; a clean stop waits for that.
  await d.stop();
  assert.deepEqual(await leftovers(d.dataRoot), []);
});

test('a kill -9 after a removal and before the release of its run leaves no runc state, cgroup or mount once berthd restarts', { skip }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const r = await d.docker(['run', '-d', '--network', 'none', 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const pid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
  await d.kill9();
  // What a removal leaves before its release: the process gone (and its exit recorded), the
  // rootfs unmounted, snapshot and directory renamed away; runc's state and the cgroups still there.
  process.kill(pid, 'SIGKILL');
  const containers = join(d.dataRoot, 'containers');
  const deadline = Date.now() + 20_000;
  while (!existsSync(join(containers, id, 'exits', id))) {
    assert.ok(Date.now() < deadline, 'conmon did not write the exit file');
    await new Promise((res) => setTimeout(res, 25));
  }
  const rootfs = join(containers, id, 'rootfs');
  const um = await runCommand('umount', [rootfs], { timeoutMs: 30_000 });
  assert.equal(um.code, 0, um.stderr);
  const key = (JSON.parse(await readFile(join(containers, id, 'config.json'), 'utf8')) as { rootfsKey: string }).rootfsKey;
  await rename(join(d.dataRoot, 'snapshots', key), join(d.dataRoot, 'snapshots', tempName()));
  await rename(join(containers, id), join(containers, `.removed-${id}-0badf00d`));
  const runcState = join(d.root, 'run', 'runc', id);
  assert.equal(existsSync(runcState), true);
  await d.restart();

  assert.deepEqual((await d.docker(['ps', '-aq'])).stdout.trim(), '');
  assert.equal(existsSync(runcState), false);
  const cgroups = (await readdir('/sys/fs/cgroup')).map((c) => join('/sys/fs/cgroup', c, d.prefix, id));
  assert.deepEqual(cgroups.filter((c) => existsSync(c)), []);
  assert.equal((await readFile('/proc/self/mountinfo', 'utf8')).includes(id), false);
  assert.deepEqual(await leftovers(d.dataRoot), []);
});

test('an exit whose state the disk refuses still answers docker wait, and a restarted berthd records it', { skip }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const r = await d.docker(['run', '-d', '--network', 'none', '--name', 'refused', 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const pid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
  // Immutable: no file can be made or renamed in the container's directory (root included).
  const dir = join(d.dataRoot, 'containers', id);
  assert.equal((await runCommand('chattr', ['+i', dir], { timeoutMs: 10_000 })).code, 0);
  try {
    const waited = d.docker(['wait', 'refused']);
    process.kill(pid, 'SIGKILL');
    const w = await waited;
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout.trim(), '137');
  } finally {
    // Before anything else: an immutable directory would outlive the test's root.
    assert.equal((await runCommand('chattr', ['-i', dir], { timeoutMs: 10_000 })).code, 0);
  }
  await d.kill9();
  await d.restart();
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'refused'])).stdout.trim(), 'exited 137');
});

test('an auto-removal the disk refuses answers wait?condition=removed with the error, and the container stays removable', { skip }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const created = await d.docker(['create', '--rm', '--network', 'none', '--name', 'stuck', 'busybox', 'true']);
  assert.equal(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  // Immutable: the container's directory cannot be renamed away (root included).
  const containers = join(d.dataRoot, 'containers');
  assert.equal((await runCommand('chattr', ['+i', containers], { timeoutMs: 10_000 })).code, 0);
  try {
    const waited = d.request('POST', `/containers/${id}/wait?condition=removed`);
    assert.equal((await d.request('POST', `/containers/${id}/start`)).status, 204);
    const w = await waited;
    assert.equal(w.status, 200);
    const body = w.json<{ StatusCode: number; Error: { Message: string } | null }>();
    assert.equal(body.StatusCode, 0);
    assert.match(body.Error?.Message ?? '', /^removal of container [0-9a-f]{12} failed: /);
  } finally {
    // Before anything else: an immutable directory would outlive the test's root.
    assert.equal((await runCommand('chattr', ['-i', containers], { timeoutMs: 10_000 })).code, 0);
  }
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'stuck'])).stdout.trim(), 'exited');
  const rm = await d.docker(['rm', 'stuck']);
  assert.equal(rm.code, 0, rm.stderr);
  await d.stop();
  assert.deepEqual(await leftovers(d.dataRoot), []);
  assert.deepEqual((await readdir(containers)).filter((n) => !n.startsWith('.')), []);
});

test('a clean stop right after removals waits for their files to be deleted', { skip }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const ids: string[] = [];
  // Writable layers of many files: their deletion outlasts the rest of the stop.
  for (let i = 0; i < 3; i++) {
    const r = await d.docker(['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'mkdir /many && cd /many && seq 20000 | xargs touch && sleep 300']);
    assert.equal(r.code, 0, r.stderr);
    ids.push(r.stdout.trim());
  }
  for (const id of ids) {
    const deadline = Date.now() + 20_000;
    while ((await d.docker(['exec', id, 'sh', '-c', 'ls /many | wc -l'])).stdout.trim() !== '20000') {
      assert.ok(Date.now() < deadline, 'the container did not write its files');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const answers = await Promise.all(ids.map((id) => d.request('DELETE', `/containers/${id}?force=1`)));
  assert.deepEqual(answers.map((a) => a.status), ids.map(() => 204));
  await d.stop();
  assert.deepEqual(await leftovers(d.dataRoot), []);
  assert.deepEqual(await readdir(join(d.dataRoot, 'snapshots')), []);
});

test('a container created right before a kill -9 of berthd is there after the restart and runs', { skip }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const r = await d.docker(['create', '--network', 'none', '--name', 'just-made', 'busybox', 'echo', 'made it']);
  assert.equal(r.code, 0, r.stderr);
  await d.kill9();
  await d.restart();
  const started = await d.docker(['start', '-a', 'just-made']);
  assert.equal(started.code, 0, started.stderr);
  assert.equal(started.stdout, 'made it\n');
});

test('rm -f removes a running and a paused container at once: gone from the API, names free, no mount or monitor left', { skip }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const ids: string[] = [];
  for (const name of ['runs', 'frozen']) {
    const r = await d.docker(['run', '-d', '--network', 'none', '--name', name, 'busybox', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    ids.push(r.stdout.trim());
  }
  assert.equal((await d.docker(['pause', 'frozen'])).code, 0);
  const rm = await d.docker(['rm', '-f', 'runs', 'frozen']);
  assert.equal(rm.code, 0, rm.stderr);
  for (const id of ids) assert.equal((await d.request('GET', `/containers/${id}/json`)).status, 404);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  assert.equal(mounts.includes(d.root), false, 'a mount under the daemon root is left');
  const ps = await readdir('/proc');
  const cmdlines = await Promise.all(ps.filter((p) => /^\d+$/.test(p)).map((p) => readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')));
  assert.deepEqual(cmdlines.filter((c) => ids.some((id) => c.includes(id))), []);
  for (const name of ['runs', 'frozen']) {
    const r = await d.docker(['run', '--rm', '--network', 'none', '--name', name, 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
  }
});
