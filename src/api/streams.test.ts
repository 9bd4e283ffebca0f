import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { JsonLineWriter, stdioWriter } from './streams.js';

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
