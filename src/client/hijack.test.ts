import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EngineClient, EngineApiError } from './engine-client.js';
import { demultiplex, frame } from './stdio-frames.js';

test('frames split back into stdout and stderr even across chunk boundaries', async () => {
  const bytes = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, '')]);
  const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 13), bytes.subarray(13)];
  const frames = [];
  for await (const f of demultiplex(Readable.from(chunks))) frames.push([f.stream, f.data.toString()]);
  assert.deepEqual(frames, [[1, 'out\n'], [2, 'err\n'], [1, '']]);
});

test('a frame of several MiB split into many small chunks, and many frames in one chunk, come out whole and in order', async () => {
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 253;
  const small = Array.from({ length: 50 }, (_, i) => frame(i % 2 === 0 ? 1 : 2, `line ${i}\n`));
  const bytes = Buffer.concat([frame(1, big), ...small]);
  const chunks: Uint8Array[] = [];
  // Odd sizes up to the big frame's end, then all the small frames as one chunk.
  for (let off = 0; off < big.length + 8; off += 4099) chunks.push(new Uint8Array(bytes.subarray(off, Math.min(off + 4099, big.length + 8))));
  chunks.push(bytes.subarray(big.length + 8));
  const frames = [];
  for await (const f of demultiplex(Readable.from(chunks))) frames.push(f);
  assert.equal(frames.length, 51);
  assert.ok(frames[0]!.data.equals(big));
  assert.deepEqual(frames.slice(1).map((f) => [f.stream, f.data.toString()]), small.map((_, i) => [i % 2 === 0 ? 1 : 2, `line ${i}\n`]));
});

test('a truncated frame is an error, not a short read', async () => {
  const cut = frame(1, 'hello').subarray(0, 10);
  await assert.rejects(async () => {
    for await (const _f of demultiplex(Readable.from([cut]))) void _f;
  }, /truncated frame/);
});

for (const transport of ['node-http', 'socket'] as const) test(`hijack returns the upgraded socket, and a refused upgrade the API error (${transport})`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-hijack-'));
  const socketPath = join(dir, 's.sock');
  let body = '';
  const server = createServer((req, res) => {
    if (req.url === '/_ping') {
      res.writeHead(200, { 'API-Version': '1.45' });
      res.end('OK');
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'No such container: nope' }));
  });
  server.on('upgrade', (req, socket, head: Buffer) => {
    if (req.url?.includes('nope')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{"message":"No such container: nope"}');
      return;
    }
    // The request body (exec start options) comes first on the socket, then stdin.
    const want = Number(req.headers['content-length'] ?? 0);
    let pending = Buffer.from(head);
    const onData = (c: Buffer) => {
      pending = Buffer.concat([pending, c]);
      if (body.length < want && pending.length >= want) {
        body = pending.subarray(0, want).toString();
        pending = pending.subarray(want);
        socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      }
      if (body.length >= want && pending.length) socket.end(frame(1, `echo:${pending.toString()}`));
    };
    socket.on('data', onData);
    onData(Buffer.alloc(0));
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  const client = new EngineClient({ host: `unix://${socketPath}`, transport });
  t.after(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  const conn = await client.hijack('POST', '/exec/abc/start', { body: { Detach: false, Tty: false } });
  conn.socket.write('hi');
  const got: string[] = [];
  for await (const f of demultiplex(conn.socket)) got.push(f.data.toString());
  assert.deepEqual(got, ['echo:hi']);
  assert.equal(body, '{"Detach":false,"Tty":false}');
  await assert.rejects(client.hijack('POST', '/containers/nope/attach'), (e: unknown) => e instanceof EngineApiError && e.statusCode === 404 && e.message === 'No such container: nope');
});
