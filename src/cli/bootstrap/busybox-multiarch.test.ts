import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { extract } from 'tar-stream';
import { errorKind } from '../../util/index.js';
import { targetPlatforms } from './bootstrap.js';
import { busyboxLayout, debianArch } from './busybox-multiarch.js';
import { BUSYBOX_BINARY } from './busybox-rootfs.js';

const skip = existsSync(BUSYBOX_BINARY) ? false : `${BUSYBOX_BINARY} is absent (apt-get install busybox-static)`;

test('Debian architecture names follow dpkg (arm64, armhf for arm/v7, ppc64el)', () => {
  assert.equal(debianArch({ os: 'linux', architecture: 'arm64' }), 'arm64');
  assert.equal(debianArch({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'armhf');
  assert.equal(debianArch({ os: 'linux', architecture: 'arm', variant: 'v6' }), 'armel');
  assert.equal(debianArch({ os: 'linux', architecture: 'ppc64le' }), 'ppc64el');
  assert.throws(() => debianArch({ os: 'linux', architecture: 'sparc' }), (e) => errorKind(e) === 'invalid-argument');
});

test('bootstrap platforms start with the host and drop duplicates and aliases of it', () => {
  const host = targetPlatforms(undefined);
  assert.equal(host.length, 1);
  const list = targetPlatforms(`linux/${host[0]!.architecture},linux/aarch64,linux/arm64/v8,linux/riscv64`);
  assert.deepEqual(list.map((p) => p.architecture), [...new Set([host[0]!.architecture, 'arm64', 'riscv64'])]);
  assert.throws(() => targetPlatforms('windows/amd64'), (e) => errorKind(e) === 'invalid-argument');
});

test('the busybox layout is one index per name whose manifests, configs and layers match their digests', { skip }, async (t) => {
  const { archive, cleanup } = await busyboxLayout('busybox:latest', [
    { platform: { os: 'linux', architecture: 'amd64' }, binary: BUSYBOX_BINARY },
    { platform: { os: 'linux', architecture: 'arm64' }, binary: BUSYBOX_BINARY },
  ]);
  t.after(cleanup);
  const files = new Map<string, Buffer>();
  const ex = extract();
  const done = (async () => {
    for await (const e of ex) {
      const parts: Buffer[] = [];
      for await (const c of e) parts.push(c as Buffer);
      files.set(e.header.name, Buffer.concat(parts));
    }
  })();
  archive.pipe(ex);
  await done;
  for (const [name, data] of files) {
    if (!name.startsWith('blobs/sha256/')) continue;
    assert.equal(createHash('sha256').update(data).digest('hex'), name.slice('blobs/sha256/'.length), `${name} matches its digest`);
  }
  const top = JSON.parse(files.get('index.json')!.toString()) as { manifests: Array<{ digest: string; mediaType: string; annotations: Record<string, string> }> };
  assert.equal(top.manifests.length, 1);
  assert.equal(top.manifests[0]!.annotations['io.containerd.image.name'], 'docker.io/library/busybox:latest');
  const blob = (d: string) => JSON.parse(files.get(`blobs/sha256/${d.slice(7)}`)!.toString());
  const index = blob(top.manifests[0]!.digest) as { manifests: Array<{ digest: string; platform: { architecture: string } }> };
  assert.deepEqual(index.manifests.map((m) => m.platform.architecture), ['amd64', 'arm64']);
  for (const m of index.manifests) {
    const manifest = blob(m.digest) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const config = blob(manifest.config.digest) as { architecture: string; rootfs: { diff_ids: string[] }; config: { Cmd: string[] } };
    assert.equal(config.architecture, m.platform.architecture);
    assert.deepEqual(config.rootfs.diff_ids, [manifest.layers[0]!.digest], 'uncompressed layer: diffID = digest');
    assert.deepEqual(config.config.Cmd, ['sh']);
  }
});
