// --rm containers across a kill -9 of berthd: their exit and removal states are not written
// (and their running state not fsynced), so a restarted berthd must find them by their exit
// file or their runc bundle and remove them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCKER_CLI } from '../../helpers/daemon.js';
import { skipReason } from './fixtures.js';
import { startRestartableBerthd } from '../../helpers/restartable-berthd.js';

const skip = skipReason ?? (existsSync(DOCKER_CLI) ? undefined : `needs the docker CLI at ${DOCKER_CLI}`);

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('--rm containers that ended while berthd was down, or were left created with a runc bundle, are removed when it restarts', { skip }, async (t) => {
  const d = await startRestartableBerthd(t);
  await d.importBusybox();
  const ran = await d.docker(['run', '-d', '--rm', '--network', 'none', '--name', 'ends-while-down', 'busybox', 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.05; done']);
  assert.equal(ran.code, 0, ran.stderr);
  const endsId = ran.stdout.trim();
  const created = await d.docker(['create', '--rm', '--network', 'none', '--name', 'start-lost', 'busybox', 'true']);
  assert.equal(created.code, 0, created.stderr);
  const lostId = created.stdout.trim();
  const kept = await d.docker(['create', '--rm', '--network', 'none', '--name', 'never-started', 'busybox', 'true']);
  assert.equal(kept.code, 0, kept.stderr);

  await d.kill9();
  const dir = (id: string) => join(d.dataRoot, 'containers', id);
  await writeFile(join(dir(endsId), 'rootfs/tmp/go'), '');
  await until('conmon to write the exit file', () => existsSync(join(dir(endsId), 'exits', endsId)));
  // What a start leaves when its (not fsynced) running state is lost: the runc bundle's config.
  await mkdir(join(dir(lostId), 'bundle'), { recursive: true });
  await writeFile(join(dir(lostId), 'bundle/config.json'), '{}');
  await d.restart();

  const names = (await d.docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
  assert.deepEqual(names, ['never-started']);
  assert.equal(existsSync(dir(endsId)), false);
  assert.equal(existsSync(dir(lostId)), false);
});
