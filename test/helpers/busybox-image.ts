// Gives a harness daemon a `busybox:latest` image without any registry: a busybox-static
// rootfs imported with `docker import -c 'CMD ["sh"]'`, as `berth bootstrap` does.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxRootfs } from '../integration/runtime/fixtures.js';
import { runCommand, type TestDaemon } from './daemon.js';

export async function importBusyboxImage(d: TestDaemon, ref = 'busybox:latest'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bbimg-'));
  try {
    await buildBusyboxRootfs(join(dir, 'rootfs'));
    await runCommand('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'busybox.tar'), '.'], { timeoutMs: 30_000 });
    const r = await d.docker(['import', '-c', 'CMD ["sh"]', join(dir, 'busybox.tar'), ref]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
