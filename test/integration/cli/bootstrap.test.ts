// berth bootstrap against a real berthd: busybox always (fast), Debian only when the
// mmdebstrap tarball is already cached or BERTH_TEST_DEBIAN=1 asks for the slow build.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isRoot, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { berth } from './berth-cli.js';

const DEBIAN_CACHE = '/var/cache/berth';
const debianReady = existsSync(`${DEBIAN_CACHE}/debian-bookworm-minbase.tar`) || process.env['BERTH_TEST_DEBIAN'] === '1';

describe('berth bootstrap', { skip: isRoot() ? false : 'needs root: berthd unpacks layers as root' }, () => {
  let d: TestDaemon;

  before(async () => {
    d = (await startTestDaemon())!;
  });
  after(async () => {
    await d?.stop();
  });

  test('creates busybox:latest from busybox-static, then skips it until --force', { skip: existsSync('/bin/busybox') ? false : '/bin/busybox is absent' }, async () => {
    const first = await berth(d.socketPath, ['bootstrap', '--only', 'busybox']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^busybox:latest: created [0-9a-f]{12}\n$/);
    const inspect = await berth(d.socketPath, ['inspect', '--format', '{{json .Config.Cmd}} {{len .RootFS.Layers}} {{.Os}}', 'busybox']);
    assert.equal(inspect.stdout, '["sh"] 1 linux\n');
    const again = await berth(d.socketPath, ['bootstrap', '--only', 'busybox']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^busybox:latest: already present/);
    const forced = await berth(d.socketPath, ['bootstrap', '--only', 'busybox', '--force']);
    assert.match(forced.stdout, /^busybox:latest: created/);
  });

  test('rejects an unknown --only value before touching the daemon', async () => {
    const r = await berth(d.socketPath, ['bootstrap', '--only', 'alpine']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'berth: invalid --only "alpine": expected busybox or debian\n');
  });

  test('creates debian:bookworm-slim (also tagged bookworm) from the mmdebstrap tarball', { skip: debianReady ? false : 'no cached Debian tarball (set BERTH_TEST_DEBIAN=1 to build it, ~2-15 min)', timeout: 20 * 60_000 }, async () => {
    const r = await berth(d.socketPath, ['bootstrap', '--only', 'debian', '--cache-dir', DEBIAN_CACHE], { timeoutMs: 20 * 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^debian:bookworm-slim, debian:bookworm: created [0-9a-f]{12}\n$/);
    const tags = await berth(d.socketPath, ['images', '--format', '{{.Repository}}:{{.Tag}}', 'debian']);
    assert.deepEqual(tags.stdout.trim().split('\n').sort(), ['debian:bookworm', 'debian:bookworm-slim']);
    const cmd = await berth(d.socketPath, ['inspect', '--format', '{{json .Config.Cmd}}', 'debian:bookworm-slim']);
    assert.equal(cmd.stdout, '["bash"]\n');
  });
});
