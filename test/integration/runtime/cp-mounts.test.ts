// `docker cp` sees a container's volumes, binds and network files, running or stopped, as
// dockerd shows them, refuses to write where dockerd refuses, and leaves no mount behind.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import type { TestDaemon } from '../../helpers/daemon.js';
import { busyboxSuite, hostDirectory } from '../../helpers/busybox-suite.js';

const suite = busyboxSuite();
const { skip, ok } = suite;
const host = hostDirectory({ 'in.txt': 'from the host\n' });
let d: TestDaemon;

before(async () => {
  if (!skip) d = await suite.ready();
});

/** The content of the one file in a `docker cp ctr:path -` tar. */
async function catFile(ref: string): Promise<string> {
  const r = await d.docker(['cp', ref, '-']);
  assert.equal(r.code, 0, r.stderr);
  const files: string[] = [];
  const x = extract();
  x.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      if (header.type === 'file') files.push(Buffer.concat(chunks).toString('utf8'));
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => x.on('finish', () => resolve()).on('error', reject));
  x.end(Buffer.from(r.stdout, 'latin1'));
  await done;
  assert.equal(files.length, 1, `one file in the copy of ${ref}`);
  return files[0]!;
}

/** The host's mounts over container `id`'s rootfs (the copies' binds), once the last copy let go of them. */
async function bindsOver(id: string): Promise<string[]> {
  let binds: string[] = [];
  for (let i = 0; i < 100; i++) {
    const points = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4] ?? '');
    binds = points.filter((p) => p.includes(`/${id}/rootfs/`));
    if (!binds.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return binds;
}

test('docker cp reads and writes a running container’s volume, bind and network files, and leaves no mount in the container or on the host', { skip }, async () => {
  const id = (
    await ok(['run', '-d', '--name', 'cp-running', '-v', 'cpvol:/data', '-v', `${host.path}:/b`, 'busybox', 'sh', '-c', 'echo vol > /data/f; touch /tmp/ready; sleep 300'])
  ).trim();
  for (let i = 0; i < 100 && (await d.docker(['exec', id, 'test', '-e', '/tmp/ready'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  const inside = (await ok(['exec', id, 'cat', '/proc/self/mountinfo'])).split('\n').length;

  assert.equal(await catFile('cp-running:/data/f'), 'vol\n');
  assert.equal(await catFile('cp-running:/b/in.txt'), 'from the host\n');
  assert.equal(await catFile('cp-running:/etc/hostname'), `${id.slice(0, 12)}\n`);
  await ok(['cp', join(host.path, 'in.txt'), 'cp-running:/data/copied.txt']);
  assert.equal(await ok(['exec', id, 'cat', '/data/copied.txt']), 'from the host\n');
  const names = (await ok(['cp', 'cp-running:/', '-'])).toString();
  assert.match(names, /data\/copied\.txt/, 'a copy of / holds the volume’s files');

  assert.equal((await ok(['exec', id, 'cat', '/proc/self/mountinfo'])).split('\n').length, inside, 'the container’s mount table is as it was');
  assert.deepEqual(await bindsOver(id), [], 'no bind stays over the rootfs on the host');
});

test('docker cp into a stopped container’s volume lands in the volume the container then sees', { skip }, async () => {
  const id = (await ok(['create', '--name', 'cp-stopped', '-v', 'cpvol2:/data', 'busybox', 'cat', '/data/in.txt'])).trim();
  await ok(['cp', join(host.path, 'in.txt'), 'cp-stopped:/data/']);
  assert.deepEqual(await bindsOver(id), [], 'no bind stays over the rootfs after the copy');
  assert.equal(await ok(['start', '-a', 'cp-stopped']), 'from the host\n');
  await ok(['cp', join(host.path, 'in.txt'), 'cp-stopped:/data/again.txt']);
  assert.equal(await catFile('cp-stopped:/data/again.txt'), 'from the host\n');
  assert.match(await catFile('cp-stopped:/etc/hosts'), /localhost/, 'an exited container’s network files are its own, not the image’s');
  assert.deepEqual(await bindsOver(id), []);
});

test('docker cp refuses a read-only volume and a read-only rootfs with dockerd’s words, and writes into a writable volume of a read-only container', { skip }, async () => {
  await ok(['run', '-d', '--name', 'cp-ro', '--read-only', '-v', 'cpvol3:/data', '-v', `${host.path}:/b:ro`, 'busybox', 'sleep', '300']);
  const src = join(host.path, 'in.txt');
  const rootfs = await d.docker(['cp', src, 'cp-ro:/tmp/']);
  assert.notEqual(rootfs.code, 0);
  assert.match(rootfs.stderr, /container rootfs is marked read-only/);
  const bind = await d.docker(['cp', src, 'cp-ro:/b/other.txt']);
  assert.notEqual(bind.code, 0);
  assert.match(bind.stderr, /mounted volume is marked read-only/);
  assert.equal(existsSync(join(host.path, 'other.txt')), false, 'nothing reached the read-only bind’s source');
  await ok(['cp', src, 'cp-ro:/data/']);
  assert.equal(await ok(['exec', 'cp-ro', 'cat', '/data/in.txt']), 'from the host\n');
});
