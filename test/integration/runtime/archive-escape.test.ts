// `docker cp` against a container that plants symlinks pointing out of its rootfs: nothing is
// written to or read from the host through them (archive PUT/GET/HEAD resolve inside the rootfs).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import type { TestDaemon } from '../../helpers/daemon.js';
import { busyboxSuite, hostDirectory } from '../../helpers/busybox-suite.js';

const suite = busyboxSuite();
const { skip } = suite;
const host = hostDirectory({ secret: 'host secret\n' });
let d: TestDaemon;

before(async () => {
  if (!skip) d = await suite.ready();
});

function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  for (const [name, body] of Object.entries(files)) p.entry({ name, mode: 0o644 }, body);
  p.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.on('error', reject);
  });
}

async function plantLinks(name: string): Promise<void> {
  // /tmp/root -> /, /tmp/esc -> <host.path> (a path that exists only on the host), /tmp/rel -> ../../../..<host.path>
  const r = await d.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c',
    `ln -s / /tmp/root && ln -s ${host.path} /tmp/esc && ln -s ../../../../..${host.path} /tmp/rel && touch /tmp/ready && sleep 300`]);
  assert.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 100; i++) {
    if ((await d.docker(['exec', name, 'test', '-e', '/tmp/ready'])).code === 0) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail('the container did not plant its links');
}

test('docker cp into a container never writes through a symlink that points out of its rootfs', { skip }, async () => {
  await plantLinks('planter');
  const put = (path: string, body: Buffer) =>
    d.request('PUT', `/containers/planter/archive?path=${encodeURIComponent(path)}`, body, { headers: { 'Content-Type': 'application/x-tar' } });
  // Members below the planted links, extracted into /tmp.
  const r1 = await put('/tmp', await tarOf({ 'esc/pwned1': 'x', 'rel/pwned2': 'x', 'root/pwned3': 'x' }));
  // The destination itself is a link out (resolved as the container sees it).
  const r2 = await put('/tmp/esc', await tarOf({ pwned4: 'x' }));
  const r3 = await put('/tmp/root', await tarOf({ 'inroot.txt': 'in the container root\n' }));
  assert.deepEqual(await readdir(host.path), ['secret'], `files appeared on the host (statuses ${r1.status} ${r2.status} ${r3.status}: ${r1.text} ${r2.text} ${r3.text})`);
  assert.equal(r3.status, 200, r3.text);
  const inRoot = await d.docker(['exec', 'planter', 'cat', '/inroot.txt']);
  assert.equal(inRoot.stdout, 'in the container root\n');
  // The docker CLI follows a destination link itself (stat, then PUT to the target).
  const src = join(await mkdtemp(join(tmpdir(), 'berth-cp-src-')), 'viacli.txt');
  await writeFile(src, 'cli\n');
  await d.docker(['cp', src, 'planter:/tmp/esc/']);
  await d.docker(['cp', src, 'planter:/tmp/rel/viacli2.txt']);
  await rm(join(src, '..'), { recursive: true, force: true });
  assert.deepEqual(await readdir(host.path), ['secret'], 'docker cp wrote to the host');
  await d.docker(['rm', '-f', 'planter']);
});

test('docker cp out of a container does not read the host through a planted symlink', { skip }, async () => {
  await plantLinks('reader');
  for (const path of ['/tmp/esc/secret', '/tmp/rel/secret', '/tmp/esc/', '/tmp/esc/.']) {
    const head = await d.request('HEAD', `/containers/reader/archive?path=${encodeURIComponent(path)}`);
    assert.equal(head.status, 404, `HEAD ${path} found something (${head.status})`);
    const get = await d.request('GET', `/containers/reader/archive?path=${encodeURIComponent(path)}`);
    assert.ok(!get.body.includes('host secret'), `GET ${path} returned the host's file`);
  }
  const out = await mkdtemp(join(tmpdir(), 'berth-cp-out-'));
  try {
    const r = await d.docker(['cp', 'reader:/tmp/esc/secret', out]);
    assert.notEqual(r.code, 0);
    assert.deepEqual(await readdir(out), []);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  await d.docker(['rm', '-f', 'reader']);
});
