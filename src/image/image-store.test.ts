import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Digest } from '../util/index.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import { parseImageRef } from './reference.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-image-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function record(seed: string): ImageRecord {
  return { id: sha256Digest(seed), layers: [], diffIds: [], created: '2024-01-01T00:00:00Z', size: 0 };
}

test('records and references survive a reopen of the index', async (t) => {
  const dir = await tempDir(t);
  const store = await ImageStore.open(dir);
  const rec = record('a');
  await store.update((txn) => {
    txn.putImage(rec);
    txn.setRef(parseImageRef('busybox'), rec.id);
  });
  const again = await ImageStore.open(dir);
  assert.deepEqual(again.get(rec.id), rec);
  assert.equal(again.lookupRef(parseImageRef('busybox:latest')), rec.id);
  assert.deepEqual(again.refsOf(rec.id), ['docker.io/library/busybox:latest']);
  const onDisk = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  assert.equal(onDisk.version, 1);
});

test('an update that throws leaves the index unchanged in memory and on disk', async (t) => {
  const dir = await tempDir(t);
  const store = await ImageStore.open(dir);
  await store.update((txn) => txn.putImage(record('a')));
  const before = await readFile(join(dir, 'index.json'), 'utf8');
  await assert.rejects(
    store.update((txn) => {
      txn.putImage(record('b'));
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(store.get(record('b').id), undefined);
  assert.equal(await readFile(join(dir, 'index.json'), 'utf8'), before);
});

test('id prefixes resolve uniquely and ambiguous prefixes are rejected', async (t) => {
  const dir = await tempDir(t);
  const store = await ImageStore.open(dir);
  const a = record('a');
  const b = record('b');
  await store.update((txn) => {
    txn.putImage(a);
    txn.putImage(b);
  });
  assert.equal(store.searchId(a.id.slice(7, 19)), a.id);
  assert.equal(store.searchId(a.id), a.id);
  assert.equal(store.searchId('busybox'), undefined);
  // Find a common prefix of length 0 → ambiguous only when both match; use a 1-char prefix that both share if any.
  const common = a.id[7] === b.id[7] ? a.id.slice(7, 8) : undefined;
  if (common) assert.throws(() => store.searchId(common), /ambiguous/);
});

test('an index with an unknown version is refused rather than misread', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'index.json'), JSON.stringify({ version: 99, images: {}, refs: {} }));
  await assert.rejects(ImageStore.open(dir), /unsupported version 99/);
});
