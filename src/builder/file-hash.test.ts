import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FileHasher } from './file-hash.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-filehash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

test('an unchanged file is answered from the stat index and a changed one is read again', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'a.txt');
  await writeFile(f, 'one');
  const h = new FileHasher(undefined, 0);
  assert.equal(await h.digestOf(f), sha('one'));
  assert.equal(await h.digestOf(f), sha('one'));
  assert.deepEqual(h.counts, { hashed: 1, reused: 1 });
  await writeFile(f, 'two!');
  assert.equal(await h.digestOf(f), sha('two!'));
  assert.deepEqual(h.counts, { hashed: 2, reused: 1 });
});

test('a file changed just before it was hashed is not remembered (its timestamps may not move again)', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'fresh.txt');
  await writeFile(f, 'x');
  const h = new FileHasher(undefined, 60_000);
  await h.digestOf(f);
  await h.digestOf(f);
  assert.deepEqual(h.counts, { hashed: 2, reused: 0 });
});

test('the index survives a restart through its file', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'a.txt');
  const index = join(dir, 'file-index.json');
  await writeFile(f, 'content');
  const first = await FileHasher.open(index, { racyMs: 0 });
  await first.digestOf(f);
  await first.flush();
  const second = await FileHasher.open(index, { racyMs: 0 });
  assert.equal(await second.digestOf(f), sha('content'));
  assert.deepEqual(second.counts, { hashed: 0, reused: 1 });
});

test('a corrupt index file is replaced, not fatal', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'a.txt');
  const index = join(dir, 'file-index.json');
  await writeFile(f, 'content');
  for (const bad of ['{"version":1,"files":{"x":["k","md5:zz"]}}', '{not json', '{"version":99,"files":{}}']) {
    await writeFile(index, bad);
    const h = await FileHasher.open(index, { racyMs: 0 });
    assert.equal(await h.digestOf(f), sha('content'));
    assert.equal(h.counts.hashed, 1);
    await h.flush();
    const parsed = JSON.parse(await readFile(index, 'utf8')) as { version: number; files: Record<string, [string, string]> };
    assert.equal(parsed.version, 1);
    assert.equal(parsed.files[f]?.[1], sha('content'));
  }
});
