// Runs the ContentStore conformance suite against LocalContentStore (needs no root).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalContentStore } from '../../../src/storage/index.js';
import { contentStoreSuite } from '../../suites/content-store.js';

contentStoreSuite('LocalContentStore', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-content-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return LocalContentStore.open(dir);
});
