import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolWriter } from './spool-writer.js';

test('a spool writer appends every chunk in order across batches and a last partial batch', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spool-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = await open(join(dir, 'data'), 'w');
  const w = new SpoolWriter(file, 1000);
  const chunks = Array.from({ length: 257 }, (_, i) => Buffer.alloc(1 + (i % 37), i & 0xff));
  for (const c of chunks) await w.write(c);
  await w.end();
  await file.close();
  assert.deepEqual(await readFile(join(dir, 'data')), Buffer.concat(chunks));
});

test('a spool writer reports a failed write by end() at the latest', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spool-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await (await open(join(dir, 'data'), 'w')).close();
  const file = await open(join(dir, 'data'), 'r');
  const w = new SpoolWriter(file, 4);
  // The file is read-only: the batch's write fails; the caller must hear of it.
  await assert.rejects(async () => {
    for (let i = 0; i < 4; i++) await w.write(Buffer.from('abcd'));
    await w.end();
  }, /EBADF/);
  await file.close();
});
