import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultContainerSpec } from './container-spec.js';
import { ContainerStore, initialState, type ContainerConfigFile } from './container-store.js';

async function tempStore(t: { after(fn: () => Promise<void>): void }): Promise<ContainerStore> {
  const root = await mkdtemp(join(tmpdir(), 'berth-store-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = new ContainerStore(join(root, 'containers'));
  await store.init();
  return store;
}

function configOf(id: string): ContainerConfigFile {
  return {
    version: 1,
    id,
    name: 'web',
    created: new Date(0).toISOString(),
    spec: defaultContainerSpec('busybox'),
    image: { id: 'sha256:' + 'b'.repeat(64), ref: 'busybox', config: {} },
    path: 'sh',
    args: [],
    rootfsKey: id,
    mountPoints: [],
  };
}

test('a container created but never changed loads with the initial state (no state.json is written at create)', async (t) => {
  const store = await tempStore(t);
  const id = 'a'.repeat(64);
  await store.createDirs(id);
  await store.create(configOf(id));
  assert.deepEqual((await readdir(store.dir(id))).sort(), ['bundle', 'config.json', 'exits', 'userdata']);
  const loaded = await store.load(id);
  assert.equal(loaded.config.name, 'web');
  assert.deepEqual(loaded.state, initialState());
  await store.saveState(id, { ...initialState(), status: 'exited', exitCode: 3, hasBeenStarted: true });
  assert.equal((await store.load(id)).state.exitCode, 3);
});

test('remove takes the container out of the id namespace at once and init deletes what a crash left of removals', async (t) => {
  const store = await tempStore(t);
  const id = 'c'.repeat(64);
  await store.createDirs(id);
  await store.create(configOf(id));
  await store.remove(id);
  assert.deepEqual(await store.ids(), []);
  await store.remove(id);
  // What a crash during the background deletion leaves: a renamed directory.
  const left = join(store.root, `.removed-${'d'.repeat(64)}-0000`);
  await mkdir(join(left, 'userdata'), { recursive: true });
  await writeFile(join(left, 'config.json'), '{}');
  await store.init();
  assert.deepEqual((await readdir(store.root)).filter((n) => n.startsWith('.removed-') && n.includes('d'.repeat(64))), []);
});
