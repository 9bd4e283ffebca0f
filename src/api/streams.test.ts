import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { JsonLineWriter, parseMuxFrames, stdioWriter } from './streams.js';

/** A connection that accepts one small write, then reports backpressure and fails like a reset peer. */
function resettingConnection(): Writable {
  const conn = new Writable({ highWaterMark: 1, write: (_c, _e, cb) => setImmediate(cb) });
  return conn;
}

test('a client that resets mid-stream ends multiplexed output without an error escaping', async () => {
  const conn = resettingConnection();
  const io = stdioWriter(conn, { multiplexed: true });
  const errors: unknown[] = [];
  io.stdout.on('error', (e) => errors.push(e));
  const pending = new Promise<void>((resolve) => io.stdout.write(Buffer.alloc(1 << 17, 1), () => resolve()));
  conn.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  await pending;
  io.stdout.write(Buffer.from('after the reset'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(errors, []);
});

test('a JSON progress stream stops writing once its client is gone', async () => {
  const conn = resettingConnection();
  const w = new JsonLineWriter(conn);
  const first = w.write({ status: 'x'.repeat(1024) });
  conn.destroy(new Error('EPIPE'));
  await first;
  assert.equal(w.isEnded, true);
  await w.write({ status: 'dropped' });
});

test('a large chunk leaves as frames of at most 1 MiB whose payloads rebuild it, stdout and stderr never interleaved', async () => {
  const got: Buffer[] = [];
  const conn = new Writable({ highWaterMark: 1024, write: (c: Buffer, _e, cb) => (got.push(Buffer.from(c)), setImmediate(cb)) });
  const io = stdioWriter(conn, { multiplexed: true });
  const big = Buffer.alloc(2.5 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const written = (w: Writable, data: Buffer) => new Promise<void>((resolve, reject) => w.write(data, (err) => (err ? reject(err) : resolve())));
  await Promise.all([written(io.stdout, big), written(io.stderr, Buffer.from('err\n'))]);
  const { frames, rest } = parseMuxFrames(Buffer.concat(got));
  assert.equal(rest.length, 0);
  assert.ok(frames.every((f) => f.payload.length <= 1024 * 1024));
  assert.ok(Buffer.concat(frames.filter((f) => f.stream === 1).map((f) => f.payload)).equals(big));
  assert.deepEqual(frames.filter((f) => f.stream === 2).map((f) => f.payload.toString()), ['err\n']);
});
