// A test daemon that sees an empty binfmt_misc (BERTH_BINFMT_DIR): no foreign platform can
// run, whatever this machine has registered. Its directory is removed after the test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startTestDaemon, type TestDaemon } from './daemon.js';

export async function startDaemonWithoutEmulation(t: TestContext): Promise<TestDaemon | undefined> {
  const empty = await mkdtemp(join(tmpdir(), 'berth-binfmt-'));
  t.after(() => rm(empty, { recursive: true, force: true }));
  // The daemon inherits the variable at its start; the runner's own environment is restored.
  const saved = process.env['BERTH_BINFMT_DIR'];
  process.env['BERTH_BINFMT_DIR'] = empty;
  let d: TestDaemon | undefined;
  try {
    d = await startTestDaemon(t);
  } finally {
    if (saved === undefined) delete process.env['BERTH_BINFMT_DIR'];
    else process.env['BERTH_BINFMT_DIR'] = saved;
  }
  if (d) t.after(() => d.stop());
  return d;
}
