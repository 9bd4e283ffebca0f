// readLocalContext against the tar the CLI sends for the same directory (no root needed).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { contextTar } from '../../../src/cli/commands/build.js';
import { loadDockerignore } from '../../../src/builder/context/index.js';
import { unpackContext } from '../../../src/builder/context-intake.js';
import { FileHasher } from '../../../src/builder/file-hash.js';
import { readLocalContext } from '../../../src/builder/local-context.js';

test('a local context gives the same entries as the tar the CLI would send, and a second read hashes nothing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-localctx-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const ctx = join(root, 'ctx');
  await mkdir(join(ctx, 'src/sub'), { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
  await writeFile(join(ctx, '.dockerignore'), '*.tmp\nsecret/\n');
  await writeFile(join(ctx, 'src/a.txt'), 'a');
  await writeFile(join(ctx, 'src/sub/b.bin'), Buffer.alloc(300_000, 7));
  await writeFile(join(ctx, 'junk.tmp'), 'ignored');
  await mkdir(join(ctx, 'secret'));
  await writeFile(join(ctx, 'secret/key'), 'ignored');
  await symlink('src/a.txt', join(ctx, 'link'));

  const hasher = await FileHasher.open(join(root, 'index.json'), { racyMs: 0 });
  const local = await readLocalContext(ctx, 'Dockerfile', hasher, join(root, 'tree1'));
  const tar = contextTar(ctx, join(ctx, 'Dockerfile'), await loadDockerignore(ctx, 'Dockerfile'));
  await mkdir(join(root, 'spool'));
  const fromTar = await unpackContext(tar.stream, join(root, 'spool'));
  t.after(() => fromTar.spool.close());
  const shape = (m: typeof local.entries) =>
    [...m].map(([p, e]) => ({ p, type: e.type, mode: e.mode, size: e.size, mtime: e.mtime.getTime(), digest: e.digest, linkname: e.linkname })).sort((a, b) => (a.p < b.p ? -1 : 1));
  assert.deepEqual(shape(local.entries), shape(fromTar.entries));
  assert.ok(!local.entries.has('junk.tmp') && !local.entries.has('secret/key'));
  assert.equal((await local.spool.read(local.entries.get('src/a.txt')!)).toString(), 'a');
  let streamed = 0;
  for await (const c of local.spool.stream(local.entries.get('src/sub/b.bin')!)) streamed += (c as Buffer).length;
  assert.equal(streamed, 300_000);
  assert.equal(hasher.counts.hashed, 4);

  const restarted = await FileHasher.open(join(root, 'index.json'), { racyMs: 0 });
  const again = await readLocalContext(ctx, 'Dockerfile', restarted, join(root, 'tree2'));
  assert.deepEqual(shape(again.entries), shape(local.entries));
  assert.deepEqual(restarted.counts, { hashed: 0, reused: 4 });
  const tree = await again.spool.materialize();
  assert.equal(tree, join(root, 'tree2'));
});

test('a local context must be an absolute directory', async () => {
  const h = new FileHasher();
  await assert.rejects(readLocalContext('relative/dir', 'Dockerfile', h, '/tmp/x'), /not an absolute path/);
  await assert.rejects(readLocalContext('/nonexistent-berth-dir', 'Dockerfile', h, '/tmp/x'), /not accessible/);
});
