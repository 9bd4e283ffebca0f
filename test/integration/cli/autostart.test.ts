// The CLI's on-demand start of berthd: detached, pidfile and log in place, one stderr
// line, and a daemon that answers. Uses a temp socket (the default one is never touched).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { isRoot } from '../../helpers/daemon.js';
import { ensureDaemon } from '../../../src/cli/daemon-autostart.js';
import { berth } from './berth-cli.js';

const REPO = resolve(import.meta.dirname, '../../..');

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test('ensureDaemon starts berthd detached with a pidfile and a log, and says so once', { skip: isRoot() ? false : 'needs root: berthd runs as root' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-autostart-'));
  const sock = join(dir, 'b.sock');
  let pid: number | undefined;
  t.after(async () => {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone: nothing to stop.
      }
      if (!(await waitGone(pid, 10_000))) process.kill(pid, 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });
  let said = '';
  const stderr = new Writable({ write: (c: Buffer, _e, cb) => { said += c.toString(); cb(); } });
  pid = await ensureDaemon({
    host: `unix://${sock}`,
    dataRoot: join(dir, 'data'),
    execRoot: join(dir, 'run'),
    berthd: { cmd: process.execPath, args: ['--import', 'tsx', join(REPO, 'src/cli/berthd.ts')] },
    stderr,
  });
  assert.ok(pid && pid > 0);
  assert.equal(said, `berth: started the daemon (pid ${pid}, log ${join(dir, 'data', 'berthd.log')})\n`);
  assert.equal(readFileSync(join(dir, 'run', 'berthd.pid'), 'utf8').trim(), String(pid));
  assert.ok(existsSync(join(dir, 'data', 'berthd.log')));
  assert.ok(!existsSync(join(dir, 'data', 'berthd.start.lock')));
  const r = await berth(sock, ['images', '-q']);
  assert.equal(r.code, 0, r.stderr);
  // A second call finds the daemon answering and starts nothing.
  assert.equal(await ensureDaemon({ host: `unix://${sock}`, dataRoot: join(dir, 'data'), execRoot: join(dir, 'run'), stderr }), undefined);
});

test('berth daemon runs berthd in the foreground until SIGTERM', { skip: isRoot() ? false : 'needs root: berthd runs as root' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-daemon-cmd-'));
  const sock = join(dir, 'd.sock');
  const { spawn } = await import('node:child_process');
  const { berthArgv } = await import('./berth-cli.js');
  const child = spawn(process.execPath, [...berthArgv(), '-H', `unix://${sock}`, '--data-root', join(dir, 'data'), 'daemon', '--exec-root', join(dir, 'run')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  let up = false;
  for (let i = 0; i < 200 && !up; i++) {
    up = (await berth(sock, ['info', '--format', '{{.DockerRootDir}}'])).stdout.trim() === join(dir, 'data');
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(up, `the daemon never answered: ${stderr}`);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.ok(!existsSync(sock), 'the socket is removed on a clean stop');
});
