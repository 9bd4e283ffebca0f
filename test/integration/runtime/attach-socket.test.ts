// Attach reads live output from conmon's attach socket: exact bytes, stdout and stderr apart,
// nothing lost to a slow client while conmon replaces its log, the log replayed before a new
// run without a gap or a duplicate, detach keys, and a container that outlives its client.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { runCommand, type TestDaemon } from '../../helpers/daemon.js';
import { busyboxSuite } from '../../helpers/busybox-suite.js';
import { startRestartableBerthd } from '../../helpers/restartable-berthd.js';

const suite = busyboxSuite();
const { skip } = suite;

let d: TestDaemon;

before(async () => {
  if (!skip) d = await suite.ready();
});

interface Attached {
  sock: Socket;
  /** Everything after the response head, demultiplexed (or raw for a TTY). */
  stdout: Buffer[];
  stderr: Buffer[];
  /** Resolves when the server closes the stream. */
  ended: Promise<void>;
  /** Resolves once the demultiplexed stdout contains `text`. */
  waitFor(text: string): Promise<void>;
  /** Starts reading (after `hold`). */
  resume(): void;
}

/**
 * POST /containers/{id}/attach with `Upgrade: tcp`, read as docker does. `hold` stops reading
 * after the response head until `resume()`: the slowest client there is.
 */
async function attach(id: string, query: string, opts: { tty?: boolean; hold?: boolean; socketPath?: string } = {}): Promise<Attached> {
  const sock = connect(opts.socketPath ?? d.socketPath);
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  sock.write(`POST /v1.43/containers/${id}/attach?${query} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let head: Buffer | undefined = Buffer.alloc(0);
  let pending: Buffer = Buffer.alloc(0);
  let watchers: Array<() => void> = [];
  let headSeen!: () => void;
  const headP = new Promise<void>((r) => (headSeen = r));
  const onPayload = (data: Buffer) => {
    if (opts.tty) {
      stdout.push(data);
    } else {
      pending = pending.length ? Buffer.concat([pending, data]) : data;
      while (pending.length >= 8) {
        const len = pending.readUInt32BE(4);
        if (pending.length < 8 + len) break;
        (pending[0] === 2 ? stderr : stdout).push(Buffer.from(pending.subarray(8, 8 + len)));
        pending = pending.subarray(8 + len);
      }
    }
    for (const w of watchers) w();
  };
  sock.on('data', (chunk: Buffer) => {
    if (head) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const rest = head.subarray(end + 4);
      assert.match(head.subarray(0, end).toString(), /^HTTP\/1\.1 101 UPGRADED/);
      head = undefined;
      if (opts.hold) sock.pause();
      headSeen();
      if (rest.length) onPayload(rest);
      return;
    }
    onPayload(chunk);
  });
  const ended = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  await Promise.race([headP, ended]);
  return {
    sock,
    stdout,
    stderr,
    ended,
    resume: () => sock.resume(),
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (Buffer.concat(stdout).includes(text)) {
            watchers = watchers.filter((w) => w !== check);
            resolve();
          }
        };
        watchers.push(check);
        void ended.then(() => reject(new Error(`the stream ended without "${text}": ${Buffer.concat(stdout).toString().slice(-200)}`)));
        check();
      }),
  };
}

async function create(body: Record<string, unknown>): Promise<string> {
  const r = await d.request('POST', '/containers/create', { Image: 'busybox', HostConfig: { NetworkMode: 'none', ...((body.HostConfig as object) ?? {}) }, ...body });
  assert.equal(r.status, 201, r.text);
  return r.json<{ Id: string }>().Id;
}

async function start(id: string): Promise<void> {
  const r = await d.request('POST', `/containers/${id}/start`);
  assert.equal(r.status, 204, r.text);
}

async function status(id: string): Promise<string> {
  return (await d.request('GET', `/containers/${id}/json`)).json<{ State: { Status: string } }>().State.Status;
}

async function remove(id: string): Promise<void> {
  await d.request('DELETE', `/containers/${id}?force=1`);
}

test('a 20 MB burst reaches an attached reader that reads nothing until the container has exited, whole and in order, while conmon replaces its log every 1 MiB', { skip }, async () => {
  // stdout: the numbers 1…2,800,000, one per line (~21 MB); stderr: a marker between the
  // halves and one at the end.
  const id = await create({
    Cmd: ['sh', '-c', 'seq 1 1400000; echo middle >&2; seq 1400001 2800000; echo end >&2'],
    HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '100k' } } },
  });
  const a = await attach(id, 'stream=1&stdout=1&stderr=1', { hold: true });
  await start(id);
  // The container is not held back by the client: it runs to its end meanwhile.
  assert.equal((await d.request('POST', `/containers/${id}/wait`)).json<{ StatusCode: number }>().StatusCode, 0);
  const spools = async () => (await readdir(join(d.dataRoot, 'containers', id))).filter((n) => n.endsWith('.spool'));
  // What the client has not taken waits on disk, not in berthd's memory.
  assert.equal((await spools()).length, 1);
  a.resume();
  await a.ended;
  const out = Buffer.concat(a.stdout);
  let expected = 1;
  let at = 0;
  for (let nl = out.indexOf(10); nl >= 0; nl = out.indexOf(10, at)) {
    const line = out.toString('latin1', at, nl);
    if (line !== String(expected)) assert.fail(`line ${expected} reads "${line}"`);
    expected++;
    at = nl + 1;
  }
  assert.equal(expected - 1, 2_800_000, 'every line arrived');
  assert.equal(at, out.length, 'nothing after the last line');
  assert.equal(Buffer.concat(a.stderr).toString(), 'middle\nend\n');
  const { LogPath } = (await d.request('GET', `/containers/${id}/json`)).json<{ LogPath: string }>();
  if (LogPath) assert.ok((await stat(LogPath)).size <= 1024 * 1024 + 16 * 1024, 'conmon replaced the log during the burst');
  // The spool is gone once read.
  assert.deepEqual(await spools(), []);
  await remove(id);
});

test('attach with logs=1 before a new run replays the earlier runs then the new one, each line once', { skip }, async () => {
  const id = await create({ Cmd: ['sh', '-c', 'n=0; [ -f /n ] && read n < /n; n=$((n+1)); echo $n > /n; echo run$n; seq 1 3; echo err$n >&2'] });
  await start(id);
  assert.equal((await d.request('POST', `/containers/${id}/wait`)).json<{ StatusCode: number }>().StatusCode, 0);
  const a = await attach(id, 'logs=1&stream=1&stdout=1&stderr=1');
  await start(id);
  await a.ended;
  assert.equal(Buffer.concat(a.stdout).toString(), 'run1\n1\n2\n3\nrun2\n1\n2\n3\n');
  assert.equal(Buffer.concat(a.stderr).toString(), 'err1\nerr2\n');
  await remove(id);
});

test('attach with logs=1 to a running container replays its output and goes on without a gap or a duplicate', { skip }, async () => {
  const id = await create({ Cmd: ['sh', '-c', 'i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo $i; sleep 0.005; done'] });
  await start(id);
  const early = await attach(id, 'stream=1&stdout=1');
  await early.waitFor('\n20\n');
  early.sock.destroy();
  const a = await attach(id, 'logs=1&stream=1&stdout=1');
  await a.ended;
  assert.equal(Buffer.concat(a.stdout).toString(), Array.from({ length: 200 }, (_, i) => `${i + 1}\n`).join(''));
  await remove(id);
});

test('an attach to a running container shows output from then on and leaving it does not stop the container', { skip }, async () => {
  const id = await create({ Cmd: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo tick$i; sleep 0.02; done'] });
  await start(id);
  const a = await attach(id, 'stream=1&stdout=1&stderr=1');
  await a.waitFor('\n');
  const first = Number(/tick(\d+)\n/.exec(Buffer.concat(a.stdout).toString())![1]);
  const n = first + 5;
  await a.waitFor(`tick${n}\n`);
  const seen = Buffer.concat(a.stdout).toString();
  // Whole lines, consecutive, from where the attach began.
  const lines = seen.slice(seen.indexOf(`tick${first}\n`)).split('\n').filter(Boolean);
  lines.forEach((l, i) => assert.equal(l, `tick${first + i}`));
  a.sock.destroy();
  await a.ended;
  assert.equal(await status(id), 'running');
  const again = await attach(id, 'stream=1&stdout=1');
  await again.waitFor('tick');
  again.sock.destroy();
  assert.equal(await status(id), 'running');
  await remove(id);
});

test('the detach keys end an attach with stdin and leave the container running', { skip }, async () => {
  for (const [keys, bytes] of [['', '\x10\x11'], ['ctrl-a,x', '\x01x']] as const) {
    const id = await create({ Cmd: ['sh'], Tty: true, OpenStdin: true, AttachStdin: true, AttachStdout: true });
    await start(id);
    const a = await attach(id, `stream=1&stdin=1&stdout=1${keys ? `&detachKeys=${keys}` : ''}`, { tty: true });
    a.sock.write('echo hello-$((6*7))\n');
    await a.waitFor('hello-42');
    a.sock.write(bytes);
    await a.ended;
    assert.equal(await status(id), 'running', `still running after ${keys || 'ctrl-p,ctrl-q'}`);
    await remove(id);
  }
});

test('docker run prints each run\'s stdout and stderr apart, from its first byte', { skip }, async () => {
  for (let i = 0; i < 8; i++) {
    const r = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', `echo out${i}; echo err${i} >&2`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `out${i}\n`);
    assert.equal(r.stderr, `err${i}\n`);
  }
});

test('a container started before a kill -9 of berthd can be attached to by the restarted berthd', { skip }, async (t) => {
  const b = await startRestartableBerthd(t);
  const { root, docker } = b;
  await b.importBusybox();
  const script = 'echo before; while [ ! -f /m/go ]; do sleep 0.05; done; echo after; echo oops >&2';
  const run = await docker(['run', '-d', '--network', 'none', '-v', `${root}:/m`, 'busybox', 'sh', '-c', script]);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();

  await b.kill9();
  await b.restart();

  const a = await attach(id, 'stream=1&stdout=1&stderr=1', { socketPath: b.socketPath });
  // The answer came after the socket was connected: all that follows reaches this client.
  await writeFile(join(root, 'go'), '');
  await a.ended;
  assert.equal(Buffer.concat(a.stdout).toString(), 'after\n');
  assert.equal(Buffer.concat(a.stderr).toString(), 'oops\n');
  assert.equal((await docker(['wait', id])).stdout.trim(), '0');
});

test('dockerode attaches before the start and demultiplexes the whole output', { skip }, async () => {
  const docker = new Docker({ socketPath: d.socketPath });
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'seq 1 20000; echo done >&2'], HostConfig: { NetworkMode: 'none' } });
  try {
    const stream = await c.attach({ stream: true, stdout: true, stderr: true, hijack: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const [o, e] = [new PassThrough(), new PassThrough()];
    o.on('data', (b: Buffer) => out.push(b));
    e.on('data', (b: Buffer) => err.push(b));
    docker.modem.demuxStream(stream, o, e);
    const ended = new Promise((r) => stream.once('end', r));
    await c.start();
    await ended;
    assert.equal(Buffer.concat(out).toString(), Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join(''));
    assert.equal(Buffer.concat(err).toString(), 'done\n');
  } finally {
    await c.remove({ force: true });
  }
});

const COMPOSE = '/usr/bin/docker-compose';
test('docker-compose 1.29 up (attached) prints each service\'s output and returns when they exit', { skip: skip ?? (existsSync(COMPOSE) ? undefined : `needs docker-compose at ${COMPOSE}`) }, async (t) => {
  const project = await mkdtemp(join(tmpdir(), 'berth-att-compose-'));
  const file = join(project, 'docker-compose.yml');
  const run = (args: string[]) => runCommand(COMPOSE, ['-p', 'bertatt', '-f', file, ...args], { env: d.env, timeoutMs: 120_000 });
  t.after(async () => {
    await run(['down', '-v', '--remove-orphans']);
    await rm(project, { recursive: true, force: true });
  });
  await writeFile(file, 'version: "3"\nservices:\n  talker:\n    image: busybox\n    network_mode: none\n    command: ["sh", "-c", "seq 1 3; echo to-stderr >&2"]\n');
  const r = await run(['up', '--no-color']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.includes('|')).map((l) => l.replace(/^[^|]*\|\s?/, ''));
  for (const want of ['1', '2', '3', 'to-stderr']) assert.ok(lines.includes(want), `"${want}" in ${JSON.stringify(r.stdout)}`);
});

test('docker start -a and docker attach print a run\'s output through the CLI', { skip }, async () => {
  const created = await d.docker(['create', '--network', 'none', 'busybox', 'sh', '-c', 'echo started; echo e >&2']);
  assert.equal(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  const first = await d.docker(['start', '-a', id]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'started\n');
  assert.equal(first.stderr, 'e\n');
  // A second run: the attach only sees this one.
  const again = await d.docker(['start', '-a', id]);
  assert.equal(again.stdout, 'started\n');
  await d.docker(['rm', id]);

  const run = await d.docker(['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'while [ ! -f /tmp/go ]; do sleep 0.05; done; echo attached-output; exit 3']);
  const rid = run.stdout.trim();
  const attached = d.docker(['attach', '--no-stdin', rid]);
  // The attach is up once the docker CLI's attach event is published.
  for (let i = 0; i < 200; i++) {
    const ev = await d.request('GET', `/events?since=0&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ container: [rid], event: ['attach'] }))}`);
    if (ev.text.includes('"attach"')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await d.docker(['exec', rid, 'touch', '/tmp/go'])).code, 0);
  const r = await attached;
  assert.equal(r.stdout, 'attached-output\n');
  assert.equal(r.code, 3);
  await d.docker(['rm', rid]);
});
