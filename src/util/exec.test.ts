import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BerthError } from './errors.js';
import type { Duplex } from 'node:stream';
import { ExecError, run, spawnDetachedWithPipes, spawnStreaming, type RunOptions } from './exec.js';
import { NATIVE_SYS_FILE } from './native-sys.js';

const REPO = resolve(import.meta.dirname, '../..');
const BUILT = existsSync(join(REPO, 'dist', NATIVE_SYS_FILE));

/** run() has two paths (the berth-sys addon, child_process) that must behave alike: each test runs on both. */
const PATHS = [
  { name: 'the addon', native: true, skip: BUILT ? false : `no ${NATIVE_SYS_FILE} in dist/ (npm run build makes it)` },
  { name: 'child_process', native: false, skip: false },
] as const;

type Ctx = { after: (fn: () => Promise<void> | void) => void };

/** Selects run()'s path for one test (BERTH_NATIVE is read on every call; src/ cannot import test/helpers/native-path.ts). */
function useNativePath(t: Ctx, native: boolean): void {
  const before = process.env.BERTH_NATIVE;
  t.after(() => {
    if (before === undefined) delete process.env.BERTH_NATIVE;
    else process.env.BERTH_NATIVE = before;
  });
  if (native) delete process.env.BERTH_NATIVE;
  else process.env.BERTH_NATIVE = '0';
}

function bothPaths(name: string, fn: (t: Ctx, native: boolean) => Promise<void>): void {
  for (const p of PATHS) {
    test(`${name} (${p.name})`, { skip: p.skip }, async (t) => {
      useNativePath(t, p.native);
      await fn(t, p.native);
    });
  }
}

async function tempDir(t: Ctx): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'berth-exec-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Whether a process is gone (reaped, not a zombie). */
async function isGone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // A reused pid would be another command than the shell or sleep the test started.
  return stat === undefined || !/^\d+ \((sh|sleep)\) /.test(stat);
}

/** Runs `script` (which writes its pid to a file first) and hands back the pid with the outcome. */
async function runRecordingPid(t: Ctx, script: string, opts: RunOptions): Promise<{ pid: number; result: Promise<unknown> }> {
  const file = join(await tempDir(t), 'pid');
  const result = run('sh', ['-c', `echo $$ > ${file}.tmp && mv ${file}.tmp ${file}; ${script}`], opts);
  result.catch(() => undefined);
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text) return { pid: Number(text.trim()), result };
    await new Promise((r) => setTimeout(r, 5));
  }
}

bothPaths('run collects stdout of a successful command', async () => {
  const r = await run('sh', ['-c', 'echo hi'], { timeoutMs: 5000 });
  assert.deepEqual(r, { stdout: 'hi\n', stderr: '', exitCode: 0 });
});

bothPaths('run keeps stdout and stderr apart', async () => {
  const r = await run('sh', ['-c', 'echo out; echo err >&2; echo out2'], { timeoutMs: 5000 });
  assert.equal(r.stdout, 'out\nout2\n');
  assert.equal(r.stderr, 'err\n');
});

bothPaths('run carries the stderr tail into the error of a failing command', async () => {
  await assert.rejects(run('sh', ['-c', 'echo bad >&2; exit 3'], { timeoutMs: 5000 }), (e: unknown) => {
    assert.ok(e instanceof ExecError);
    assert.equal(e.exitCode, 3);
    assert.equal(e.signal, null);
    assert.equal(e.kind, 'internal');
    assert.equal(e.message, "sh -c echo bad >&2; exit 3 exited with status 3: bad");
    return true;
  });
});

bothPaths('run accepts an exit code listed in okCodes and answers it', async () => {
  const r = await run('sh', ['-c', 'exit 1'], { timeoutMs: 5000, okCodes: [1] });
  assert.equal(r.exitCode, 1);
});

bothPaths('run reports the signal that killed a command', async () => {
  await assert.rejects(run('sh', ['-c', 'kill -TERM $$'], { timeoutMs: 5000 }), (e: unknown) => {
    assert.ok(e instanceof ExecError);
    assert.equal(e.exitCode, null);
    assert.equal(e.signal, 'SIGTERM');
    assert.match(e.message, /killed by SIGTERM/);
    return true;
  });
});

bothPaths('run starts a command with default signal dispositions and nothing blocked', async () => {
  // node ignores SIGPIPE and handles others; none of it may reach the command.
  const { stdout } = await run('cat', ['/proc/self/status'], { timeoutMs: 5000 });
  const sig = stdout.split('\n').filter((l) => /^Sig(Blk|Ign|Cgt):/.test(l));
  assert.deepEqual(sig, ['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000', 'SigCgt:\t0000000000000000']);
});

bothPaths('run keeps only the last 4 KiB of stderr', async () => {
  const r = await run('sh', ['-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i" >&2; i=$((i+1)); done; echo END >&2'], { timeoutMs: 10_000 });
  assert.ok(r.stderr.length <= 4096, `${r.stderr.length} bytes`);
  assert.ok(r.stderr.endsWith('line 1999\nEND\n'));
});

bothPaths('run feeds more than 1 MiB of input through a command and reads it all back', async () => {
  const input = Buffer.alloc(3 * 2 ** 20 / 2, 'abcdefghijklmnopqrstuvwxyz0123456789\n');
  const r = await run('cat', [], { timeoutMs: 10_000, input });
  assert.equal(r.stdout.length, input.length);
  assert.equal(r.stdout, input.toString());
});

bothPaths('run gives a command that reads nothing an empty stdin', async () => {
  const r = await run('wc', ['-c'], { timeoutMs: 5000 });
  assert.equal(r.stdout.trim(), '0');
});

bothPaths('run does not fail a command that exits without reading its input', async () => {
  const r = await run('true', [], { timeoutMs: 5000, input: Buffer.alloc(2 ** 20) });
  assert.equal(r.exitCode, 0);
});

bothPaths('run kills a command whose stdout passes the bound and says so', async () => {
  await assert.rejects(run('yes', [], { timeoutMs: 10_000, maxStdoutBytes: 100_000 }), (e: unknown) => {
    assert.ok(e instanceof ExecError);
    assert.equal(e.reason, 'overflow');
    assert.match(e.message, /^yes wrote too much output/);
    return true;
  });
});

bothPaths('run kills a command that outlives its timeout, and nothing of it is left', async (t) => {
  const { pid, result } = await runRecordingPid(t, 'exec sleep 10', { timeoutMs: 300 });
  await assert.rejects(result, (e: unknown) => {
    assert.ok(e instanceof ExecError);
    assert.equal(e.kind, 'unavailable');
    assert.equal(e.reason, 'timeout');
    assert.equal(e.signal, 'SIGKILL');
    return true;
  });
  assert.ok(await isGone(pid), `pid ${pid} is still there (a zombie?)`);
});

bothPaths('run stops a command when its signal aborts, and rejects with the reason', async (t) => {
  const ac = new AbortController();
  const { pid, result } = await runRecordingPid(t, 'exec sleep 10', { timeoutMs: 10_000, signal: ac.signal });
  const reason = new BerthError('cancelled', 'stop it');
  ac.abort(reason);
  await assert.rejects(result, (e: unknown) => e === reason);
  assert.ok(await isGone(pid), `pid ${pid} is still there (a zombie?)`);
});

bothPaths('run does not start a command when its signal is already aborted', async (t) => {
  const marker = join(await tempDir(t), 'ran');
  await assert.rejects(run('touch', [marker], { timeoutMs: 5000, signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.equal(existsSync(marker), false);
});

bothPaths('run fails on a missing binary with the error child_process gives', async () => {
  await assert.rejects(run('berth-no-such-binary', ['x'], { timeoutMs: 5000 }), (e: unknown) => {
    assert.ok(e instanceof BerthError);
    assert.equal(e.kind, 'internal');
    assert.equal(e.message, 'cannot run berth-no-such-binary: spawn berth-no-such-binary ENOENT');
    const cause = e.cause as NodeJS.ErrnoException;
    assert.equal(cause.code, 'ENOENT');
    assert.equal(cause.errno, -2);
    assert.equal(cause.syscall, 'spawn berth-no-such-binary');
    assert.equal(cause.path, 'berth-no-such-binary');
    return true;
  });
});

bothPaths('run gives a command exactly the environment and working directory asked for', async (t) => {
  const dir = await tempDir(t);
  const r = await run('sh', ['-c', 'pwd; env | sort'], { timeoutMs: 5000, cwd: dir, env: { FOO: 'bar baz', PATH: process.env.PATH, UNSET: undefined } });
  const [pwd, ...env] = r.stdout.trim().split('\n');
  assert.equal(pwd, dir);
  assert.ok(env.includes('FOO=bar baz'));
  assert.ok(!env.some((l) => l.startsWith('UNSET')));
  assert.ok(!env.some((l) => l.startsWith('HOME=')), 'nothing of the daemon environment besides what was given');
});

bothPaths('run looks a command up along the PATH of the environment it is given', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'berth-hello'), '#!/bin/sh\necho hello from "$0"\n');
  await chmod(join(dir, 'berth-hello'), 0o755);
  const r = await run('berth-hello', [], { timeoutMs: 5000, env: { PATH: `/nonexistent:${dir}:/usr/bin:/bin` } });
  assert.equal(r.stdout, `hello from ${dir}/berth-hello\n`);
});

test('a command run through the addon gets only fds 0-2, even one the daemon inherited without close-on-exec', { skip: PATHS[0].skip }, () => {
  // A node whose fd 40 is open and not close-on-exec (as bash leaves a redirection of `exec`)
  // runs `ls` of its child's fds on both paths.
  const script = `
    import { run } from ${JSON.stringify(join(REPO, 'src/util/exec.ts'))};
    const ls = () => run('sh', ['-c', 'ls /proc/$$/fd'], { timeoutMs: 5000 }).then((r) => r.stdout.trim().split('\\n').sort().join(','));
    const native = await ls();
    process.env.BERTH_NATIVE = '0';
    console.log(JSON.stringify({ native, forked: await ls() }));`;
  const r = spawnSync('bash', ['-c', 'exec 40</dev/null; exec "$@"', 'bash', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const fds = JSON.parse(r.stdout) as { native: string; forked: string };
  assert.equal(fds.native, '0,1,2');
  // Why close_range matters: child_process hands such an fd on.
  assert.ok(fds.forked.split(',').includes('40'), fds.forked);
});

test('spawnStreaming keeps the output of a child that exited before the caller started reading', async () => {
  const child = spawnStreaming('sh', ['-c', 'printf quick'], { timeoutMs: 10_000 });
  child.stdin.end();
  await child.done;
  // Let node's exit handling run (it resumes stdio nobody reads) before the first read.
  await new Promise((r) => setTimeout(r, 50));
  const chunks: Buffer[] = [];
  for await (const c of child.stdout) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'quick');
});

test('spawnStreaming ends a child whose reader destroyed its output', async () => {
  const child = spawnStreaming('sh', ['-c', 'while :; do echo y; done'], { timeoutMs: 10_000 });
  child.stdin.end();
  for await (const _ of child.stdout) break;
  await assert.rejects(child.done, /killed by SIGPIPE|exited with status/);
});

/** Waits until pid is reaped (gone, not a zombie). */
async function reaped(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await isGone(pid))) {
    assert.ok(Date.now() < deadline, `pid ${pid} was not reaped`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What a stream says, collected as it comes; `until(text)` waits for `text` to have come. */
function listen(stream: NodeJS.ReadableStream): { until: (text: string) => Promise<string> } {
  let got = '';
  const waiters: (() => void)[] = [];
  stream.on('data', (c) => {
    got += String(c);
    for (const w of waiters.splice(0)) w();
  });
  return {
    async until(text) {
      while (!got.includes(text)) await new Promise<void>((r) => waiters.push(r));
      return got;
    },
  };
}

bothPaths('spawnDetachedWithPipes talks to its child over fds 3 and 4, in its own session, and reaps it when it exits', async (t) => {
  const dir = await tempDir(t);
  const err = await import('node:fs/promises').then((fs) => fs.open(join(dir, 'err'), 'w'));
  // The child says its fds and its session on fd 3, waits for a line on fd 4, answers, and exits.
  const script = 'echo "sid $(cut -d" " -f6 /proc/$$/stat) pwd $(pwd) foo $FOO." >&3; read x <&4; echo "got $x" >&3; echo oops >&2';
  const child = await spawnDetachedWithPipes('sh', ['-c', script], { env: { ...process.env, FOO: 'bar' }, cwd: dir, stdio: ['ignore', 'ignore', err.fd], pipes: 2 });
  await err.close();
  const [out, input] = child.pipes as [Duplex, Duplex];
  const said = listen(out);
  const hello = await said.until('.');
  assert.equal(hello.trim(), `sid ${child.pid} pwd ${dir} foo bar.`);
  input.write('go\n');
  assert.equal((await said.until('got go\n')).slice(hello.length), 'got go\n');
  for (const p of child.pipes) p.destroy();
  await reaped(child.pid);
  assert.equal(await readFile(join(dir, 'err'), 'utf8'), 'oops\n');
});

bothPaths('spawnDetachedWithPipes gives its child its stdio and pipes as fds 0-4, and reaps it when it is killed', async (_t, native) => {
  // busybox-static: a dynamically linked sleep has the loader's library files open for a moment
  // after the exec, which this listing saw once as an fd 5.
  const child = await spawnDetachedWithPipes('busybox', ['sleep', '30'], { stdio: ['ignore', 'ignore', 'ignore'], pipes: 2 });
  const fds = (await readdir(`/proc/${child.pid}/fd`)).map(Number).sort((a, b) => a - b);
  process.kill(child.pid, 'SIGKILL');
  for (const p of child.pipes) p.destroy();
  await reaped(child.pid);
  // child_process hands on whatever this process has open without close-on-exec; the addon does not.
  if (native) assert.deepEqual(fds, [0, 1, 2, 3, 4]);
  else assert.deepEqual(fds.slice(0, 5), [0, 1, 2, 3, 4]);
});

test('spawnDetachedWithPipes through the addon fails on a missing binary with its name', { skip: PATHS[0].skip }, async (t) => {
  useNativePath(t, true);
  await assert.rejects(spawnDetachedWithPipes('berth-no-such-binary', [], { stdio: ['ignore', 'ignore', 'ignore'], pipes: 1 }), {
    message: 'cannot start berth-no-such-binary: spawn berth-no-such-binary ENOENT',
  });
});

bothPaths('run serves many commands at once, each with its own output, and reaps them all', async () => {
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => run('sh', ['-c', `echo ${i} $$`], { timeoutMs: 20_000 })));
  const pids = results.map((r, i) => {
    const [n, pid] = r.stdout.trim().split(' ');
    assert.equal(n, String(i));
    return Number(pid);
  });
  assert.equal(new Set(pids).size, 40);
  for (const pid of pids) assert.ok(await isGone(pid), `pid ${pid} is still there`);
});

bothPaths('commands that run for long hold no thread file reads need', async () => {
  // libuv's threadpool has 4 threads for every fs call: a command waited on there would stall them.
  const ac = new AbortController();
  const sleeps = Array.from({ length: 8 }, () => run('sleep', ['30'], { timeoutMs: 60_000, signal: ac.signal }).then(() => 'done', () => 'stopped'));
  await readFile(import.meta.filename);
  const settled = await Promise.race([Promise.race(sleeps), Promise.resolve('running')]);
  ac.abort();
  assert.equal(settled, 'running');
  assert.deepEqual(await Promise.all(sleeps), Array(8).fill('stopped'));
});
