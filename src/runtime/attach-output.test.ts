import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeqpacketServer, type SeqpacketSocket } from 'node-unix-socket';
import { openAttachOutput, type AttachTarget } from './attach-output.js';
import type { LogRecord } from './logs.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

interface Fixture {
  socketDir: string;
  target: AttachTarget & { nextStart: Deferred<void>; removed: Deferred<unknown> };
  /** Plays conmon: listens on the container's attach socket. */
  listen(onConnection: (s: SeqpacketSocket) => void): void;
  /** Stops listening (conmon exits); the socket file goes. */
  closeAll(): Promise<void>;
}

async function fixture(t: TestContext, opts: { running: boolean; log?: string; tty?: boolean; longSocketDir?: boolean }): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'berth-attach-out-'));
  const id = 'c'.repeat(64);
  const socketDir = opts.longSocketDir ? join(root, 'd'.repeat(60), 'socks') : join(root, 'socks');
  const dir = join(root, 'ctr');
  await mkdir(join(socketDir, id), { recursive: true });
  await mkdir(dir);
  const logPath = join(dir, 'ctr.log');
  if (opts.log !== undefined) await writeFile(logPath, opts.log);
  const servers: SeqpacketServer[] = [];
  const cwd = process.cwd();
  t.after(async () => {
    for (const s of servers) s.close();
    await rm(root, { recursive: true, force: true });
  });
  return {
    socketDir,
    target: {
      id,
      dir,
      exitDir: join(dir, 'exits'),
      logPath,
      isRunning: opts.running,
      nextStart: deferred<void>(),
      nextExit: deferred<unknown>(),
      removed: deferred<unknown>(),
      config: { spec: { tty: opts.tty ?? false, openStdin: false, stdinOnce: false } },
    },
    listen(onConnection) {
      const server = new SeqpacketServer();
      server.on('connection', onConnection);
      // Bound through a short name the way conmon does (a long path does not fit in sun_path).
      process.chdir(join(socketDir, id));
      try {
        server.listen('attach');
      } finally {
        process.chdir(cwd);
      }
      servers.push(server);
    },
    async closeAll() {
      for (const s of servers.splice(0)) s.close();
      // conmon unlinks a stale socket file before it binds again.
      await rm(join(socketDir, id, 'attach'), { force: true });
    },
  };
}

function packet(pipe: number, text: string): Buffer {
  return Buffer.concat([Buffer.from([pipe]), Buffer.from(text)]);
}

async function collect(gen: AsyncGenerator<LogRecord>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const r of gen) out.push([r.stream, r.data.toString()]);
  return out;
}

test('packets from conmon become stdout and stderr records by their pipe byte, and the socket end ends them', async (t) => {
  const f = await fixture(t, { running: true });
  f.listen((s) => {
    s.write(packet(2, 'out1\n'));
    s.write(packet(3, 'err1\n'));
    s.write(packet(2, 'out2'));
    s.end();
  });
  const gen = await openAttachOutput(f.target, f.socketDir, { logs: false, stream: true });
  assert.deepEqual(await collect(gen), [
    ['stdout', 'out1\n'],
    ['stderr', 'err1\n'],
    ['stdout', 'out2'],
  ]);
});

test('an attach before the start connects when the start is announced and gets the first bytes', async (t) => {
  const f = await fixture(t, { running: false });
  const gen = await openAttachOutput(f.target, f.socketDir, { logs: false, stream: true });
  const connected = deferred<SeqpacketSocket>();
  // conmon is up: the socket exists, then the start is announced.
  f.listen((s) => connected.resolve(s));
  f.target.nextStart.resolve();
  const s = await connected.promise;
  s.write(packet(2, 'first\n'));
  s.end();
  assert.deepEqual(await collect(gen), [['stdout', 'first\n']]);
});

test('logs=1 before a start replays the log as it is, then the new run from the socket', async (t) => {
  const old = '2024-01-01T00:00:00.000000000Z stdout F old-out\n2024-01-01T00:00:00.000000001Z stderr F old-err\n';
  const f = await fixture(t, { running: false, log: old });
  const gen = await openAttachOutput(f.target, f.socketDir, { logs: true, stream: true });
  f.listen((s) => {
    s.write(packet(2, 'new\n'));
    s.end();
  });
  f.target.nextStart.resolve();
  assert.deepEqual(await collect(gen), [
    ['stdout', 'old-out\n'],
    ['stderr', 'old-err\n'],
    ['stdout', 'new\n'],
  ]);
});

test('an attach waiting for a start ends when the container is removed or the request goes', async (t) => {
  const f = await fixture(t, { running: false });
  const gen = await openAttachOutput(f.target, f.socketDir, { logs: false, stream: true });
  f.target.removed.resolve(undefined);
  assert.deepEqual(await collect(gen), []);
  const ac = new AbortController();
  const g2 = await openAttachOutput(f.target, f.socketDir, { logs: false, stream: true, signal: ac.signal });
  ac.abort();
  assert.deepEqual(await collect(g2), []);
});

test('a running container whose conmon is gone gives an empty output', async (t) => {
  const f = await fixture(t, { running: true });
  assert.deepEqual(await collect(await openAttachOutput(f.target, f.socketDir, { logs: false, stream: true })), []);
});

test('giving up before reading closes the socket', async (t) => {
  const f = await fixture(t, { running: true });
  const closed = deferred<void>();
  f.listen((s) => s.on('end', () => closed.resolve()));
  const gen = await openAttachOutput(f.target, f.socketDir, { logs: false, stream: true });
  await gen.return(undefined);
  await closed.promise;
});

test('a socket whose path exceeds sun_path is reached through the socket dir\'s descriptor', async (t) => {
  const f = await fixture(t, { running: true, longSocketDir: true });
  assert.ok(join(f.socketDir, f.target.id, 'attach').length > 107);
  f.listen((s) => {
    s.write(packet(2, 'far\n'));
    s.end();
  });
  assert.deepEqual(await collect(await openAttachOutput(f.target, f.socketDir, { logs: false, stream: true })), [['stdout', 'far\n']]);
});

test('a start under way when the attach comes (no exit file, conmon answering) is attached at once', async (t) => {
  const f = await fixture(t, { running: false });
  f.listen((s) => {
    s.write(packet(2, 'under-way\n'));
    s.end();
  });
  assert.deepEqual(await collect(await openAttachOutput(f.target, f.socketDir, { logs: false, stream: true })), [['stdout', 'under-way\n']]);
});

test('with an exit file, a conmon still answering is the last run finishing: the attach waits for the next start', async (t) => {
  const f = await fixture(t, { running: false });
  await mkdir(f.target.exitDir);
  await writeFile(join(f.target.exitDir, f.target.id), '0');
  let oldConnections = 0;
  f.listen((s) => {
    oldConnections++;
    s.write(packet(2, 'old-tail\n'));
    s.end();
  });
  const gen = await openAttachOutput(f.target, f.socketDir, { logs: false, stream: true });
  const next = gen.next();
  // Time for a wrong connection to happen (this can only let a bug pass, never fail a good run).
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(oldConnections, 0);
  await f.closeAll();
  f.listen((s) => {
    s.write(packet(2, 'new-run\n'));
    s.end();
  });
  f.target.nextStart.resolve();
  assert.deepEqual((await next).value?.data.toString(), 'new-run\n');
  assert.deepEqual(await collect(gen), []);
});
