// The real docker CLI (v28) against a harness berthd: docker volume create/ls/inspect/rm/prune.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DOCKER_CLI, dockerOk as ok, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';

async function daemonFor(t: Parameters<typeof startTestDaemon>[0]): Promise<TestDaemon | undefined> {
  if (!existsSync(DOCKER_CLI)) {
    t?.skip(`${DOCKER_CLI} is not installed`);
    return undefined;
  }
  return startTestDaemon(t);
}

const lines = (s: string) => s.split('\n').filter(Boolean).sort();

test('docker volume create, ls with filters, inspect and rm work like against dockerd', async (t) => {
  const d = await daemonFor(t);
  if (!d) return;
  assert.equal(await ok(d, ['volume', 'create', '--label', 'app=web', '--label', 'tier', 'webdata']), 'webdata');
  assert.equal(await ok(d, ['volume', 'create', 'dbdata']), 'dbdata');
  const anon = await ok(d, ['volume', 'create']);
  assert.match(anon, /^[0-9a-f]{64}$/);
  // Creating an existing volume again is fine and changes nothing.
  assert.equal(await ok(d, ['volume', 'create', 'dbdata']), 'dbdata');

  assert.deepEqual(lines(await ok(d, ['volume', 'ls', '-q'])), [anon, 'dbdata', 'webdata'].sort());
  assert.deepEqual(lines(await ok(d, ['volume', 'ls', '-q', '--filter', 'label=app=web'])), ['webdata']);
  assert.deepEqual(lines(await ok(d, ['volume', 'ls', '-q', '--filter', 'label=tier'])), ['webdata']);
  assert.deepEqual(lines(await ok(d, ['volume', 'ls', '-q', '--filter', 'name=data'])), ['dbdata', 'webdata']);
  assert.deepEqual(lines(await ok(d, ['volume', 'ls', '-q', '--filter', 'dangling=true'])).length, 3);
  assert.deepEqual(lines(await ok(d, ['volume', 'ls', '-q', '--filter', 'driver=local'])).length, 3);
  const table = await ok(d, ['volume', 'ls']);
  assert.match(table, /DRIVER\s+VOLUME NAME/);
  assert.match(table, /local\s+webdata/);

  const inspected = JSON.parse(await ok(d, ['volume', 'inspect', 'webdata'])) as Record<string, unknown>[];
  assert.equal(inspected.length, 1);
  const v = inspected[0]!;
  assert.equal(v['Name'], 'webdata');
  assert.equal(v['Driver'], 'local');
  assert.equal(v['Scope'], 'local');
  assert.equal(v['Mountpoint'], `${d.dataRoot}/volumes/webdata/_data`);
  assert.deepEqual(v['Labels'], { app: 'web', tier: '' });
  assert.equal(await ok(d, ['volume', 'inspect', '--format', '{{.Name}} {{.Driver}}', 'dbdata']), 'dbdata local');

  const missing = await d.docker(['volume', 'inspect', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no such volume/i);

  assert.equal(await ok(d, ['volume', 'rm', 'webdata']), 'webdata');
  const gone = await d.docker(['volume', 'rm', 'webdata']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /no such volume/i);
  await ok(d, ['volume', 'rm', '-f', 'webdata']);
  assert.deepEqual(lines(await ok(d, ['volume', 'ls', '-q'])), [anon, 'dbdata'].sort());
});

test('docker volume create rejects bad names and driver options with dockerd\'s messages', async (t) => {
  const d = await daemonFor(t);
  if (!d) return;
  const bad = await d.docker(['volume', 'create', 'has/slash']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /"has\/slash" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/);
  const opt = await d.docker(['volume', 'create', '--opt', 'colour=red', 'v2']);
  assert.notEqual(opt.code, 0);
  assert.match(opt.stderr, /invalid option: "colour"/);
  const drv = await d.docker(['volume', 'create', '--driver', 'nfsplugin', 'v3']);
  assert.notEqual(drv.code, 0);
  assert.match(drv.stderr, /plugin "nfsplugin" not found/);
  assert.equal(await ok(d, ['volume', 'ls', '-q']), '');
});

test('docker volume create keeps local driver options and inspect shows them', async (t) => {
  const d = await daemonFor(t);
  if (!d) return;
  await ok(d, ['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'fast']);
  const opts = JSON.parse(await ok(d, ['volume', 'inspect', '--format', '{{json .Options}}', 'fast']));
  assert.deepEqual(opts, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  await ok(d, ['volume', 'rm', 'fast']);
});

test('docker volume prune removes only anonymous volumes unless --all, and honours label filters', async (t) => {
  const d = await daemonFor(t);
  if (!d) return;
  const anon = await ok(d, ['volume', 'create']);
  await ok(d, ['volume', 'create', 'named1']);
  await ok(d, ['volume', 'create', '--label', 'keep=yes', 'named2']);
  const pruned = await ok(d, ['volume', 'prune', '-f']);
  assert.match(pruned, new RegExp(anon));
  assert.match(pruned, /Total reclaimed space/);
  assert.deepEqual(lines(await ok(d, ['volume', 'ls', '-q'])), ['named1', 'named2']);
  const all = await ok(d, ['volume', 'prune', '-f', '--all', '--filter', 'label!=keep=yes']);
  assert.match(all, /named1/);
  assert.deepEqual(lines(await ok(d, ['volume', 'ls', '-q'])), ['named2']);
  await ok(d, ['volume', 'prune', '-af', '--filter', 'label=keep']);
  assert.equal(await ok(d, ['volume', 'ls', '-q']), '');
});

test('docker system df -v lists volumes with their size and links', async (t) => {
  const d = await daemonFor(t);
  if (!d) return;
  await ok(d, ['volume', 'create', 'sized']);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${d.dataRoot}/volumes/sized/_data/blob`, Buffer.alloc(3000, 1));
  const verbose = await ok(d, ['system', 'df', '-v']);
  assert.match(verbose, /Local Volumes space usage:/);
  assert.match(verbose, /sized\s+0\s+3kB/);
  const rows = (await ok(d, ['system', 'df', '--format', '{{json .}}'])).split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  const vols = rows.find((r) => r['Type'] === 'Local Volumes')!;
  assert.equal(vols['TotalCount'], '1');
  assert.equal(vols['Active'], '0');
  assert.equal(vols['Size'], '3kB');
  await ok(d, ['volume', 'rm', 'sized']);
});
