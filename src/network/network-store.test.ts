import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkStore } from './network-store.js';
import { NETWORK_RECORD_VERSION, type NetworkRecord } from './types.js';

function sample(id: string): NetworkRecord {
  return {
    version: NETWORK_RECORD_VERSION,
    id,
    name: 'web',
    driver: 'bridge',
    created: new Date().toISOString(),
    internal: false,
    attachable: false,
    predefined: false,
    userSubnet: false,
    ipam: { driver: 'default', options: {}, config: [{ subnet: '10.1.0.0/24', gateway: '10.1.0.1' }] },
    options: {},
    labels: { a: 'b' },
    bridgeName: 'berth-abc',
    endpoints: {},
  };
}

test('records round-trip and temp leftovers are swept on init', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-net-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = new NetworkStore(root);
  await store.init();
  const id = 'a'.repeat(64);
  await store.save(sample(id));
  await writeFile(join(store.dir, `${id}.json.tmp-1-x`), 'partial');
  await store.init();
  assert.deepEqual(await readdir(store.dir), [`${id}.json`]);
  const [back] = await store.loadAll();
  assert.equal(back?.name, 'web');
  await store.remove(id);
  assert.deepEqual(await store.loadAll(), []);
});

test('a record that fails validation is reported with its path', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-net-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = new NetworkStore(root);
  await store.init();
  await writeFile(join(store.dir, `${'b'.repeat(64)}.json`), JSON.stringify({ version: 99 }));
  await assert.rejects(store.loadAll(), /is invalid/);
});
