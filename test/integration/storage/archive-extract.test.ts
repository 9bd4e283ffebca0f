// extractArchive into a tree with another mount below the destination (a volume inside a
// container root): entries that land on the other mount are copied, not renamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { run } from '../../../src/util/index.js';
import { extractArchive, readMounts } from '../../../src/storage/index.js';
import { buildTar } from '../../../src/storage/tar/tar-builder.js';

const skip = process.getuid?.() === 0 ? false : 'needs root to mount a tmpfs';

test('extractArchive copies entries onto a mount below the destination', { skip }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-archive-mount-'));
  const volume = join(root, 'data');
  await mkdir(volume);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', volume], { timeoutMs: 10_000 });
  t.after(async () => {
    if ((await readMounts()).some((m) => m.mountPoint === volume)) await run('umount', [volume], { timeoutMs: 10_000 });
    await rm(root, { recursive: true, force: true });
  });
  const tar = buildTar([
    { name: 'data/', type: 'dir', mode: 0o755 },
    { name: 'data/sub/', type: 'dir', mode: 0o750, uid: 11, gid: 12, mtime: 1_600_000_000 },
    { name: 'data/sub/file', data: 'on the volume', mode: 0o640, uid: 11, gid: 12, mtime: 1_600_000_001 },
    { name: 'data/sub/link', type: 'symlink', linkname: 'file' },
    { name: 'data/top', data: 'also on the volume' },
    { name: 'beside', data: 'on the root fs' },
  ]);
  await extractArchive(Readable.from([tar]), root);
  assert.equal(await readFile(join(volume, 'sub/file'), 'utf8'), 'on the volume');
  const f = await stat(join(volume, 'sub/file'));
  assert.deepEqual([f.mode & 0o777, f.uid, f.gid, f.mtimeMs], [0o640, 11, 12, 1_600_000_001_000]);
  const d = await stat(join(volume, 'sub'));
  assert.deepEqual([d.mode & 0o777, d.uid, d.mtimeMs], [0o750, 11, 1_600_000_000_000]);
  assert.equal(await readlink(join(volume, 'sub/link')), 'file');
  assert.equal(await readFile(join(volume, 'top'), 'utf8'), 'also on the volume');
  assert.equal(await readFile(join(root, 'beside'), 'utf8'), 'on the root fs');
  assert.ok((await lstat(volume)).isDirectory());
});
