import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { withoutGenerated } from './commit-layer.js';

function layerOf(entries: Array<[string, string?]>): Readable {
  const p = pack();
  for (const [name, body] of entries) {
    if (name.endsWith('/')) p.entry({ name, type: 'directory', mode: 0o755 });
    else p.entry({ name, mode: 0o644 }, body ?? '');
  }
  p.finalize();
  return p as unknown as Readable;
}

async function entriesOf(tar: Readable): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  const x = extract();
  x.on('entry', (h, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: unknown) => chunks.push(c as Buffer));
    body.on('end', () => {
      out.push([h.name, Buffer.concat(chunks).toString()]);
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    x.on('finish', () => resolve()).on('error', reject);
    tar.on('error', reject);
  });
  tar.pipe(x);
  await done;
  return out;
}

test('a committed layer leaves out /.dockerenv, the mount points runc made and the directories that held only those', async () => {
  const layer = layerOf([
    ['.dockerenv'],
    ['etc/'], ['etc/hostname'], ['etc/hosts'], ['etc/resolv.conf'],
    ['sbin/'], ['sbin/docker-init'],
    ['tmp/'], ['tmp/f', 'x'],
    ['empty/'],
    ['usr/'], ['usr/local/'], ['usr/local/bin/'], ['usr/local/bin/tool', 'bin'],
  ]);
  assert.deepEqual(await entriesOf(withoutGenerated(layer)), [
    ['tmp/', ''], ['tmp/f', 'x'],
    ['empty/', ''],
    ['usr/', ''], ['usr/local/', ''], ['usr/local/bin/', ''], ['usr/local/bin/tool', 'bin'],
  ]);
});

test('a directory with a real change beside the mount points stays, with that change', async () => {
  const layer = layerOf([['etc/'], ['etc/hosts'], ['etc/passwd', 'root'], ['etc/resolv.conf'], ['.wh.gone']]);
  assert.deepEqual(await entriesOf(withoutGenerated(layer)), [['etc/', ''], ['etc/passwd', 'root'], ['.wh.gone', '']]);
});

test('an error in the layer reaches the reader of the committed layer', async () => {
  const broken = new Readable({ read() { this.destroy(new Error('disk gone')); } });
  await assert.rejects(entriesOf(withoutGenerated(broken)), /disk gone/);
});

test('a reader that goes early stops the layer it reads from', async () => {
  const layer = new Readable({ read() {} });
  const filtered = withoutGenerated(layer);
  filtered.destroy();
  await new Promise((r) => setImmediate(r));
  assert.equal(layer.destroyed, true);
});
