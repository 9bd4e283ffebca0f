import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlkio, parseNetDev, parseProcStat, parseFlatKeyed } from './stats.js';
import { parsePs } from './top.js';

test('cgroup v1 blkio lines and v2 io.stat lines give the same read/write entries', () => {
  assert.deepEqual(parseBlkio('8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n', undefined).filter((b) => b.op !== 'total'), [
    { major: 8, minor: 0, op: 'read', value: 4096 },
    { major: 8, minor: 0, op: 'write', value: 8192 },
  ]);
  assert.deepEqual(parseBlkio(undefined, '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2\n'), [
    { major: 8, minor: 0, op: 'read', value: 4096 },
    { major: 8, minor: 0, op: 'write', value: 8192 },
  ]);
});

test('network counters leave out loopback and /proc/stat gives nanoseconds and cpu count', () => {
  const dev = 'Inter-|   Receive\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n  eth0: 1170 12 0 1 0 0 0 0 516 6 0 0 0 0 0 0\n';
  assert.deepEqual(Object.keys(parseNetDev(dev)), ['eth0']);
  assert.equal(parseNetDev(dev).eth0!.rxBytes, 1170);
  assert.equal(parseNetDev(dev).eth0!.txPackets, 6);
  const st = parseProcStat('cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\n');
  assert.deepEqual(st, { systemNs: 10_000_000_000, onlineCpus: 2 });
  assert.deepEqual(parseFlatKeyed('usage_usec 10\nuser_usec 4\n'), { usage_usec: 10, user_usec: 4 });
});

test('top keeps the whole command column and only the container pids', () => {
  const r = parsePs('UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 00:01 ? 00:00:00 sh -c sleep 5\nroot 11 1 0 00:01 ? 00:00:00 other\n', new Set([10]));
  assert.deepEqual(r.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.processes, [['root', '10', '1', '0', '00:01', '?', '00:00:00', 'sh -c sleep 5']]);
});
