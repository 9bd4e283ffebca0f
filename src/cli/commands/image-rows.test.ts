import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageRows, splitReference, truncateId } from './image-rows.js';
import { parseFilterFlags } from './filters.js';
import { formatEvent, toApiTimestamp } from './system-events.js';
import { ellipsis } from './image-history.js';
import { summaryRows } from './system-df.js';

const ID = 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const now = 1_700_000_000_000;
const base = { Id: ID, ParentId: '', Created: now / 1000 - 7200, Size: 4261550, SharedSize: -1, Containers: -1, Labels: {} };

test('a tagged image gives one row per tag with a truncated id', () => {
  const rows = imageRows([{ ...base, RepoTags: ['busybox:latest', 'busybox:1.36'], RepoDigests: [] }], { digests: false, noTrunc: false, now });
  assert.deepEqual(rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size]), [
    ['busybox', 'latest', '0123456789ab', '2 hours ago', '4.26MB'],
    ['busybox', '1.36', '0123456789ab', '2 hours ago', '4.26MB'],
  ]);
});

test('a dangling image is <none>:<none> and --no-trunc keeps the full id', () => {
  const rows = imageRows([{ ...base, RepoTags: [], RepoDigests: [] }], { digests: false, noTrunc: true, now });
  assert.equal(rows.length, 1);
  assert.deepEqual([rows[0]!.Repository, rows[0]!.Tag, rows[0]!.ID], ['<none>', '<none>', ID]);
});

test('digests show per tag with --digests and as their own row when untagged', () => {
  const img = { ...base, RepoTags: ['reg:5000/app:v1'], RepoDigests: ['reg:5000/app@sha256:aa', 'other@sha256:bb'] };
  const withDigests = imageRows([img], { digests: true, noTrunc: false, now });
  assert.deepEqual(withDigests.map((r) => [r.Repository, r.Tag, r.Digest]), [
    ['reg:5000/app', 'v1', 'sha256:aa'],
    ['other', '<none>', 'sha256:bb'],
  ]);
  const without = imageRows([img], { digests: false, noTrunc: false, now });
  assert.deepEqual(without.map((r) => [r.Repository, r.Tag, r.Digest]), [
    ['reg:5000/app', 'v1', '<none>'],
    ['other', '<none>', ''],
  ]);
});

test('references split at the tag, not at a registry port', () => {
  assert.deepEqual(splitReference('localhost:5000/a/b:1'), { name: 'localhost:5000/a/b', tag: '1' });
  assert.deepEqual(splitReference('localhost:5000/a'), { name: 'localhost:5000/a' });
  assert.deepEqual(splitReference('a@sha256:x'), { name: 'a', digest: 'sha256:x' });
  assert.equal(truncateId(ID), '0123456789ab');
});

test('filter flags become the API filter map and bad ones are usage errors', () => {
  assert.deepEqual(parseFilterFlags(['dangling=true', 'label=a=b', 'label=c']), { dangling: ['true'], label: ['a=b', 'c'] });
  assert.throws(() => parseFilterFlags(['nonsense']), /bad format of filter \(expected name=value\)/);
});

test('events print in docker default line format with sorted attributes', () => {
  if (new Date().getTimezoneOffset() !== 0) return;
  const line = formatEvent({
    Type: 'image',
    Action: 'tag',
    Actor: { ID: 'sha256:abc', Attributes: { name: 'busybox:latest', a: '1' } },
    scope: 'local',
    time: 1_700_000_000,
    timeNano: 1_700_000_000_123_456_000,
  });
  assert.equal(line, '2023-11-14T22:13:20.123456000Z image tag sha256:abc (a=1, name=busybox:latest)\n');
});

test('event times accept durations, unix times and dates', () => {
  assert.equal(toApiTimestamp('1700000000'), '1700000000');
  assert.equal(toApiTimestamp('10m', 1_700_000_600_000), '1700000000');
  assert.equal(toApiTimestamp('1h30m', 1_700_005_400_000), '1700000000');
  assert.equal(toApiTimestamp('2023-11-14T22:13:20Z'), '1700000000');
  assert.throws(() => toApiTimestamp('yesterday'), /invalid timestamp "yesterday"/);
});

test('history cuts long CREATED BY at 45 characters with an ellipsis', () => {
  const s = '/bin/sh -c apt-get update && apt-get install -y curl ca-certificates';
  assert.equal(ellipsis(s, 45), `${s.slice(0, 44)}…`);
  assert.equal(ellipsis('short', 45), 'short');
});

test('system df reclaimable counts images without containers', () => {
  const rows = summaryRows({
    LayersSize: 1000,
    Images: [
      { ...base, RepoTags: [], RepoDigests: [], Size: 600, SharedSize: 0, Containers: 1 },
      { ...base, RepoTags: [], RepoDigests: [], Size: 400, SharedSize: 0, Containers: 0 },
    ],
    Containers: [],
    Volumes: [],
    BuildCache: [],
  });
  assert.deepEqual(rows[0], { Type: 'Images', TotalCount: '2', Active: '1', Size: '1kB', Reclaimable: '400B (40%)' });
  assert.equal(rows[3]!.Reclaimable, '0B');
});

test('progress prints final lines for logs and redraws counters on a terminal', async () => {
  const { progressPrinter } = await import('./progress-printer.js');
  const log: string[] = [];
  const plain = progressPrinter((s) => log.push(s));
  plain({ status: 'Loading layer', id: 'abc', progressDetail: { current: 1, total: 2 }, progress: '[=>  ]' });
  plain({ stream: 'Loaded image: busybox:latest\n' });
  assert.deepEqual(log, ['Loaded image: busybox:latest\n']);
  const tty: string[] = [];
  const live = progressPrinter((s) => tty.push(s), { tty: true });
  live({ status: 'Loading layer', id: 'abc', progressDetail: { current: 1, total: 2 }, progress: '[=>  ]' });
  live({ stream: 'Loaded image: busybox:latest\n' });
  assert.equal(tty.join(''), '\r\x1b[2Kabc: Loading layer [=>  ]\nLoaded image: busybox:latest\n');
});
