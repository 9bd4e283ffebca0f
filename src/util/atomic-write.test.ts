import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncFile, writeFileAtomic } from './atomic-write.js';

test('writeFileAtomic replaces the content and leaves no temp file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-aw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'f.json');
  await writeFileAtomic(p, 'one');
  await writeFileAtomic(p, 'two');
  assert.equal(await readFile(p, 'utf8'), 'two');
  assert.deepEqual(await readdir(dir), ['f.json']);
});

test('syncFile syncs a file written without fsync, keeps its content, and reports a missing one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-aw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'state.json');
  await writeFileAtomic(p, 'running', { durable: false });
  await syncFile(p);
  assert.equal(await readFile(p, 'utf8'), 'running');
  await assert.rejects(syncFile(join(dir, 'gone.json')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test("a 'background' write is in place when it resolves, and a file removed before its sync is no error", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-aw-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'net.json');
  await writeFileAtomic(p, 'one', { durable: 'background' });
  assert.equal(await readFile(p, 'utf8'), 'one');
  await rm(p);
  // The sync that follows finds nothing: it must not surface as an unhandled rejection.
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await readdir(dir), []);
});
