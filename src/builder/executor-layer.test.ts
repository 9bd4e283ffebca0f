import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { counted } from './executor.js';
import { byteCounter } from './snapshot-work.js';

test('a layer that fails mid-stream fails the counted stream the commit reads, instead of going unhandled', async () => {
  async function* failing(): AsyncGenerator<Buffer> {
    yield Buffer.from('abc');
    throw new Error('invalid tar: archive is truncated (unexpected end of data)');
  }
  const counter = byteCounter();
  const out = counted(Readable.from(failing()), counter);
  await assert.rejects(async () => {
    for await (const _ of out) void _;
  }, /archive is truncated/);
  assert.equal(counter.bytes, 3);
});

test('a commit that stops reading stops the layer', async () => {
  const layer = new Readable({ read() { this.push(Buffer.alloc(1024)); } });
  const out = counted(layer, byteCounter());
  out.destroy();
  await new Promise((r) => setImmediate(r));
  assert.equal(layer.destroyed, true);
});
