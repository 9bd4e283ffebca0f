import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChunkedDecoder, RawHttpPool, parseHead, type RawRequest, type RawResponse } from './raw-http.js';
import { readBodyText } from './engine-client.js';

/** A byte-level server: `onRequest` gets each request's head (and body) and the connection. */
async function rawServer(
  t: { after(fn: () => unknown): void },
  onRequest: (head: string, body: Buffer, sock: Socket, n: number) => void,
): Promise<{ pool: RawHttpPool; connections: () => number }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-raw-http-'));
  const socketPath = join(dir, 's.sock');
  let connections = 0;
  let requests = 0;
  const open = new Set<Socket>();
  const server = createServer((sock) => {
    connections++;
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.subarray(end + 4, end + 4 + len);
        buf = buf.subarray(end + 4 + len);
        onRequest(head, body, sock, requests++);
      }
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  const pool = new RawHttpPool({ socketPath });
  t.after(async () => {
    pool.destroy();
    for (const s of open) s.destroy();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  return { pool, connections: () => connections };
}

function req(path: string, extra: Partial<RawRequest> = {}): RawRequest {
  return {
    method: 'GET',
    path,
    headers: { host: 'api.moby.localhost' },
    connectTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    timeoutError: () => new Error('timed out'),
    ...extra,
  };
}

async function text(res: RawResponse): Promise<string> {
  return readBodyText(res.body);
}

test('a response whose head and body arrive in pieces is read whole, and the connection is used again', async (t) => {
  const { pool, connections } = await rawServer(t, (head, body, sock) => {
    const reply = `echo:${head.split('\r\n')[0]}:${body.toString()}`;
    const bytes = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Twice: a\r\nX-Twice: b\r\nContent-Length: ${Buffer.byteLength(reply)}\r\n\r\n${reply}`);
    // One byte at a time for the first 40, then the rest.
    void (async () => {
      for (let i = 0; i < 40; i++) {
        sock.write(bytes.subarray(i, i + 1));
        await sleep(1);
      }
      sock.write(bytes.subarray(40));
    })();
  });
  const a = await pool.request(req('/one'));
  assert.equal(a.statusCode, 200);
  assert.equal(a.headers['content-type'], 'text/plain');
  assert.equal(a.headers['x-twice'], 'a, b');
  assert.equal(await text(a), 'echo:GET /one HTTP/1.1:');
  const b = await pool.request(req('/two', { method: 'POST', body: Buffer.from('{"x":1}') }));
  assert.equal(await text(b), 'echo:POST /two HTTP/1.1:{"x":1}');
  assert.equal(connections(), 1);
});

test('a chunked body is decoded across any split, and 204 and HEAD answers have no body', async (t) => {
  const { pool } = await rawServer(t, (head, _body, sock) => {
    if (head.startsWith('POST /none')) sock.write('HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n');
    else if (head.startsWith('HEAD')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n');
    else {
      const bytes = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\nB\r\nworld, more\r\n0\r\nX-Trailer: y\r\n\r\n');
      void (async () => {
        for (let i = 0; i < bytes.length; i += 3) {
          sock.write(bytes.subarray(i, i + 3));
          await sleep(0);
        }
      })();
    }
  });
  assert.equal(await text(await pool.request(req('/chunked'))), 'hello world, more');
  const none = await pool.request(req('/none', { method: 'POST' }));
  assert.equal(none.statusCode, 204);
  assert.equal(await text(none), '');
  assert.equal(await text(await pool.request(req('/h', { method: 'HEAD' }))), '');
  // The connection is still in step: another chunked answer on it reads the same.
  assert.equal(await text(await pool.request(req('/chunked'))), 'hello world, more');
});

test('the chunked decoder takes a body one byte at a time and returns what follows it', () => {
  const bytes = Buffer.from('3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\nNEXT');
  const d = new ChunkedDecoder();
  let out = '';
  let rest: Buffer = Buffer.alloc(0);
  for (let i = 0; i < bytes.length && !d.done; i++) {
    const r = d.feed(bytes.subarray(i, i + 1));
    out += Buffer.concat(r.out).toString();
    rest = r.rest;
  }
  assert.equal(out, 'abc0123456789abcdef');
  assert.ok(d.done);
  assert.equal(rest.length, 0);
  assert.throws(() => new ChunkedDecoder().feed(Buffer.from('zz\r\n')), /malformed chunked body/);
});

test('a response without a length is read to the end of the connection, which is not used again', async (t) => {
  const { pool, connections } = await rawServer(t, (_head, _body, sock) => {
    sock.write('HTTP/1.0 200 OK\r\n\r\nall of ');
    setTimeout(() => sock.end('it'), 5);
  });
  assert.equal(await text(await pool.request(req('/a'))), 'all of it');
  assert.equal(await text(await pool.request(req('/b'))), 'all of it');
  assert.equal(connections(), 2);
});

test('a connection that drops mid-answer fails the request or its body, and a dropped idle one is replaced', async (t) => {
  const { pool, connections } = await rawServer(t, (head, _body, sock) => {
    if (head.startsWith('GET /hangup')) sock.destroy();
    else if (head.startsWith('GET /half')) {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      setTimeout(() => sock.destroy(), 5);
    } else {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      // The server's keep-alive timeout, right after answering.
      if (head.startsWith('GET /then-close')) setTimeout(() => sock.end(), 5);
    }
  });
  await assert.rejects(pool.request(req('/hangup')), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET' && e.message === 'socket hang up');
  const half = await pool.request(req('/half'));
  await assert.rejects(text(half), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
  assert.equal(await text(await pool.request(req('/then-close'))), 'ok');
  await sleep(30);
  assert.equal(await text(await pool.request(req('/fine'))), 'ok');
  assert.equal(connections(), 4);
});

test('an upgrade hands over the socket with what followed the 101, and nothing sent before the new owner listens is lost', async (t) => {
  const { pool } = await rawServer(t, (head, body, sock) => {
    if (head.includes('/refused')) {
      sock.write('HTTP/1.1 404 Not Found\r\nContent-Length: 17\r\n\r\n{"message":"no"}\n');
      return;
    }
    assert.match(head, /\r\nupgrade: tcp/i);
    assert.equal(body.toString(), '{"Tty":false}');
    sock.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nfirst;');
    setTimeout(() => sock.write('second;'), 1);
    sock.once('data', (d) => sock.end(`echo:${d.toString()}`));
  });
  const up = await pool.upgrade(req('/attach', { method: 'POST', body: Buffer.from('{"Tty":false}') }));
  assert.ok('socket' in up);
  // `head` is what came in the 101's read: 'first;', and 'second;' too when a loaded host
  // delivered both at once. Either way nothing is lost or doubled between head and socket.
  const head = up.head.toString();
  assert.ok(head === 'first;' || head === 'first;second;', head);
  // The owner starts reading only later (run registers its wait first).
  await sleep(20);
  up.socket.write('in');
  let got = '';
  for await (const c of up.socket) got += String(c);
  assert.equal(head + got, 'first;second;echo:in');
  const refused = await pool.upgrade(req('/refused', { method: 'POST' }));
  assert.ok(!('socket' in refused));
  assert.equal(refused.statusCode, 404);
  assert.equal(await text(refused), '{"message":"no"}\n');
});

test('a large body comes out whole through a slow reader (and its connection serves the next request), an abort fails the request and a silent server times out', async (t) => {
  const big = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const { pool } = await rawServer(t, (head, _body, sock) => {
    if (head.startsWith('GET /big')) sock.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`), big]));
    if (head.startsWith('GET /small')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall');
    // /silent and /abort: no answer.
  });
  const res = await pool.request(req('/big'));
  const parts: Buffer[] = [];
  for await (const c of res.body) {
    parts.push(c as Buffer);
    if (parts.length % 16 === 0) await sleep(1);
  }
  assert.ok(Buffer.concat(parts).equals(big));
  // The connection the slow reader paused carries the next exchange.
  assert.equal(await text(await pool.request(req('/small'))), 'small');
  const ac = new AbortController();
  const aborted = pool.request(req('/abort', { signal: ac.signal }));
  setTimeout(() => ac.abort(), 5);
  await assert.rejects(aborted, (e: Error) => e.name === 'AbortError');
  await assert.rejects(pool.request(req('/silent', { idleTimeoutMs: 30 })), /timed out/);
});

test('a status line or header that is not HTTP is an error', () => {
  assert.throws(() => parseHead('SSH-2.0-OpenSSH'), /not HTTP/);
  assert.throws(() => parseHead('HTTP/1.1 200 OK\r\nno colon here'), /malformed header/);
  assert.deepEqual(parseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive').closes, false);
  assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nConnection: close').closes, true);
});

test('status lines are read with or without a reason', () => {
  assert.equal(parseHead('HTTP/1.1 204').statusCode, 204);
  assert.equal(parseHead('HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp').headers['upgrade'], 'tcp');
  assert.throws(() => parseHead('HTTP/1.1 2000 OK'), /not HTTP/);
  assert.throws(() => parseHead('HTTP/2.0 200 OK'), /not HTTP/);
  assert.throws(() => parseHead('HTTP/1.1 abc OK'), /not HTTP/);
});

test('a body its reader destroys before the end closes its connection; one read to the end does not', async (t) => {
  const closedSockets = new Set<Socket>();
  const { pool, connections } = await rawServer(t, (head, _body, sock) => {
    sock.once('close', () => closedSockets.add(sock));
    if (head.startsWith('GET /endless')) {
      sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      const tick = setInterval(() => sock.write('1\r\n.\r\n'), 2);
      sock.once('close', () => clearInterval(tick));
    } else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const full = await pool.request(req('/short'));
  assert.equal(await text(full), 'ok');
  const endless = await pool.request(req('/endless'));
  for await (const c of endless.body) {
    assert.equal(String(c), 'hello');
    break;
  }
  for (let i = 0; i < 100 && closedSockets.size === 0; i++) await sleep(5);
  assert.equal(closedSockets.size, 1, 'the endless answer\'s connection was closed');
  assert.equal(await text(await pool.request(req('/short'))), 'ok');
  assert.equal(connections(), 2);
});

test('a buffered request gets the same answers whole, and a drop after the head is its bodyError', async (t) => {
  const { pool, connections } = await rawServer(t, (head, _body, sock) => {
    if (head.startsWith('GET /hangup')) sock.destroy();
    else if (head.startsWith('GET /half')) {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      setTimeout(() => sock.destroy(), 5);
    } else if (head.startsWith('GET /chunked')) {
      const bytes = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
      void (async () => {
        for (let i = 0; i < bytes.length; i += 4) {
          sock.write(bytes.subarray(i, i + 4));
          await sleep(0);
        }
      })();
    } else if (head.startsWith('POST /none')) sock.write('HTTP/1.1 204 No Content\r\n\r\n');
    else sock.write('HTTP/1.1 404 Not Found\r\nContent-Length: 17\r\n\r\n{"message":"no"}\n');
  });
  const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString();
  const chunked = await pool.requestBuffered(req('/chunked'));
  assert.equal(chunked.statusCode, 200);
  assert.equal(text(chunked.chunks), 'hello world');
  const none = await pool.requestBuffered(req('/none', { method: 'POST' }));
  assert.deepEqual([none.statusCode, none.chunks, none.bodyError], [204, [], undefined]);
  const missing = await pool.requestBuffered(req('/missing'));
  assert.deepEqual([missing.statusCode, text(missing.chunks)], [404, '{"message":"no"}\n']);
  // The same connection carried all three.
  assert.equal(connections(), 1);
  await assert.rejects(pool.requestBuffered(req('/hangup')), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET' && e.message === 'socket hang up');
  const half = await pool.requestBuffered(req('/half'));
  assert.equal(half.statusCode, 200);
  assert.equal((half.bodyError as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET');
});
