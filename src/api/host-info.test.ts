import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOsRelease, probeCgroups } from './host-info.js';

const osReleases: [string, { prettyName: string; versionId: string }][] = [
  ['PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\n', { prettyName: 'Debian GNU/Linux 12 (bookworm)', versionId: '12' }],
  ["PRETTY_NAME='Alpine Linux v3.19'\nVERSION_ID=3.19.1\n", { prettyName: 'Alpine Linux v3.19', versionId: '3.19.1' }],
  ['NAME=Foo\n', { prettyName: 'Linux', versionId: '' }],
  ['', { prettyName: 'Linux', versionId: '' }],
];
for (const [text, want] of osReleases) {
  test(`os-release ${JSON.stringify(text.slice(0, 30))} gives ${want.prettyName}`, () => {
    assert.deepEqual(parseOsRelease(text), want);
  });
}

test('a cgroup v1 tree reports version 1 and the features whose files exist', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-cgroup-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [dir, file] of [
    ['memory', 'memory.limit_in_bytes'],
    ['memory', 'memory.oom_control'],
    ['cpu', 'cpu.shares'],
    ['cpu', 'cpu.cfs_period_us'],
    ['pids', 'pids.max'],
  ] as const) {
    await mkdir(join(root, dir), { recursive: true });
    await writeFile(join(root, dir, file), '');
  }
  const cg = await probeCgroups(root);
  assert.deepEqual(cg, {
    version: '1',
    memoryLimit: true,
    swapLimit: false,
    kernelMemoryTcp: false,
    cpuCfsPeriod: true,
    cpuCfsQuota: false,
    cpuShares: true,
    cpuSet: false,
    pidsLimit: true,
    oomKillDisable: true,
  });
});

test('a missing cgroup mount reports version 1 with no features', async () => {
  const cg = await probeCgroups('/nonexistent/cgroup');
  assert.equal(cg.version, '1');
  assert.equal(cg.memoryLimit, false);
  assert.equal(cg.pidsLimit, false);
});

test('this host\'s cgroup version matches how /sys/fs/cgroup is mounted', async () => {
  const { statfs } = await import('node:fs/promises');
  const isV2 = await statfs('/sys/fs/cgroup').then((s) => s.type === 0x63677270, () => false);
  assert.equal((await probeCgroups()).version, isV2 ? '2' : '1');
});
