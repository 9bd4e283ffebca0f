// A berthd that a test can kill -9 and start again on the same data-root, exec-root and
// socket (the shared harness starts one daemon per test and checks for leaks at its stop).
// At the end every container is removed, the daemon stopped with SIGTERM and the root deleted.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { buildBusyboxRootfs } from '../integration/runtime/fixtures.js';
import { DOCKER_CLI, apiRequest, runCommand, type ApiResponse, type DockerResult } from './daemon.js';
import { REPO, entryArgv } from './entry-point.js';

const READY_TIMEOUT_MS = 30_000;

export interface RestartableBerthd {
  root: string;
  dataRoot: string;
  socketPath: string;
  /** The prefix of its bridges, chains, netns and cgroup parent. */
  prefix: string;
  docker(args: string[]): Promise<DockerResult>;
  request(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** SIGKILL of berthd (containers and their conmons stay). */
  kill9(): Promise<void>;
  /** A clean stop (SIGTERM), containers left as they are. */
  stop(): Promise<void>;
  /** Starts berthd again on the same roots; resolves once it answers. */
  restart(): Promise<void>;
  /** Imports a busybox rootfs as `busybox:latest`. */
  importBusybox(): Promise<void>;
}

export async function startRestartableBerthd(t: TestContext): Promise<RestartableBerthd> {
  const root = await mkdtemp(join(tmpdir(), 'berth-restart-'));
  const prefix = `br${randomBytes(2).toString('hex')}`;
  const sock = join(root, 'b.sock');
  const dataRoot = join(root, 'data');
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(root, 'docker-config') };
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async () => {
    stderr = '';
    const argv = [...entryArgv('berthd', 'BERTH_TEST_DAEMON'), '--data-root', dataRoot, '--exec-root', join(root, 'run'), '--host', `unix://${sock}`, '--name-prefix', prefix];
    // Its own process group, like the shared harness: a signal to it never reaches the runner.
    const c = spawn(process.execPath, argv, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    c.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    child = c;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`berthd exited at start: ${stderr}`);
      const up = await apiRequest(sock, 'GET', '/_ping', undefined, { timeoutMs: 1000 }).then((r) => r.status === 200, () => false);
      if (up) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    c.kill('SIGKILL');
    throw new Error(`berthd did not come up: ${stderr}`);
  };
  const stop = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  };
  const docker = (args: string[]) => runCommand(DOCKER_CLI, args, { env, timeoutMs: 60_000 });

  t.after(async () => {
    if (child) {
      const ids = (await docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await docker(['rm', '-f', ...ids]);
      await stop('SIGTERM');
    }
    await rm(root, { recursive: true, force: true });
  });
  await start();
  return {
    root,
    dataRoot,
    socketPath: sock,
    prefix,
    docker,
    request: (method, path, body) => apiRequest(sock, method, path, body),
    kill9: () => stop('SIGKILL'),
    stop: () => stop('SIGTERM'),
    restart: start,
    importBusybox: async () => {
      await buildBusyboxRootfs(join(root, 'rootfs'));
      await runCommand('tar', ['-C', join(root, 'rootfs'), '-cf', join(root, 'bb.tar'), '.'], { timeoutMs: 30_000 });
      const r = await docker(['import', join(root, 'bb.tar'), 'busybox:latest']);
      if (r.code !== 0) throw new Error(`docker import failed: ${r.stderr}`);
    },
  };
}
