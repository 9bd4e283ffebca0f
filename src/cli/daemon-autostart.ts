// Starts berthd on demand when the CLI targets the default socket and nothing answers
// there (DESIGN.md "Pieces and how they start"). Never used for any other host.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BerthError, spawnDetached } from '../util/index.js';
import { DEFAULT_EXEC_ROOT } from './context.js';

const READY_TIMEOUT_MS = 15_000;
const POLL_MS = 50;
/** A start lock older than this was left by a CLI that died mid-start. */
const STALE_LOCK_MS = 30_000;

export interface AutostartOptions {
  host: string;
  dataRoot: string;
  logLevel?: string;
  /** Runtime state of the started daemon (default /run/berth); its pidfile lives here. */
  execRoot?: string;
  /** The berthd to run (default: the one beside this berth). */
  berthd?: { cmd: string; args: string[] };
  stderr: NodeJS.WritableStream;
}

declare const __BERTH_DAEMON_NODE_FLAGS__: string[] | undefined;
/** Node flags of the bundled berthd (scripts/build.mjs); none when run from source. */
const DAEMON_NODE_FLAGS: string[] = typeof __BERTH_DAEMON_NODE_FLAGS__ === 'undefined' ? [] : __BERTH_DAEMON_NODE_FLAGS__;

/** Where berthd's entry is: beside the running berth (dist/berthd.js, or src/cli/berthd.ts under tsx). */
export function berthdCommand(): { cmd: string; args: string[] } {
  const self = process.argv[1] ? realpathSync(process.argv[1]) : '';
  const dir = dirname(self);
  for (const name of ['berthd.js', 'berthd.ts']) {
    const p = join(dir, name);
    if (existsSync(p)) return { cmd: process.execPath, args: [...process.execArgv, ...DAEMON_NODE_FLAGS, p] };
  }
  throw new BerthError('internal', `cannot start the daemon: no berthd beside ${self || 'berth'}`);
}

function socketPathOf(host: string): string {
  return host.slice('unix://'.length);
}

async function pingOnce(socketPath: string): Promise<boolean> {
  const { request } = await import('node:http');
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: the process is gone (EPERM cannot happen: we are its parent's user).
    return false;
  }
}

function logTail(path: string): string {
  try {
    const text = readFileSync(path, 'utf8').trim().split('\n').slice(-3).join(' | ');
    return text ? `: ${text}` : '';
  } catch {
    // No log yet: the daemon died before writing one; the caller's message stands alone.
    return '';
  }
}

/** Takes the start lock (exclusive create); false when another CLI is starting the daemon. */
function tryLock(lockPath: string): boolean {
  try {
    closeSync(openSync(lockPath, 'wx', 0o600));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      if (Date.now() - statSync(lockPath).mtimeMs > STALE_LOCK_MS) {
        rmSync(lockPath, { force: true });
        return tryLock(lockPath);
      }
    } catch {
      // The lock vanished between the two calls: the other CLI finished; wait for its daemon.
    }
    return false;
  }
}

async function waitReady(socketPath: string, pid: number | undefined, logPath: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await pingOnce(socketPath)) return;
    if (pid !== undefined && !isAlive(pid)) {
      throw new BerthError('unavailable', `the daemon exited during start-up (log ${logPath})${logTail(logPath)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new BerthError('unavailable', `the daemon did not answer within ${READY_TIMEOUT_MS / 1000}s (log ${logPath})${logTail(logPath)}`);
}

/**
 * Starts berthd detached and waits until it answers /_ping, or fails with its log's tail.
 * Returns the pid it started (undefined when another CLI started it meanwhile).
 */
export async function ensureDaemon(opts: AutostartOptions): Promise<number | undefined> {
  const socketPath = socketPathOf(opts.host);
  try {
    mkdirSync(opts.dataRoot, { recursive: true, mode: 0o711 });
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied (berthd runs as root)' : (err as Error).message;
    throw new BerthError('unavailable', `cannot start the daemon: create "${opts.dataRoot}": ${why}`, { cause: err });
  }
  const logPath = join(opts.dataRoot, 'berthd.log');
  const lockPath = join(opts.dataRoot, 'berthd.start.lock');
  if (!tryLock(lockPath)) {
    await waitReady(socketPath, undefined, logPath);
    return undefined;
  }
  try {
    // Someone may have started it between our failed connect and the lock.
    if (await pingOnce(socketPath)) return undefined;
    const { cmd, args } = opts.berthd ?? berthdCommand();
    const execRoot = opts.execRoot ?? DEFAULT_EXEC_ROOT;
    const daemonArgs = ['--data-root', opts.dataRoot, '--exec-root', execRoot, '--host', opts.host, '--pidfile', join(execRoot, 'berthd.pid')];
    if (opts.logLevel) daemonArgs.push('--log-level', opts.logLevel);
    const logFd = openSync(logPath, 'a', 0o600);
    let pid: number;
    try {
      // Detached on purpose (one of the two intended detached spawns, STYLE.md §8): the
      // daemon must outlive this CLI process, in its own session, writing to its log file.
      pid = spawnDetached(cmd, [...args, ...daemonArgs], { stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    await waitReady(socketPath, pid, logPath);
    opts.stderr.write(`berth: started the daemon (pid ${pid}, log ${logPath})\n`);
    return pid;
  } finally {
    rmSync(lockPath, { force: true });
  }
}
