import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferred } from './container-record.js';

test('a wait given up leaves no waiter behind, and the others still get the value', async () => {
  const d = deferred<number>();
  const leaving = new AbortController();
  const staying = new AbortController();
  const given = d.wait(leaving.signal);
  const kept = d.wait(staying.signal);
  assert.equal(d.waiting, 2);
  leaving.abort(new Error('client left'));
  await assert.rejects(given, /client left/);
  assert.equal(d.waiting, 1);
  d.resolve(7);
  assert.equal(await kept, 7);
  assert.equal(d.waiting, 0);
});

test('a wait after the value is there, or with a signal already aborted, settles at once', async () => {
  const d = deferred<string>();
  const gone = new AbortController();
  gone.abort(new Error('already gone'));
  await assert.rejects(d.wait(gone.signal), /already gone/);
  assert.equal(d.waiting, 0);
  d.resolve('done');
  assert.equal(await d.wait(new AbortController().signal), 'done');
  assert.equal(await d.wait(), 'done');
});
