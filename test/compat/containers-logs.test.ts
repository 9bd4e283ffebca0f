// The real docker CLI against berthd: output and logs with --log-opt (max-size, max-file),
// and `--platform` checked against the local image.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_CLI, type TestDaemon } from '../helpers/daemon.js';
import { busyboxSuite } from '../helpers/busybox-suite.js';
import { berth } from '../integration/cli/berth-cli.js';

const suite = busyboxSuite();
const { skip } = suite;

let d: TestDaemon;

before(async () => {
  if (!skip) d = await suite.ready();
});

const seq = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('');

test('an attached run with --log-opt max-size=1k prints every line of its output in order', { skip }, async () => {
  const r = await d.docker(['run', '--rm', '--log-opt', 'max-size=1k', 'busybox', 'seq', '1', '2000']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, seq(2000));
});

test('logs -f of a container with --log-opt max-size=1k prints every line written while it follows', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // The container says "ready", waits for the go file, then writes far more than 1k.
  const script = 'echo ready; while [ ! -e /m/go ]; do sleep 0.02; done; seq 1 2000';
  const run = await d.docker(['run', '-d', '--name', 'maxsize', '-v', `${dir}:/m`, '--log-opt', 'max-size=1k', 'busybox', 'sh', '-c', script]);
  assert.equal(run.code, 0, run.stderr);
  const child = spawn(DOCKER_CLI, ['logs', '-f', 'maxsize'], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  await new Promise<void>((res) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.startsWith('ready\n')) res();
    });
    void closed.then(() => res());
  });
  await writeFile(join(dir, 'go'), '');
  const code = await closed;
  clearTimeout(timer);
  assert.equal(code, 0, err);
  assert.equal(out, 'ready\n' + seq(2000));
  await d.docker(['rm', '-f', 'maxsize']);
});

test('run --platform refuses a local image of another platform with dockerd\'s message and accepts its own', { skip }, async () => {
  const arch = (await d.docker(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}', 'busybox'])).stdout.trim();
  const other = arch === 'linux/arm64' ? 'linux/amd64' : 'linux/arm64';
  const bad = await d.docker(['run', '--rm', '--pull', 'never', '--platform', other, 'busybox', 'true']);
  assert.equal(bad.code, 125, bad.stderr);
  assert.match(bad.stderr, new RegExp(`image with reference busybox:latest was found but does not match the specified platform: wanted ${other}, actual: ${arch}`));
  const res = await d.request('POST', `/containers/create?platform=${encodeURIComponent(other)}`, { Image: 'busybox', Cmd: ['true'] });
  assert.equal(res.status, 404, res.text);
  assert.equal((await d.docker(['run', '--rm', '--platform', arch, 'busybox', 'echo', 'ok'])).stdout, 'ok\n');
  assert.equal((await d.docker(['ps', '-aq'])).stdout.trim(), '');
});

test('--log-opt max-file=3 keeps the newest files of max-size each and docker logs reads them in order', { skip }, async () => {
  // 90000 lines make about 5 MiB of log: more than three files even at conmon's 1 MiB floor.
  // Written in chunks smaller than a file, so each replacement is a separate event.
  const chunks = [0, 1, 2, 3, 4, 5].map((i) => `seq ${i * 15000 + 1} ${(i + 1) * 15000}`).join('; sleep 0.3; ');
  const run = await d.docker(['run', '--name', 'rotated', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', chunks]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, seq(90000));
  const lines = (await d.docker(['logs', 'rotated'])).stdout.split('\n').filter(Boolean).map(Number);
  assert.equal(lines[lines.length - 1], 90000);
  assert.ok(lines[0]! > 1, 'the oldest file was dropped');
  // Contiguous: no file missing between the kept ones, nothing repeated.
  lines.forEach((n, i) => assert.equal(n, lines[0]! + i));
  assert.equal((await d.docker(['logs', '--tail', '3', 'rotated'])).stdout, '89998\n89999\n90000\n');
  const inspect = JSON.parse((await d.docker(['inspect', 'rotated'])).stdout)[0];
  assert.deepEqual(inspect.HostConfig.LogConfig.Config, { 'max-size': '1k', 'max-file': '3' });
  const bad = await d.docker(['run', '--rm', '--log-opt', 'max-file=0', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /max-file cannot be less than 1/);
  await d.docker(['rm', '-f', 'rotated']);
});

test('logs of a few MB through the docker CLI and berth keep every byte, each stream apart; -t, --since and --until cut by record times', { skip }, async () => {
  // Both streams, many conmon reads (so many distinct times), lines long enough to cross reads.
  const awk = 'BEGIN { for (i = 1; i <= 40000; i++) { if (i % 1000 == 0) print "err" i > "/dev/stderr"; else printf "%06d %s\\n", i, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz" } }';
  const run = await d.docker(['run', '--name', 'bulk', 'busybox', 'awk', awk]);
  assert.equal(run.code, 0, run.stderr);
  const wantOut = Array.from({ length: 40000 }, (_, k) => k + 1).filter((i) => i % 1000 !== 0).map((i) => `${String(i).padStart(6, '0')} abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\n`).join('');
  const wantErr = Array.from({ length: 40 }, (_, k) => `err${(k + 1) * 1000}\n`).join('');
  const logs = await d.docker(['logs', 'bulk']);
  assert.equal(logs.stdout, wantOut);
  assert.equal(logs.stderr, wantErr);
  const viaBerth = await berth(d.socketPath, ['logs', 'bulk'], { timeoutMs: 60_000 });
  assert.equal(viaBerth.code, 0, viaBerth.stderr);
  assert.equal(viaBerth.stdout, wantOut);
  assert.equal(viaBerth.stderr, wantErr);

  // -t: every line after Docker's fixed nine-digit UTC time, in non-decreasing order.
  const stamped = (await d.docker(['logs', '-t', 'bulk'])).stdout.split('\n').slice(0, -1);
  assert.equal(stamped.length, 40000 - 40);
  const times = stamped.map((l) => {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$/.exec(l);
    assert.ok(m, `not a timestamped line: ${l}`);
    return m[1]!;
  });
  assert.equal(stamped.map((l) => l.slice(31) + '\n').join(''), wantOut);
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! <= times[i]!, `times go back at line ${i}`);
  const berthStamped = await berth(d.socketPath, ['logs', '-t', 'bulk'], { timeoutMs: 60_000 });
  assert.equal(berthStamped.stdout, stamped.join('\n') + '\n');

  // --since/--until at a time from the middle: exactly the records at/after (until: at/before) it.
  const mid = times[Math.floor(times.length / 2)]!;
  const since = (await d.docker(['logs', '-t', '--since', mid, 'bulk'])).stdout.split('\n').slice(0, -1);
  assert.deepEqual(since, stamped.filter((_, i) => times[i]! >= mid));
  const until = (await d.docker(['logs', '-t', '--until', mid, 'bulk'])).stdout.split('\n').slice(0, -1);
  // awk's stdout is block-buffered and its stderr is not: a stdout line can be split around a
  // later stderr record, and a stderr record past `until` ends the log before that line is whole.
  const wantUntil = stamped.filter((_, i) => times[i]! <= mid);
  assert.ok(until.length === wantUntil.length || until.length === wantUntil.length - 1, `${until.length} lines up to --until, ${wantUntil.length} expected`);
  assert.deepEqual(until, wantUntil.slice(0, until.length));
  // --tail counts lines of both streams together; which stream conmon read last is a race
  // (awk flushes stdout at exit, right after its last stderr line), so check the split, not the order.
  const tail = await d.docker(['logs', '--tail', '2', 'bulk']);
  const tailOut = tail.stdout.split('\n').filter(Boolean);
  const tailErr = tail.stderr.split('\n').filter(Boolean);
  assert.equal(tailOut.length + tailErr.length, 2, tail.stdout + tail.stderr);
  assert.deepEqual(tailOut, wantOut.split('\n').slice(-1 - tailOut.length, -1));
  assert.deepEqual(tailErr, wantErr.split('\n').slice(-1 - tailErr.length, -1));
  await d.docker(['rm', '-f', 'bulk']);
});
