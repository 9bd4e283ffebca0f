import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from '../../client/index.js';
import { containerRow, displayablePorts, ellipsis } from './container-rows.js';
import { cpuPercent, memoryUsage, statsRow } from './container-stats-rows.js';
import { splitCpArg } from './container-cp.js';
import { ipamConfigs } from './network-create.js';

test('ellipsis cuts to the width with a final …', () => {
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(ellipsis('sh -c "echo started; sleep 30"', 20), 'sh -c "echo started…');
});

test('ports print as docker does: same-number ports merged into ranges, other mappings after', () => {
  assert.equal(
    displayablePorts([
      { IP: '0.0.0.0', PrivatePort: 81, PublicPort: 81, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 80, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
      { IP: '::', PrivatePort: 90, PublicPort: 8090, Type: 'tcp' },
      { IP: '127.0.0.1', PrivatePort: 70, PublicPort: 7070, Type: 'tcp' },
    ]),
    '53/udp, 0.0.0.0:80-81->80-81/tcp, 127.0.0.1:7070->70/tcp, [::]:8090->90/tcp',
  );
  assert.equal(displayablePorts([]), '');
});

test('a ps row quotes the command, strips the name slash and counts local volumes', () => {
  const c: ContainerSummary = {
    Id: 'a'.repeat(64), Names: ['/web', '/other/link'], Image: 'busybox', ImageID: 'sha256:x', Command: 'sleep 60', Created: 1_700_000_000,
    Ports: [], Labels: { b: '2', a: '1' }, State: 'running', Status: 'Up 2 minutes', HostConfig: { NetworkMode: 'none' },
    NetworkSettings: { Networks: { none: {} } },
    Mounts: [{ Type: 'volume', Name: 'data', Source: '/var/lib/x', Destination: '/d', Driver: 'local', Mode: '', RW: true, Propagation: '' }],
  };
  const row = containerRow(c, { noTrunc: false, now: 1_700_000_120_000 });
  assert.deepEqual(
    [row.ID, row.Names, row.Command, row.RunningFor, row.Labels, row.LocalVolumes, row.Mounts, row.Networks, row.Size],
    ['aaaaaaaaaaaa', 'web', '"sleep 60"', '2 minutes ago', 'a=1,b=2', '1', 'data', 'none', '0B'],
  );
  assert.equal(containerRow(c, { noTrunc: true }).Names, 'web,other/link');
});

test('stats: CPU % from the deltas, memory without inactive file pages', () => {
  const s = {
    id: 'b'.repeat(64), name: '/web', read: '2024-01-01T00:00:01Z',
    cpu_stats: { cpu_usage: { total_usage: 3_000_000 }, system_cpu_usage: 20_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 10_000_000 },
    memory_stats: { usage: 10 * 1024 * 1024, limit: 100 * 1024 * 1024, stats: { total_inactive_file: 2 * 1024 * 1024 } },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 0 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 4096 }, { op: 'Write', value: 0 }] },
    pids_stats: { current: 3 },
  };
  assert.equal(cpuPercent(s), 40);
  assert.equal(memoryUsage(s), 8 * 1024 * 1024);
  assert.deepEqual(statsRow(s, { container: 'web', noTrunc: false }), {
    BlockIO: '4.1kB / 0B', CPUPerc: '40.00%', Container: 'web', ID: 'bbbbbbbbbbbb', MemPerc: '8.00%',
    MemUsage: '8MiB / 100MiB', Name: 'web', NetIO: '1.5kB / 0B', PIDs: '3',
  });
});

test('cp arguments: container:path unless the colon comes after a slash', () => {
  assert.deepEqual(splitCpArg('web:/etc/hosts'), { container: 'web', path: '/etc/hosts' });
  assert.deepEqual(splitCpArg('./a:b'), { path: './a:b' });
  assert.deepEqual(splitCpArg('/abs/x:y'), { path: '/abs/x:y' });
  assert.deepEqual(splitCpArg('plain'), { path: 'plain' });
});

test('network create puts each gateway and range on the subnet that holds it', () => {
  assert.deepEqual(ipamConfigs(['10.1.0.0/16', '10.2.0.0/16'], ['10.2.0.1', '10.1.0.1'], ['10.1.5.0/24'], {}), [
    { Subnet: '10.1.0.0/16', Gateway: '10.1.0.1', IPRange: '10.1.5.0/24' },
    { Subnet: '10.2.0.0/16', Gateway: '10.2.0.1' },
  ]);
  assert.throws(() => ipamConfigs([], ['10.0.0.1'], [], {}), /every ip-range or gateway must have a corresponding subnet/);
  assert.throws(() => ipamConfigs(['10.1.0.0/16'], ['10.9.0.1'], [], {}), /no matching subnet for gateway 10.9.0.1/);
});
