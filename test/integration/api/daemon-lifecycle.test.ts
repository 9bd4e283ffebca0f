// startDaemon's start-up and shutdown rules, in-process on temp dirs. The engine sets up
// iptables and cgroups when it loads, so these need root.
import { test as nodeTest, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type DaemonConfig } from '../../../src/api/daemon.js';
import { configureLogging } from '../../../src/util/index.js';
import { apiRequest } from '../../helpers/daemon.js';

configureLogging({ level: 'error', write: () => undefined });

const skip = process.getuid?.() !== 0 ? 'needs root: the daemon\'s engine sets up iptables and cgroups' : false;
const test = (name: string, fn: (t: TestContext) => Promise<void>) => nodeTest(name, { skip }, fn);

async function tempConfig(t: { after(fn: () => Promise<void>): void }): Promise<DaemonConfig & { root: string; sock: string }> {
  const root = await mkdtemp(join(tmpdir(), 'berth-lifecycle-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const sock = join(root, 'sock', 'berth.sock');
  return { root, sock, dataRoot: join(root, 'data'), execRoot: join(root, 'run'), host: `unix://${sock}` };
}

test('the socket is created with mode 0660 and removed on close', async (t) => {
  const cfg = await tempConfig(t);
  const d = await startDaemon(cfg);
  assert.equal((await stat(cfg.sock)).mode & 0o777, 0o660);
  assert.equal((await readFile(join(cfg.execRoot, 'berthd.pid'), 'utf8')).trim(), String(process.pid));
  await d.close();
  await assert.rejects(stat(cfg.sock), { code: 'ENOENT' });
  await assert.rejects(stat(join(cfg.execRoot, 'berthd.pid')), { code: 'ENOENT' });
});

test('a stale socket file left by a crash is replaced', async (t) => {
  const cfg = await tempConfig(t);
  await mkdir(join(cfg.root, 'sock'), { recursive: true });
  // A listener killed with SIGKILL leaves its socket file behind, as a crashed berthd would.
  const { spawnSync } = await import('node:child_process');
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(cfg.sock)}, () => process.kill(process.pid, 'SIGKILL'))`], { timeout: 10_000 });
  assert.ok((await stat(cfg.sock)).isSocket());
  const d = await startDaemon(cfg);
  t.after(() => d.close());
  assert.equal((await apiRequest(cfg.sock, 'GET', '/_ping', undefined)).status, 200);
});

test('a socket another process listens on is refused, not stolen', async (t) => {
  const cfg = await tempConfig(t);
  await mkdir(join(cfg.root, 'sock'), { recursive: true });
  const other = createServer((c) => c.end());
  await new Promise<void>((r) => other.listen(cfg.sock, r));
  t.after(() => new Promise<void>((r) => other.close(() => r())));
  await assert.rejects(startDaemon(cfg), /another daemon is listening/);
  // The failed start left no pidfile behind.
  await assert.rejects(stat(join(cfg.execRoot, 'berthd.pid')), { code: 'ENOENT' });
});

test('a pidfile naming a dead process is taken over', async (t) => {
  const cfg = await tempConfig(t);
  await mkdir(cfg.execRoot, { recursive: true });
  await writeFile(join(cfg.execRoot, 'berthd.pid'), '999999999\n');
  const d = await startDaemon(cfg);
  await d.close();
});

test('a pidfile naming another live berth process refuses the start', async (t) => {
  const cfg = await tempConfig(t);
  const { spawn } = await import('node:child_process');
  // A live process whose command line says berth, standing in for another berthd.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'berthd'], { stdio: 'ignore' });
  t.after(() => void other.kill('SIGKILL'));
  await mkdir(cfg.execRoot, { recursive: true });
  await writeFile(join(cfg.execRoot, 'berthd.pid'), `${other.pid}\n`);
  await assert.rejects(startDaemon(cfg), /another berthd \(pid \d+\) holds the pidfile/);
});

const badConfigs: [name: string, patch: Partial<DaemonConfig>, error: RegExp][] = [
  ['a relative data-root', { dataRoot: 'data' }, /invalid data-root "data": expected an absolute path/],
  ['a tcp host as the main socket', { host: 'tcp://127.0.0.1:2375' }, /expected unix:\/\/\/path/],
  ['a host without a scheme', { host: '/run/x.sock' }, /expected unix:\/\/ or tcp:\/\//],
  ['a name prefix with capitals', { namePrefix: 'BT1' }, /invalid name prefix "BT1"/],
];
for (const [name, patch, error] of badConfigs) {
  test(`${name} is refused before anything is created`, async (t) => {
    const cfg = await tempConfig(t);
    await assert.rejects(startDaemon({ ...cfg, ...patch }), error);
    await assert.rejects(stat(cfg.dataRoot), { code: 'ENOENT' });
  });
}

test('closing while an event stream is open ends the stream and returns promptly', async (t) => {
  const cfg = await tempConfig(t);
  const d = await startDaemon(cfg);
  const { request } = await import('node:http');
  const ended = new Promise<number>((resolve, reject) => {
    request({ socketPath: cfg.sock, path: '/events' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    }).end();
  });
  await new Promise((r) => setTimeout(r, 50));
  await d.close();
  assert.equal(await ended, 200);
});

test('the daemon can listen on loopback TCP as well', async (t) => {
  const cfg = await tempConfig(t);
  const d = await startDaemon({ ...cfg, tcpHost: 'tcp://127.0.0.1:0' });
  t.after(() => d.close());
  const tcp = d.addresses.find((a) => a.startsWith('tcp://'));
  assert.ok(tcp);
  const res = await fetch(`http://${tcp.slice('tcp://'.length)}/_ping`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'OK');
});

test('a start whose engine fails to load rejects and frees the socket and pidfile', async (t) => {
  const cfg = await tempConfig(t);
  // A file where the content store's directory must go makes opening the storage fail.
  await mkdir(cfg.dataRoot, { recursive: true });
  await writeFile(join(cfg.dataRoot, 'content'), 'not a directory');
  await assert.rejects(startDaemon(cfg));
  await assert.rejects(stat(cfg.sock), { code: 'ENOENT' });
  await assert.rejects(stat(join(cfg.execRoot, 'berthd.pid')), { code: 'ENOENT' });
});
