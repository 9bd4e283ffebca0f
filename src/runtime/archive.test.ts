import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { overlayChanges } from './archive.js';

async function layers(t: { after: (fn: () => Promise<void>) => void }): Promise<{ upper: string; lower: string }> {
  const root = await mkdtemp(join(tmpdir(), 'berth-changes-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const lower = join(root, 'lower');
  await mkdir(join(lower, 'etc'), { recursive: true });
  await writeFile(join(lower, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  return { upper: join(root, 'upper'), lower };
}

test('/.dockerenv and a directory holding only the network files runc mounts over are no change, as under dockerd’s init layer', async (t) => {
  const { upper, lower } = await layers(t);
  await mkdir(join(upper, 'etc'), { recursive: true });
  for (const f of ['hosts', 'hostname', 'resolv.conf']) await writeFile(join(upper, 'etc', f), '');
  await mkdir(join(upper, 'sbin'), { recursive: true });
  await writeFile(join(upper, 'sbin', 'docker-init'), '');
  await writeFile(join(upper, '.dockerenv'), '');
  assert.deepEqual(await overlayChanges(upper, [lower]), []);
});

test('a real change beside the network files shows its directory as changed, and new and empty directories show as added', async (t) => {
  const { upper, lower } = await layers(t);
  await mkdir(join(upper, 'etc'), { recursive: true });
  await writeFile(join(upper, 'etc', 'hosts'), '');
  await writeFile(join(upper, 'etc', 'passwd'), 'changed\n');
  await mkdir(join(upper, 'newdir'), { recursive: true });
  await mkdir(join(upper, 'tmp', 'nested'), { recursive: true });
  await writeFile(join(upper, 'tmp', 'nested', 'f'), 'x');
  assert.deepEqual(await overlayChanges(upper, [lower]), [
    { path: '/etc', kind: 0 },
    { path: '/etc/passwd', kind: 0 },
    { path: '/newdir', kind: 1 },
    { path: '/tmp', kind: 1 },
    { path: '/tmp/nested', kind: 1 },
    { path: '/tmp/nested/f', kind: 1 },
  ]);
});
