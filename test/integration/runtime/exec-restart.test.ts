// Exec instances are recorded in their container's directory: a berthd restarted after a
// kill -9 still answers `GET /exec/{id}/json` for them, collects the exit code of one that
// was running (whether it ended while berthd was down or after), and drops them with their
// container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCKER_CLI } from '../../helpers/daemon.js';
import { skipReason } from './fixtures.js';
import { startRestartableBerthd, type RestartableBerthd } from '../../helpers/restartable-berthd.js';

const skip = skipReason ?? (existsSync(DOCKER_CLI) ? undefined : `needs the docker CLI at ${DOCKER_CLI}`);
const WAIT_MS = 20_000;

interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  ContainerID: string;
  ProcessConfig: { entrypoint: string; arguments: string[] };
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function createExec(d: RestartableBerthd, container: string, cmd: string[], start = true): Promise<string> {
  const created = await d.request('POST', `/containers/${container}/exec`, { Cmd: cmd, AttachStdout: false, AttachStderr: false });
  assert.equal(created.status, 201, created.text);
  const id = created.json<{ Id: string }>().Id;
  if (start) {
    const started = await d.request('POST', `/exec/${id}/start`, { Detach: true });
    assert.equal(started.status, 200, started.text);
  }
  return id;
}

async function inspectExec(d: RestartableBerthd, id: string): Promise<ExecInspect> {
  const r = await d.request('GET', `/exec/${id}/json`);
  assert.equal(r.status, 200, r.text);
  return r.json<ExecInspect>();
}

async function execIdsOf(d: RestartableBerthd, container: string): Promise<string[]> {
  return (await d.request('GET', `/containers/${container}/json`)).json<{ ExecIDs: string[] | null }>().ExecIDs ?? [];
}

test('exec instances survive a kill -9 of berthd: inspect still answers, running ones get their exit code, and they go with their container', { skip }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const run = await d.docker(['run', '-d', '--network', 'none', '--name', 'host1', 'busybox', 'sleep', '1000']);
  assert.equal(run.code, 0, run.stderr);
  const cid = run.stdout.trim();
  const rootfs = join(d.dataRoot, 'containers', cid, 'rootfs');
  const waitForFile = (name: string) => ['sh', '-c', `while [ ! -e /tmp/${name} ]; do sleep 0.05; done; exit ${name === 'a' ? 3 : 4}`];

  const finished = await createExec(d, cid, ['sh', '-c', 'exit 5']);
  await until('the first exec to end', async () => !(await inspectExec(d, finished)).Running);
  const endsWhileDown = await createExec(d, cid, waitForFile('a'));
  const endsAfter = await createExec(d, cid, waitForFile('b'));
  const notStarted = await createExec(d, cid, ['sh', '-c', 'exit 9'], false);
  const before = await inspectExec(d, endsAfter);
  assert.equal(before.Running, true);
  assert.ok(before.Pid > 0);

  await d.kill9();
  // While berthd is down one exec ends: conmon records its exit code.
  await writeFile(join(rootfs, 'tmp/a'), '');
  await until('conmon to write the exit file', async () => existsSync(join(d.dataRoot, 'containers', cid, 'exec', endsWhileDown.slice(0, 16), 'exits', cid)));
  await d.restart();

  const f = await inspectExec(d, finished);
  assert.deepEqual(
    { running: f.Running, exitCode: f.ExitCode, container: f.ContainerID, entrypoint: f.ProcessConfig.entrypoint, args: f.ProcessConfig.arguments },
    { running: false, exitCode: 5, container: cid, entrypoint: 'sh', args: ['-c', 'exit 5'] },
  );
  const w = await inspectExec(d, endsWhileDown);
  assert.deepEqual({ running: w.Running, exitCode: w.ExitCode }, { running: false, exitCode: 3 });
  const a = await inspectExec(d, endsAfter);
  assert.deepEqual({ running: a.Running, exitCode: a.ExitCode, pid: a.Pid }, { running: true, exitCode: null, pid: before.Pid });
  assert.deepEqual(await execIdsOf(d, cid), [endsAfter]);
  const n = await inspectExec(d, notStarted);
  assert.deepEqual({ running: n.Running, exitCode: n.ExitCode }, { running: false, exitCode: null });

  // The exec still running is watched again: its exit is collected.
  await writeFile(join(rootfs, 'tmp/b'), '');
  await until('the adopted exec to end', async () => !(await inspectExec(d, endsAfter)).Running);
  assert.equal((await inspectExec(d, endsAfter)).ExitCode, 4);
  assert.deepEqual(await execIdsOf(d, cid), []);
  // A created exec can still be started after the restart.
  assert.equal((await d.request('POST', `/exec/${notStarted}/start`, { Detach: true })).status, 200);
  await until('the late exec to end', async () => !(await inspectExec(d, notStarted)).Running);
  assert.equal((await inspectExec(d, notStarted)).ExitCode, 9);

  assert.equal((await d.docker(['rm', '-f', cid])).code, 0);
  for (const id of [finished, endsWhileDown, endsAfter, notStarted]) {
    assert.equal((await d.request('GET', `/exec/${id}/json`)).status, 404, `exec ${id.slice(0, 12)} went with its container`);
  }
});
