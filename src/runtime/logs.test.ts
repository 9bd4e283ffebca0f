import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_SIZE_FLOOR, conmonLogSizeMax, formatLogTime, logTimeNano, openLog, parseLogLine, parseUnixTimestamp, readLog } from './logs.js';

const L = (t: string, s: string, tag: string, msg: string) => `${t} ${s} ${tag} ${msg}\n`;

test('k8s-file lines split into stream, payload and time; partial lines keep no newline', () => {
  assert.deepEqual(parseLogLine(Buffer.from('2024-01-01T00:00:00.123456789+00:00 stdout F hello world')), {
    stream: 'stdout', time: '2024-01-01T00:00:00.123456789+00:00', data: Buffer.from('hello world\n'),
  });
  assert.equal(parseLogLine(Buffer.from('2024-01-01T00:00:00Z stderr P part'))!.data.toString(), 'part');
  assert.equal(parseLogLine(Buffer.from('2024-01-01T00:00:00Z stdout F'))!.data.toString(), '\n');
  assert.equal(parseLogLine(Buffer.from('garbage')), undefined);
  assert.equal(logTimeNano('1970-01-01T00:00:01.5+00:00'), 1_500_000_000n);
  assert.equal(formatLogTime('2024-01-01T02:00:00.000000001+02:00'), '2024-01-01T00:00:00.000000001Z');
  assert.equal(parseUnixTimestamp('1.25'), 1_250_000_000n);
});

test('reading applies tail, since and until; following ends once the container is done', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ctr.log');
  await writeFile(path, L('1970-01-01T00:00:01Z', 'stdout', 'F', 'a') + L('1970-01-01T00:00:02Z', 'stderr', 'F', 'b') + L('1970-01-01T00:00:03Z', 'stdout', 'F', 'c'));
  const text = async (opts: Parameters<typeof readLog>[1]) => {
    let s = '';
    for await (const r of readLog(path, opts)) s += `${r.stream[3]}:${r.data.toString()}`;
    return s;
  };
  assert.equal(await text({ follow: false }), 'o:a\ne:b\no:c\n');
  assert.equal(await text({ follow: false, tail: 2 }), 'e:b\no:c\n');
  assert.equal(await text({ follow: false, tail: 0 }), '');
  assert.equal(await text({ follow: false, since: 2_000_000_000n }), 'e:b\no:c\n');
  assert.equal(await text({ follow: false, until: 2_000_000_000n }), 'o:a\ne:b\n');
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const gen = readLog(path, { follow: true, done, tail: 1 });
  const first = await gen.next();
  assert.equal(first.value?.data.toString(), 'c\n');
  await appendFile(path, L('1970-01-01T00:00:04Z', 'stdout', 'F', 'd'));
  const second = await gen.next();
  assert.equal(second.value?.data.toString(), 'd\n');
  finish();
  assert.equal((await gen.next()).done, true);
});

test('a follower drains a log that was replaced by rename and goes on with the new file, losing and repeating nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ctr.log');
  const T = '2024-01-01T00:00:00Z';
  await writeFile(path, L(T, 'stdout', 'F', 'a1'));
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const reader = await openLog(path, { follow: true, done });
  const got: string[] = [];
  const first = await reader.next();
  got.push(first.value!.data.toString());
  // More into the old file, then conmon's replacement: new file renamed over the path,
  // followed by a second replacement before the reader looks again.
  await appendFile(path, L(T, 'stdout', 'F', 'a2'));
  await writeFile(path + '.tmp', L(T, 'stdout', 'F', 'b1'));
  await rename(path + '.tmp', path);
  await appendFile(path, L(T, 'stderr', 'F', 'b2'));
  finish();
  for await (const r of reader) got.push(r.data.toString());
  assert.deepEqual(got, ['a1\n', 'a2\n', 'b1\n', 'b2\n']);
});

test('a reader opened at the end of the log sees only what is written afterwards', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ctr.log');
  const T = '2024-01-01T00:00:00Z';
  await writeFile(path, L(T, 'stdout', 'F', 'old'));
  const reader = await openLog(path, { follow: true, fromEnd: true, done: Promise.resolve() });
  // Written after the open but before the first read: still seen.
  await appendFile(path, L(T, 'stdout', 'F', 'new'));
  const got: string[] = [];
  for await (const r of reader) got.push(r.data.toString());
  assert.deepEqual(got, ['new\n']);
  assert.equal(conmonLogSizeMax('1k'), LOG_SIZE_FLOOR);
  assert.equal(conmonLogSizeMax('10m'), 10 * 1024 * 1024);
  assert.equal(conmonLogSizeMax(undefined), 0);
});

test('a log of several MiB reads back byte for byte, lines cut by the read boundaries included', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ctr.log');
  const T = '2024-01-01T00:00:00.000000001+00:00';
  let want = '';
  let file = '';
  // Line lengths that do not divide a MiB, both streams, partial records in between.
  for (let i = 0; file.length < 3 * 1024 * 1024; i++) {
    const msg = `${i}:${'x'.repeat(i % 251)}`;
    const stream = i % 7 === 0 ? 'stderr' : 'stdout';
    if (i % 5 === 0) {
      file += L(T, stream, 'P', msg.slice(0, 3)) + L(T, stream, 'F', msg.slice(3));
    } else file += L(T, stream, 'F', msg);
    want += `${stream[3]}${msg}\n`;
  }
  await writeFile(path, file);
  let got = '';
  for await (const r of readLog(path, { follow: false })) {
    // Records of one stream come joined: split them back into lines to compare.
    for (const line of r.data.toString().split('\n').slice(0, -1)) got += `${r.stream[3]}${line}\n`;
  }
  assert.equal(got, want);
  // Tail reads backwards in 64 KiB steps: records cut by those steps count once.
  for (const n of [1, 777, 20000]) {
    let tail = '';
    for await (const r of readLog(path, { follow: false, tail: n })) {
      for (const line of r.data.toString().split('\n').slice(0, -1)) tail += `${r.stream[3]}${line}\n`;
    }
    assert.equal(tail, want.split('\n').slice(-n - 1).join('\n'), `tail ${n}`);
  }
});

test('an over-long line is dropped and the records after it are read', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ctr.log');
  const T = '2024-01-01T00:00:00Z';
  await writeFile(path, L(T, 'stdout', 'F', 'before') + L(T, 'stdout', 'F', 'y'.repeat(3 * 1024 * 1024)) + L(T, 'stderr', 'F', 'after'));
  const got: string[] = [];
  for await (const r of readLog(path, { follow: false })) got.push(`${r.stream}:${r.data.toString()}`);
  assert.deepEqual(got, ['stdout:before\n', 'stderr:after\n']);
});

test('a follower sees a line written in two pieces once, whole, with the -t prefix', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ctr.log');
  await writeFile(path, '');
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const reader = await openLog(path, { follow: true, done, timestamps: true });
  const line = L('2024-01-01T00:00:00.000000001+00:00', 'stdout', 'F', 'whole');
  await appendFile(path, line.slice(0, 20));
  const first = reader.next();
  await appendFile(path, line.slice(20));
  assert.equal((await first).value?.data.toString(), '2024-01-01T00:00:00.000000001Z whole\n');
  finish();
  assert.equal((await reader.next()).done, true);
});

test('tail counts lines, not the partial records conmon split them into, and not an unfinished last record', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ctr.log');
  const T = '2024-01-01T00:00:00Z';
  await writeFile(path, L(T, 'stdout', 'P', 'a-') + L(T, 'stdout', 'F', 'b') + L(T, 'stderr', 'F', 'e') + L(T, 'stdout', 'F', 'c') + `${T} stdout F unfinished`);
  const text = async (tail: number) => {
    let s = '';
    for await (const r of readLog(path, { follow: false, tail })) s += `${r.stream[3]}:${r.data.toString()}`;
    return s;
  };
  assert.equal(await text(1), 'o:c\n');
  assert.equal(await text(2), 'e:e\no:c\n');
  assert.equal(await text(3), 'o:a-b\ne:e\no:c\n');
  assert.equal(await text(9), 'o:a-b\ne:e\no:c\n');
});
