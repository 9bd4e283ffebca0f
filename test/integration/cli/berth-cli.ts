// Runs the berth CLI as a user would (a child process) against a test daemon: the built
// dist/berth.js when it is newer than the sources, else src/cli/main.ts through tsx.
import { spawn } from 'node:child_process';
import { pack } from 'tar-stream';
import { REPO, entryArgv } from '../../helpers/entry-point.js';

/** dist/berth.js when fresh, else the sources (BERTH_TEST_CLI=dist|src forces one). */
export function berthArgv(): string[] {
  return entryArgv('berth', 'BERTH_TEST_CLI');
}

export interface CliResult {
  code: number;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

/** Runs `berth -H unix://<socket> ...args`; stdin from `input`. */
export function berth(
  socketPath: string | undefined,
  args: string[],
  opts: { input?: Buffer | string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const hostArgs = socketPath ? ['-H', `unix://${socketPath}`] : [];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...berthArgv(), ...hostArgs, ...args], {
      cwd: REPO,
      env: { ...process.env, DOCKER_HOST: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === null) {
        reject(new Error(`berth ${args.join(' ')} killed by ${signal} (timeout ${timeoutMs} ms)\nstderr: ${stderr}`));
        return;
      }
      resolvePromise({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
  });
}

/** A small rootfs tar (a file, a directory, a symlink) built in memory. */
export async function tinyRootfs(marker = 'hello'): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  })();
  const mtime = new Date(1_700_000_000_000);
  p.entry({ name: 'etc/', type: 'directory', mode: 0o755, mtime });
  p.entry({ name: 'etc/marker', type: 'file', mode: 0o644, mtime }, `${marker}\n`);
  p.entry({ name: 'bin/', type: 'directory', mode: 0o755, mtime });
  p.entry({ name: 'bin/link', type: 'symlink', linkname: '../etc/marker', mode: 0o777, mtime });
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}
