import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { extractToHost, packHostPath } from './container-cp-tar.js';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; body?: string };

async function tarOf(entries: Entry[]): Promise<Readable> {
  const p = pack();
  for (const e of entries) p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.type === 'directory' ? 0o755 : 0o644 }, e.body ?? '');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Readable.from([Buffer.concat(chunks)]);
}

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-cp-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('extraction renames the top entry and keeps files, directories and symlinks', async (t) => {
  const d = await tmp(t);
  const tar = await tarOf([
    { name: 'src/', type: 'directory' },
    { name: 'src/a.txt', body: 'A' },
    { name: 'src/l', type: 'symlink', linkname: 'a.txt' },
  ]);
  await extractToHost(tar, d, { from: 'src', to: 'dest', keepOwner: false });
  assert.equal(await readFile(join(d, 'dest', 'a.txt'), 'utf8'), 'A');
  assert.equal(await readlink(join(d, 'dest', 'l')), 'a.txt');
});

test('extraction refuses to write through a symlink an earlier entry planted, or above the target', async (t) => {
  const d = await tmp(t);
  const outside = await tmp(t);
  const target = join(d, 'target');
  await mkdir(target);
  const viaLink = await tarOf([
    { name: 'x', type: 'symlink', linkname: outside },
    { name: 'x/sub/evil', body: 'pwned' },
  ]);
  await assert.rejects(extractToHost(viaLink, target, { from: 'x', to: 'x', keepOwner: false }), /through the symlink/);
  assert.equal(existsSync(join(outside, 'sub')), false);
  const dotdot = await tarOf([{ name: '../escape', body: 'x' }]);
  await assert.rejects(extractToHost(dotdot, target, { from: '', to: '', keepOwner: false }), /outside/);
  assert.equal(existsSync(join(d, 'escape')), false);
});

test('packing a directory names entries under the chosen top name, owned by root unless kept', async (t) => {
  const d = await tmp(t);
  await mkdir(join(d, 'tree', 'sub'), { recursive: true });
  await writeFile(join(d, 'tree', 'sub', 'f'), 'F');
  const seen: string[] = [];
  const ex = extract();
  ex.on('entry', (h, s, next) => {
    seen.push(`${h.name} ${h.uid}`);
    s.on('end', () => next());
    s.resume();
  });
  const done = new Promise<void>((r, j) => {
    ex.on('finish', r);
    ex.on('error', j);
  });
  const p = packHostPath(join(d, 'tree'), { topName: 'renamed', keepOwner: false, followLink: false });
  (p as unknown as Readable).pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  assert.deepEqual(seen, ['renamed/ 0', 'renamed/sub/ 0', 'renamed/sub/f 0']);
});
