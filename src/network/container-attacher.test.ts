import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostsNames, readHostResolvOptions } from './container-attacher.js';

test('search domains and options come from the host resolv.conf, nameservers do not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-resolv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'resolv.conf');
  await writeFile(p, '# comment\nnameserver 10.0.0.53\nsearch a.test b.test\noptions edns0 timeout:2\n');
  assert.deepEqual(await readHostResolvOptions(p), { search: ['a.test', 'b.test'], options: ['edns0', 'timeout:2'] });
  assert.deepEqual(await readHostResolvOptions(join(dir, 'missing')), { search: [], options: [] });
});

test('a container’s own hosts line names it as dockerd does: with its domain, a dotted hostname with its first label too', () => {
  assert.equal(hostsNames('abc123', ''), 'abc123');
  assert.equal(hostsNames('h', 'ex.com'), 'h.ex.com h');
  assert.equal(hostsNames('a.b.c', ''), 'a.b.c a');
});
