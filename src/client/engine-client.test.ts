import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EngineClient, EngineApiError, DaemonUnreachableError, encodeFilters } from './engine-client.js';
import { EngineStreamError } from './json-stream.js';
import { parseHost, resolveHost, DEFAULT_HOST } from './host.js';
import { errorKind } from '../util/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
type Transport = 'node-http' | 'socket';

/** Each test runs with both transports: node:http and raw-http.ts (what the CLI uses). */
function both(name: string, fn: (t: { after(fn: () => unknown): void }, transport: Transport) => Promise<void>): void {
  for (const transport of ['node-http', 'socket'] as const) test(`${name} (${transport})`, (t) => fn(t, transport));
}

async function serve(t: { after(fn: () => unknown): void }, handler: Handler, transport: Transport) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-client-'));
  const socketPath = join(dir, 'api.sock');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  const client = new EngineClient({ host: `unix://${socketPath}`, transport });
  t.after(async () => {
    await client.close();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  return client;
}

function ping(res: ServerResponse, version = '1.45') {
  res.writeHead(200, { 'API-Version': version, OSType: 'linux' });
  res.end('OK');
}

both('the client negotiates the lower of the server version and its own', async (t, transport) => {
  const seen: string[] = [];
  const client = await serve(t, (req, res) => {
    seen.push(req.url!);
    if (req.url === '/_ping') return ping(res, '1.45');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ApiVersion: '1.45' }));
  }, transport);
  const v = await client.version<{ ApiVersion: string }>();
  assert.equal(v.ApiVersion, '1.45');
  await client.info();
  assert.deepEqual(seen, ['/_ping', '/v1.45/version', '/v1.45/info']);
});

both('a newer server is spoken to at the client maximum', async (t, transport) => {
  const client = await serve(t, (req, res) => (req.url === '/_ping' ? ping(res, '1.99') : res.end('{}')), transport);
  assert.equal(await client.apiVersion(), '1.51');
});

both('an error body becomes an EngineApiError with the kind of its status', async (t, transport) => {
  const client = await serve(t, (req, res) => {
    if (req.url === '/_ping') return ping(res);
    const status = req.url!.includes('missing') ? 404 : req.url!.includes('busy') ? 409 : 400;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `status ${status}` }));
  }, transport);
  await assert.rejects(client.inspectImage('missing'), (e: unknown) => {
    assert.ok(e instanceof EngineApiError);
    assert.equal(e.statusCode, 404);
    assert.equal(errorKind(e), 'not-found');
    assert.equal(e.message, 'status 404');
    return true;
  });
  await assert.rejects(client.removeImage('busy'), (e: unknown) => errorKind(e) === 'conflict');
  await assert.rejects(client.tagImage('x', 'BAD::NAME', undefined), (e: unknown) => errorKind(e) === 'invalid-argument');
});

both('query strings carry filters as the Engine API expects', async (t, transport) => {
  let url = '';
  const client = await serve(t, (req, res) => {
    if (req.url === '/_ping') return ping(res);
    url = req.url!;
    res.end('[]');
  }, transport);
  await client.listImages({ all: true, filters: { dangling: ['true'] } });
  const q = new URL(url, 'http://x').searchParams;
  assert.equal(q.get('all'), '1');
  assert.deepEqual(JSON.parse(q.get('filters')!), { dangling: { true: true } });
  assert.equal(encodeFilters({}), undefined);
});

both('a stream body is sent as is and an in-band error fails the progress stream', async (t, transport) => {
  let received = '';
  const client = await serve(t, (req, res, body) => {
    if (req.url === '/_ping') return ping(res);
    received = body.toString();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(JSON.stringify({ status: 'Loading layer' }) + '\n');
    res.end(JSON.stringify({ errorDetail: { message: 'unexpected EOF' }, error: 'unexpected EOF' }) + '\n');
  }, transport);
  const seen: string[] = [];
  await assert.rejects(
    client.loadImage(Readable.from([Buffer.from('tar-bytes')]), { onMessage: (m) => seen.push(m.status ?? '') }),
    (e: unknown) => e instanceof EngineStreamError && e.message === 'unexpected EOF',
  );
  assert.equal(received, 'tar-bytes');
  assert.deepEqual(seen, ['Loading layer']);
});

both('a missing socket is reported as an unreachable daemon', async (_t, transport) => {
  const client = new EngineClient({ host: 'unix:///nonexistent/berth-test.sock', transport });
  try {
    await assert.rejects(client.ping(), (e: unknown) => e instanceof DaemonUnreachableError && errorKind(e) === 'unavailable');
  } finally {
    await client.close();
  }
});

test('the host comes from the flag, then DOCKER_HOST, then the default', () => {
  assert.equal(resolveHost('tcp://1.2.3.4:1', { DOCKER_HOST: 'unix:///a.sock' }), 'tcp://1.2.3.4:1');
  assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///a.sock' }), 'unix:///a.sock');
  assert.equal(resolveHost(undefined, {}), DEFAULT_HOST);
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { kind: 'tcp', host: 'tcp://127.0.0.1:2375', origin: 'http://127.0.0.1:2375' });
  assert.throws(() => parseHost('ssh://x'), /invalid host/);
  assert.throws(() => parseHost('unix://relative.sock'), /absolute/);
});

both('an answer cut after its head fails with the connection\'s error, not as an unreachable daemon', async (t, transport) => {
  const client = await serve(t, (req, res) => {
    if (req.url === '/_ping') return ping(res);
    if (req.url!.includes('/hangup')) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"Id":');
    setTimeout(() => res.socket?.destroy(), 5);
  }, transport);
  await assert.rejects(client.inspectImage('cut'), (e: unknown) => !(e instanceof DaemonUnreachableError) && (e as NodeJS.ErrnoException).code === 'ECONNRESET');
  await assert.rejects(client.inspectImage('hangup'), (e: unknown) => e instanceof DaemonUnreachableError);
});

both('a JSON answer in pieces, chunked, or empty is read whole', async (t, transport) => {
  const client = await serve(t, (req, res) => {
    if (req.url === '/_ping') return ping(res);
    if (req.url!.includes('/empty')) {
      res.writeHead(204);
      res.end();
      return;
    }
    // No content-length: node:http sends it chunked, in two writes.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"Id":"a');
    setTimeout(() => res.end('bc","Warnings":[]}'), 5);
  }, transport);
  assert.deepEqual(await client.inspectImage('pieces'), { Id: 'abc', Warnings: [] });
  assert.equal(await client.inspectImage('empty'), undefined);
});
