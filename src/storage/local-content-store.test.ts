import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { errorKind, sha256Digest } from '../util/index.js';
import { LocalContentStore } from './local-content-store.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-content-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('committed blobs are read-only files named by their hex digest', async (t) => {
  const root = await tempDir(t);
  const store = await LocalContentStore.open(root);
  const info = await store.put('{"schemaVersion":2}');
  const st = await stat(join(root, 'blobs', 'sha256', info.digest.slice(7)));
  assert.equal(st.mode & 0o777, 0o444);
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
});

test('a second writer on the same ref gets unavailable', async (t) => {
  const store = await LocalContentStore.open(await tempDir(t));
  const data = Buffer.from('layer bytes');
  const digest = sha256Digest(data);
  const slow = new Readable({ read() {} });
  const first = store.ingest(slow, { digest }, { ref: 'pull-layer-1' });
  await assert.rejects(store.ingest(Readable.from([data]), { digest }, { ref: 'pull-layer-1' }), (e) => errorKind(e) === 'unavailable');
  slow.push(data);
  slow.push(null);
  assert.deepEqual(await first, { digest, size: data.length });
});

test('a second ingest of a blob being written waits for the first and reuses it', async (t) => {
  const store = await LocalContentStore.open(await tempDir(t));
  const data = Buffer.from('shared layer');
  const digest = sha256Digest(data);
  const slow = new Readable({ read() {} });
  const first = store.ingest(slow, { digest });
  const second = store.ingest(Readable.from([data]), { digest });
  slow.push(data);
  slow.push(null);
  assert.deepEqual(await first, { digest, size: data.length });
  assert.deepEqual(await second, { digest, size: data.length });
});

test('when the first writer of a blob fails, a waiting second writer writes it', async (t) => {
  const store = await LocalContentStore.open(await tempDir(t));
  const data = Buffer.from('retry me');
  const digest = sha256Digest(data);
  const broken = new Readable({ read() {} });
  const first = store.ingest(broken, { digest });
  const second = store.ingest(Readable.from([data]), { digest });
  broken.destroy(new Error('connection reset'));
  await assert.rejects(first);
  assert.deepEqual(await second, { digest, size: data.length });
});

test('opening the store sweeps ingests left by a crash', async (t) => {
  const root = await tempDir(t);
  await mkdir(join(root, 'ingest'), { recursive: true });
  await writeFile(join(root, 'ingest', 'stale'), 'half a layer');
  await LocalContentStore.open(root);
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
});
