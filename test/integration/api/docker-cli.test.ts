// The real docker CLI (v28) against a harness berthd: version, info and events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DOCKER_CLI, startTestDaemon } from '../../helpers/daemon.js';

function skipWithoutDocker(t: { skip(msg: string): void }): boolean {
  if (existsSync(DOCKER_CLI)) return false;
  t.skip(`${DOCKER_CLI} is not installed`);
  return true;
}

test('docker version shows berth as the server with its API range', async (t) => {
  if (skipWithoutDocker(t)) return;
  const d = await startTestDaemon(t);
  if (!d) return;
  const r = await d.docker(['version', '--format', '{{json .Server}}']);
  assert.equal(r.code, 0, r.stderr);
  const server = JSON.parse(r.stdout) as {
    Platform: { Name: string };
    Version: string;
    ApiVersion: string;
    MinAPIVersion: string;
    Os: string;
    Components: { Name: string }[];
  };
  assert.equal(server.Platform.Name, 'berth');
  assert.equal(server.ApiVersion, '1.51');
  assert.equal(server.MinAPIVersion, '1.24');
  assert.equal(server.Os, 'linux');
  assert.ok(server.Components.some((c) => c.Name === 'Engine'));
  // The client negotiates down to its own maximum and says which version it uses.
  const plain = await d.docker(['version']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /Server: berth/);
  assert.match(plain.stdout, /API version:\s+1\.51 \(minimum version 1\.24\)/);
});

test('docker info reports the data-root, overlay2, cgroupfs and runc truthfully', async (t) => {
  if (skipWithoutDocker(t)) return;
  const d = await startTestDaemon(t);
  if (!d) return;
  const r = await d.docker(['info', '--format', '{{json .}}']);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(info['DockerRootDir'], d.dataRoot);
  assert.equal(info['Driver'], 'overlay2');
  assert.equal(info['CgroupDriver'], 'cgroupfs');
  assert.ok(['1', '2'].includes(info['CgroupVersion'] as string));
  assert.equal(info['DefaultRuntime'], 'runc');
  assert.equal(info['Images'], 0);
  assert.equal(info['Containers'], 0);
  assert.equal(info['OSType'], 'linux');
  assert.equal((info['Swarm'] as { LocalNodeState: string }).LocalNodeState, 'inactive');
  const plain = await d.docker(['info']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /Storage Driver: overlay2/);
  assert.match(plain.stdout, /Default Runtime: runc/);
  assert.doesNotMatch(plain.stderr, /error/i);
});

test('docker system events with since and until prints past events and returns', async (t) => {
  if (skipWithoutDocker(t)) return;
  const d = await startTestDaemon(t);
  if (!d) return;
  const before = Math.floor(Date.now() / 1000) - 1;
  // Nothing has happened yet: the history is empty and the command ends by itself.
  const r = await d.docker(['system', 'events', '--since', String(before), '--until', String(before + 1)], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const past = await d.docker(['events', '--since', '10m', '--until', '0s', '--format', '{{json .}}'], { timeoutMs: 20_000 });
  assert.equal(past.code, 0, past.stderr);
});

test('docker rejects a filter key that dockerd does not know', async (t) => {
  if (skipWithoutDocker(t)) return;
  const d = await startTestDaemon(t);
  if (!d) return;
  const r = await d.docker(['events', '--since', '1m', '--until', '0s', '--filter', 'bogus=1'], { timeoutMs: 20_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /invalid filter 'bogus'/);
});

test('docker events shows the image events of import, tag and rmi, filtered by type', async (t) => {
  if (skipWithoutDocker(t)) return;
  const d = await startTestDaemon(t);
  if (!d) return;
  const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'berth-events-rootfs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'rootfs/etc'), { recursive: true });
  await writeFile(join(dir, 'rootfs/etc/hello'), 'hi\n');
  const { runCommand } = await import('../../helpers/daemon.js');
  const tar = await runCommand('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']);
  assert.equal(tar.code, 0, tar.stderr);

  const since = (Date.now() / 1000 - 1).toFixed(3);
  for (const args of [['import', join(dir, 'rootfs.tar'), 'evtest:1'], ['tag', 'evtest:1', 'evtest:2'], ['rmi', 'evtest:2']]) {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  }
  const until = (Date.now() / 1000 + 0.001).toFixed(3);
  const r = await d.docker(
    ['events', '--since', since, '--until', until, '--filter', 'type=image', '--format', '{{.Type}} {{.Action}}'],
    { timeoutMs: 20_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const actions = r.stdout.trim().split('\n');
  assert.ok(actions.every((l) => l.startsWith('image ')), r.stdout);
  for (const a of ['import', 'tag', 'untag']) assert.ok(actions.includes(`image ${a}`), `missing "${a}" in:\n${r.stdout}`);
  const info = await d.docker(['info', '--format', '{{.Images}}']);
  assert.equal(info.stdout.trim(), '1');
});
