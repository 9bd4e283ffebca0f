import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cacheKey, explainMiss, filesDigest } from './cache-key.js';
import { BuildCacheStore } from './cache-store.js';

test('cacheKey depends on parent, instruction and file contents but not on file order', () => {
  const a = filesDigest([['a', 'sha256:1'], ['b', 'sha256:2']]);
  const b = filesDigest([['b', 'sha256:2'], ['a', 'sha256:1']]);
  assert.equal(a, b);
  const k = cacheKey('p', { instruction: 'COPY . .', filesDigest: a });
  assert.equal(k, cacheKey('p', { instruction: 'COPY . .', filesDigest: b }));
  assert.notEqual(k, cacheKey('q', { instruction: 'COPY . .', filesDigest: a }));
  assert.notEqual(k, cacheKey('p', { instruction: 'COPY . /x', filesDigest: a }));
  assert.notEqual(k, cacheKey('p', { instruction: 'COPY . .', filesDigest: filesDigest([['a', 'sha256:9'], ['b', 'sha256:2']]) }));
});

test('explainMiss names the changed file, the changed build arg, the changed base and the changed instruction', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cache-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await BuildCacheStore.open(dir);
  const files = { 'src/a.ts': 'sha256:1 644', 'src/b.ts': 'sha256:2 644' };
  await store.put('k1', { imageId: 'sha256:i1', parentKey: 'p', size: 1, inputs: { instruction: 'COPY src/ ./', files, filesDigest: filesDigest(Object.entries(files)) } });
  await store.put('k2', { imageId: 'sha256:i2', parentKey: 'p2', size: 0, inputs: { instruction: 'RUN make', args: { V: 'x' } } });
  await store.put('k3', { imageId: 'sha256:i3', parentKey: 'image:sha256:old', size: 0, inputs: { instruction: 'RUN true', base: 'sha256:old' } });
  const changed = { ...files, 'src/a.ts': 'sha256:9 644' };
  assert.equal(await explainMiss(store, 'p', { instruction: 'COPY src/ ./', files: changed, filesDigest: filesDigest(Object.entries(changed)) }, false), 'file changed: "src/a.ts"');
  assert.equal(await explainMiss(store, 'p2', { instruction: 'RUN make', args: { V: 'y' } }, false), 'build arg changed: V');
  assert.match(await explainMiss(store, 'image:sha256:new', { instruction: 'RUN true', base: 'sha256:new' }, false), /base image changed: old → new/);
  assert.match(await explainMiss(store, 'p2', { instruction: 'RUN make all' }, false), /instruction changed \(was: RUN make\)/);
  assert.equal(await explainMiss(store, 'p', { instruction: 'x' }, true), 'an earlier step changed');
  const reopened = await BuildCacheStore.open(dir);
  assert.equal(reopened.get('k1')?.imageId, 'sha256:i1');
});
