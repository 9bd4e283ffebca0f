// Test harness: a real berthd subprocess on its own temp data-root, exec-root and socket,
// with a random `bt<rand>` name prefix, and a leak check when it stops (STYLE.md §10):
// no mounts under the temp root, no processes still using it, no links/netns/iptables
// chains carrying the prefix. Needs root; without it the test is skipped with the reason.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { REPO, entryArgv } from './entry-point.js';

export const DOCKER_CLI = '/usr/local/bin/docker';
const LOG_TAIL_BYTES = 64 * 1024;

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

export interface TestDaemon {
  socketPath: string;
  dataRoot: string;
  execRoot: string;
  /** The temp directory holding data-root, exec-root, socket and the docker config. */
  root: string;
  namePrefix: string;
  pid: number;
  /** process.env plus DOCKER_HOST=unix://… and a private DOCKER_CONFIG. */
  env: NodeJS.ProcessEnv;
  docker(args: string[], opts?: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<DockerResult>;
  request(method: string, path: string, body?: unknown, opts?: { headers?: Record<string, string>; timeoutMs?: number }): Promise<ApiResponse>;
  /** The tail of berthd's stdout/stderr. */
  logs(): string;
  /** SIGTERM (SIGKILL after a grace), then the leak check; throws listing what leaked. */
  stop(): Promise<void>;
}

export interface StartTestDaemonOptions {
  /** Extra berthd flags. */
  args?: string[];
  logLevel?: string;
  /** Milliseconds to wait for /_ping. */
  readyTimeoutMs?: number;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Skips `t` when not root; returns true when the test may go on. */
export function requireRoot(t: TestContext): boolean {
  if (isRoot()) return true;
  t.skip('needs root: berthd mounts overlays, runs runc and edits iptables');
  return false;
}

export function apiRequest(
  socketPath: string,
  method: string,
  path: string,
  body: unknown,
  opts: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ApiResponse> {
  let payload: Buffer | undefined;
  const headers: Record<string, string> = { ...opts.headers };
  if (body !== undefined) {
    if (Buffer.isBuffer(body)) payload = body;
    else if (typeof body === 'string') payload = Buffer.from(body);
    else {
      payload = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] ??= 'application/json';
    }
    headers['Content-Length'] = String(payload.length);
  }
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest({ socketPath, method, path, headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        resolvePromise({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: buf,
          text,
          json: <T>() => JSON.parse(text) as T,
        });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Runs a command to completion with a timeout (the harness's own processes, not berth's). */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<DockerResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (signal === 'SIGKILL' && code === null) {
        reject(new Error(`${cmd} ${args.join(' ')} timed out after ${opts.timeoutMs ?? 60_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolvePromise({ code: code ?? 128, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
  });
}

/** Runs the docker CLI against `d` and returns its trimmed stdout; a non-zero exit fails the test. */
export async function dockerOk(d: TestDaemon, args: string[]): Promise<string> {
  const r = await d.docker(args, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise(true);
    });
  });
}

async function mountsUnder(root: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((mp): mp is string => mp !== undefined && (mp === root || mp.startsWith(root + '/')));
}

/**
 * Processes (other than us) that belong to this daemon: their command line mentions the
 * temp root (conmon, runc, berthd), or they sit in a cgroup under `/<prefix>/` (container
 * processes, whose command lines say nothing about berth).
 */
async function processesUsing(root: string, prefix: string): Promise<{ pid: number; cmd: string }[]> {
  const found: { pid: number; cmd: string }[] = [];
  const inOurCgroup = new RegExp(`:/${prefix}(/|$)`, 'm');
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const [cmd, cgroup] = await Promise.all([
      readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => ''),
      readFile(`/proc/${name}/cgroup`, 'utf8').catch(() => ''),
    ]);
    if (cmd.includes(root) || inOurCgroup.test(cgroup)) found.push({ pid: Number(name), cmd: cmd.replace(/\0/g, ' ').trim() });
  }
  return found;
}

function linesWith(cmd: string, args: string[], needle: string): string[] {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter((l) => l.toLowerCase().includes(needle.toLowerCase()));
}

function leakedNetworkObjects(prefix: string): string[] {
  const out: string[] = [];
  for (const l of linesWith('ip', ['-o', 'link', 'show'], prefix)) out.push(`link: ${l.trim().slice(0, 120)}`);
  if (existsSync('/run/netns')) {
    for (const n of readdirSync('/run/netns')) if (n.startsWith(prefix)) out.push(`netns: ${n}`);
  }
  for (const table of ['filter', 'nat']) {
    for (const l of linesWith('iptables', ['-w', '-t', table, '-S'], prefix)) out.push(`iptables ${table}: ${l.trim()}`);
  }
  return out;
}

/**
 * Cgroup directories named after the prefix (`/sys/fs/cgroup/<controller>/<prefix>`, and the
 * unified one). Empty ones are removed; the caller reports them.
 */
async function removeCgroupDirs(prefix: string): Promise<{ removed: string[]; kept: string[] }> {
  const removed: string[] = [];
  const kept: string[] = [];
  const base = '/sys/fs/cgroup';
  const roots = [base, ...(await readdir(base).catch(() => [] as string[])).map((c) => join(base, c))];
  for (const r of roots) {
    const dir = join(r, prefix);
    if (!existsSync(dir)) continue;
    // Children first: rmdir only removes empty cgroups, so a busy one stays and is reported.
    for (const child of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (child.isDirectory()) await rmdir(join(dir, child.name)).catch(() => undefined);
    }
    await rmdir(dir).then(() => removed.push(dir), () => kept.push(dir));
  }
  return { removed, kept };
}

export async function startTestDaemon(t?: TestContext, opts: StartTestDaemonOptions = {}): Promise<TestDaemon | undefined> {
  if (!isRoot()) {
    if (t) {
      t.skip('needs root: berthd mounts overlays, runs runc and edits iptables');
      return undefined;
    }
    throw new Error('startTestDaemon needs root');
  }
  const root = await mkdtemp(join(tmpdir(), 'berth-test-'));
  const dataRoot = join(root, 'data');
  const execRoot = join(root, 'run');
  const socketPath = join(root, 'berth.sock');
  const namePrefix = `bt${randomBytes(3).toString('hex')}`;
  const args = [
    ...entryArgv('berthd', 'BERTH_TEST_DAEMON'),
    '--data-root', dataRoot,
    '--exec-root', execRoot,
    '--host', `unix://${socketPath}`,
    '--name-prefix', namePrefix,
    '--log-level', opts.logLevel ?? process.env['BERTH_TEST_LOG_LEVEL'] ?? 'info',
    ...(opts.args ?? []),
  ];
  // Its own process group, so a SIGKILL of the group cannot hit the test runner.
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let logTail = '';
  const onLog = (c: Buffer) => {
    logTail = (logTail + c.toString('utf8')).slice(-LOG_TAIL_BYTES);
  };
  child.stdout!.on('data', onLog);
  child.stderr!.on('data', onLog);
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await rm(root, { recursive: true, force: true });
      throw new Error(`berthd exited before it was ready (${child.exitCode ?? child.signalCode}):\n${logTail}`);
    }
    const ok = await apiRequest(socketPath, 'GET', '/_ping', undefined, { timeoutMs: 1_000 }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
      await rm(root, { recursive: true, force: true });
      throw new Error(`berthd did not answer /_ping within ${opts.readyTimeoutMs ?? 20_000} ms:\n${logTail}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    const problems: string[] = [];
    child.kill('SIGTERM');
    if (!(await waitExit(child, 15_000))) {
      problems.push('berthd did not exit within 15 s of SIGTERM');
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone between the check and the kill.
      }
      await waitExit(child, 5_000);
    } else if (child.exitCode !== 0) {
      problems.push(`berthd exited with ${child.exitCode ?? child.signalCode} after SIGTERM`);
    }
    for (const p of await processesUsing(root, namePrefix)) {
      problems.push(`process left running: ${p.pid} ${p.cmd.slice(0, 160)}`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // It exited on its own meanwhile.
      }
    }
    const mounts = await mountsUnder(root);
    for (const mp of mounts) problems.push(`mount left: ${mp}`);
    // Deepest first, lazily, so a busy mount cannot keep the rest from going.
    for (const mp of [...mounts].reverse()) spawnSync('umount', ['-l', mp], { timeout: 10_000 });
    const leakedNet = leakedNetworkObjects(namePrefix);
    problems.push(...leakedNet);
    // Reported, then removed as mounts and cgroups are: a leaked bridge keeps its subnet's route,
    // and the next daemon that brings the same subnet back (the default one) loses its ports.
    if (leakedNet.length) {
      const { BridgeDriver } = await import('../../src/network/index.js');
      await new BridgeDriver({ prefix: namePrefix }).cleanupAll().catch(() => undefined);
    }
    // berthd removes its empty cgroups at close: any directory left is a leak (removed here if empty).
    const cgroups = await removeCgroupDirs(namePrefix);
    for (const dir of cgroups.kept) problems.push(`cgroup left with processes in it: ${dir}`);
    for (const dir of cgroups.removed) problems.push(`empty cgroup left by berthd: ${dir}`);
    if ((await mountsUnder(root)).length === 0) await rm(root, { recursive: true, force: true });
    else problems.push(`temp root ${root} kept: mounts could not be removed`);
    if (problems.length) throw new Error(`berthd test daemon leaked:\n  ${problems.join('\n  ')}\nlog tail:\n${logTail}`);
  };

  const daemon: TestDaemon = {
    socketPath,
    dataRoot,
    execRoot,
    root,
    namePrefix,
    pid: child.pid!,
    env,
    docker: (dockerArgs, o = {}) =>
      runCommand(DOCKER_CLI, dockerArgs, { env: { ...env, ...o.env }, input: o.input, timeoutMs: o.timeoutMs ?? 60_000 }),
    request: (method, path, body, o) => apiRequest(socketPath, method, path, body, o),
    logs: () => logTail,
    stop: () => (stopped ??= stop()),
  };
  t?.after(() => daemon.stop());
  return daemon;
}
