// preconnect.ts with the Engine client: the /_ping the CLI's entry writes is the client's own,
// the client uses that connection for it (and for the next request), and anything that does
// not match (another socket, other bytes, a dead socket) falls back to the client's own connect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HOST, DaemonUnreachableError, EngineClient } from '../client/index.js';
import { PING_REQUEST, PRECONNECT_DEFAULT_HOST, preconnect } from './preconnect.js';

const PING_ANSWER = 'HTTP/1.1 200 OK\r\nAPI-Version: 1.45\r\nContent-Length: 2\r\n\r\nOK';
const VERSION_ANSWER = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"Version":"x"}';

/** A daemon stand-in on a unix socket that records each connection's requests. */
async function fakeDaemon(t: { after(fn: () => unknown): void }): Promise<{ socketPath: string; connections: string[][] }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-preconnect-'));
  const socketPath = join(dir, 'd.sock');
  const connections: string[][] = [];
  const open = new Set<Socket>();
  const server = createServer((sock) => {
    const requests: string[] = [];
    connections.push(requests);
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.on('error', () => undefined);
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end + 4);
        buf = buf.slice(end + 4);
        requests.push(head);
        sock.write(head.startsWith('GET /_ping ') ? PING_ANSWER : VERSION_ANSWER);
      }
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  t.after(async () => {
    for (const s of open) s.destroy();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  return { socketPath, connections };
}

test('the client takes the preconnected socket for its /_ping, whose bytes are its own, and keeps it for the next request', async (t) => {
  const d = await fakeDaemon(t);
  const pre = preconnect(`unix://${d.socketPath}`, {}, connect);
  assert.ok(pre);
  // The answer arrives before the client exists, as while the CLI loads its run bundle.
  await new Promise((r) => setTimeout(r, 50));
  const client = new EngineClient({ host: `unix://${d.socketPath}`, transport: 'socket', preconnected: pre });
  t.after(() => client.close());
  assert.equal(await client.apiVersion(), '1.45');
  assert.deepEqual(await client.version(), { Version: 'x' });
  assert.deepEqual(d.connections, [[PING_REQUEST, 'GET /v1.45/version HTTP/1.1\r\nhost: api.moby.localhost\r\n\r\n']]);
});

test('the /_ping written ahead is byte for byte what the client sends without it', async (t) => {
  const d = await fakeDaemon(t);
  const client = new EngineClient({ host: `unix://${d.socketPath}`, transport: 'socket' });
  t.after(() => client.close());
  await client.apiVersion();
  assert.deepEqual(d.connections, [[PING_REQUEST]]);
  assert.equal(PRECONNECT_DEFAULT_HOST, DEFAULT_HOST);
});

test('a preconnected socket the client would not use is closed, and the client connects as usual', async (t) => {
  const d = await fakeDaemon(t);
  const other = await fakeDaemon(t);
  // Another socket than the client's host.
  const elsewhere = preconnect(`unix://${other.socketPath}`, {}, connect)!;
  const client = new EngineClient({ host: `unix://${d.socketPath}`, transport: 'socket', preconnected: elsewhere });
  t.after(() => client.close());
  assert.equal(await client.apiVersion(), '1.45');
  assert.deepEqual(d.connections, [[PING_REQUEST]]);
  assert.ok(elsewhere.socket.destroyed);
  // Other bytes than the client's first request.
  const odd = preconnect(`unix://${d.socketPath}`, {}, connect)!;
  odd.written = Buffer.from('GET /_ping HTTP/1.1\r\n\r\n');
  const second = new EngineClient({ host: `unix://${d.socketPath}`, transport: 'socket', preconnected: odd });
  t.after(() => second.close());
  await second.apiVersion();
  assert.ok(odd.socket.destroyed);
});

test('a preconnect to a dead socket is silent, and the client reports the daemon unreachable as before', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-preconnect-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const host = `unix://${join(dir, 'nothing.sock')}`;
  const pre = preconnect(host, {}, connect)!;
  await new Promise((r) => setTimeout(r, 20));
  const client = new EngineClient({ host, transport: 'socket', preconnected: pre });
  t.after(() => client.close());
  await assert.rejects(client.apiVersion(), DaemonUnreachableError);
});

test('preconnect picks the host as the client does and leaves tcp hosts alone', () => {
  const dialed: string[] = [];
  // Nothing is dialed for real: only the path is recorded.
  const fake = ((path: string) => {
    dialed.push(path);
    return { on: () => undefined, pause: () => undefined, write: () => true };
  }) as unknown as typeof connect;
  assert.equal(preconnect('tcp://127.0.0.1:2375', {}, fake), undefined);
  assert.equal(preconnect(undefined, { DOCKER_HOST: 'tcp://127.0.0.1:2375' }, fake), undefined);
  preconnect(undefined, { DOCKER_HOST: 'unix:///nonexistent/env.sock' }, fake);
  preconnect('unix:///nonexistent/flag.sock', { DOCKER_HOST: 'unix:///nonexistent/env.sock' }, fake);
  preconnect('', {}, fake);
  assert.deepEqual(dialed, ['/nonexistent/env.sock', '/nonexistent/flag.sock', '/run/berth/berth.sock']);
});
