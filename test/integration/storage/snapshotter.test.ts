// Runs the Snapshotter conformance suite against OverlaySnapshotter on a temporary data-root.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, readMounts } from '../../../src/storage/index.js';
import { snapshotterSuite } from '../../suites/snapshotter.js';

snapshotterSuite('OverlaySnapshotter', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-snapshots-'));
  const storage = await openStorage(root);
  t.after(async () => {
    // Whatever the test did, no overlay over this root may outlive it.
    for (const m of await readMounts()) {
      if (m.fsType === 'overlay' && m.superOptions.includes(`upperdir=${root}/`)) await storage.snapshotter.unmount(m.mountPoint);
    }
    await rm(root, { recursive: true, force: true });
  });
  return { snapshotter: storage.snapshotter, layers: storage.layers };
});
