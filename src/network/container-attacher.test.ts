import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHostResolvOptions } from './container-attacher.js';

test('search domains and options come from the host resolv.conf, nameservers do not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-resolv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'resolv.conf');
  await writeFile(p, '# comment\nnameserver 10.0.0.53\nsearch a.test b.test\noptions edns0 timeout:2\n');
  assert.deepEqual(await readHostResolvOptions(p), { search: ['a.test', 'b.test'], options: ['edns0', 'timeout:2'] });
  assert.deepEqual(await readHostResolvOptions(join(dir, 'missing')), { search: [], options: [] });
});
