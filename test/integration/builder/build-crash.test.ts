// berthd killed (-9) while a RUN step sits on the default bridge: the next berthd on the same
// roots removes the build container, gives the step's endpoint and address back, unmounts its
// network namespace, and a clean stop then leaves no link, mount or network record behind.
// Its own daemon lifecycle (the harness has no restart on the same roots).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DOCKER_CLI, apiRequest, isRoot, runCommand } from '../../helpers/daemon.js';
import { REPO, entryArgv } from '../../helpers/entry-point.js';
import { importBusybox } from '../build/fixtures.js';
import { bridgeGateway, serveHttp } from './http-server.js';

async function startBerthd(root: string, prefix: string): Promise<ChildProcess> {
  const sock = join(root, 'b.sock');
  const args = [...entryArgv('berthd', 'BERTH_TEST_DAEMON'), '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--host', `unix://${sock}`, '--name-prefix', prefix];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  for (let i = 0; i < 600; i++) {
    // /_ping answers before the engine (and the builder's start-up cleanup) is loaded.
    if (await apiRequest(sock, 'GET', '/containers/json', undefined, { timeoutMs: 1000 }).then((r) => r.status === 200, () => false)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('berthd did not come up');
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

async function mountsUnder(root: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(root + '/'));
}

test('a kill -9 of berthd during a RUN on the bridge is cleaned up by the next start', { skip: isRoot() ? undefined : 'needs root' }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-buildcrash-'));
  const prefix = `bk${randomBytes(2).toString('hex')}`;
  const env = { ...process.env, DOCKER_HOST: `unix://${join(root, 'b.sock')}`, DOCKER_CONFIG: join(root, 'docker-config'), DOCKER_BUILDKIT: '0' };
  const docker = (args: string[]) => runCommand(DOCKER_CLI, args, { env, timeoutMs: 60_000 });
  let daemon: ChildProcess | undefined = await startBerthd(root, prefix);
  t.after(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await exited(daemon);
    }
    if ((await mountsUnder(root)).length === 0) await rm(root, { recursive: true, force: true });
  });
  const importer = { docker: (args: string[], o?: { input?: string | Buffer }) => runCommand(DOCKER_CLI, args, { env, timeoutMs: 60_000, ...(o?.input ? { input: o.input } : {}) }) };
  await importBusybox(importer as Parameters<typeof importBusybox>[0]);
  const gateway = await bridgeGateway(docker);
  let reached: () => void = () => undefined;
  const stepRunning = new Promise<void>((r) => (reached = r));
  const { port } = await serveHttp(t, gateway, (_req, res) => {
    reached();
    res.statusCode = 503;
    res.end('wait\n');
  });
  const ctx = join(root, 'ctx');
  await import('node:fs/promises').then(async (fs) => {
    await fs.mkdir(ctx);
    await fs.writeFile(join(ctx, 'Dockerfile'), `FROM busybox\nRUN until wget -qO- http://${gateway}:${port}/; do sleep 0.2; done\n`);
  });
  const build = runCommand(DOCKER_CLI, ['build', ctx], { env, timeoutMs: 60_000 });
  await stepRunning;
  const bridgeRuns = await readdir(join(root, 'data', 'builder', 'bridge-runs'));
  assert.equal(bridgeRuns.length, 1, 'the connected run is noted on disk');
  const recordsHolding = async (id: string) => {
    const dir = join(root, 'data', 'networks');
    const out: string[] = [];
    for (const f of (await readdir(dir)).filter((n) => n.endsWith('.json'))) if ((await readFile(join(dir, f), 'utf8')).includes(id)) out.push(f);
    return out;
  };
  assert.equal((await recordsHolding(bridgeRuns[0]!)).length, 1, 'the default bridge holds the step endpoint');
  daemon.kill('SIGKILL');
  await exited(daemon);
  await build.catch(() => undefined); // the client sees the connection end
  assert.ok((await mountsUnder(join(root, 'run'))).some((m) => m.endsWith('/netns')), 'the step namespace outlived the kill');

  daemon = await startBerthd(root, prefix);
  assert.deepEqual(await readdir(join(root, 'data', 'builder', 'bridge-runs')), []);
  assert.deepEqual((await mountsUnder(join(root, 'run'))).filter((m) => m.includes('/oneshot/')), []);
  assert.deepEqual(await recordsHolding(bridgeRuns[0]!), [], 'the step endpoint and its address are given back');
  daemon.kill('SIGTERM');
  await exited(daemon);
  daemon = undefined;
  const links = await runCommand('ip', ['-o', 'link', 'show'], { timeoutMs: 10_000 });
  assert.deepEqual(links.stdout.split('\n').filter((l) => l.includes(prefix)), []);
  for (const table of ['filter', 'nat']) {
    const rules = await runCommand('iptables', ['-w', '-t', table, '-S'], { timeoutMs: 10_000 });
    assert.deepEqual(rules.stdout.split('\n').filter((l) => l.includes(prefix)), [], `iptables ${table}`);
  }
  assert.deepEqual(await mountsUnder(root), []);
});
