import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogChunkParser, formatLogTime, logTimeNano, type LogRecord } from './log-parse.js';

const L = (t: string, s: string, tag: string, msg?: string) => `${t} ${s} ${tag}${msg === undefined ? '' : ` ${msg}`}\n`;
const T = '2024-01-01T00:00:00.000000001+00:00';
const show = (recs: LogRecord[]) => recs.map((r) => `${r.stream}:${r.data.toString()}`);

test('consecutive records of one stream come out as one buffer, split where the stream changes', () => {
  const text = L(T, 'stdout', 'F', 'a') + L(T, 'stdout', 'F', 'b') + L(T, 'stderr', 'F', 'e') + L(T, 'stdout', 'F', 'c');
  const r = new LogChunkParser().parse(Buffer.from(text));
  assert.deepEqual(show(r.records), ['stdout:a\nb\n', 'stderr:e\n', 'stdout:c\n']);
  assert.equal(r.consumed, text.length);
  assert.equal(r.records[0]!.time, T);
});

test('a partial record joins the next one, empty records keep their newline and malformed lines are skipped', () => {
  const text =
    L(T, 'stdout', 'P', 'hel') + L(T, 'stdout', 'F', 'lo') + L(T, 'stdout', 'F') + L(T, 'stdout', 'F', '') +
    'garbage\n' + L(T, 'stdin', 'F', 'x') + `${T} stdout\n` + L(T, 'stdout', 'F:x', 'tagged') + L(T, 'stdout', 'P') + L(T, 'stdout', 'F', ' two  spaces ');
  const r = new LogChunkParser().parse(Buffer.from(text));
  assert.deepEqual(show(r.records), ['stdout:hello\n\n\ntagged\n two  spaces \n']);
});

test('an incomplete last line is left for the next chunk', () => {
  const whole = L(T, 'stdout', 'F', 'one');
  const r = new LogChunkParser().parse(Buffer.from(whole + `${T} stdout F tw`));
  assert.deepEqual(show(r.records), ['stdout:one\n']);
  assert.equal(r.consumed, whole.length);
});

test('with timestamps each line gets Docker\'s UTC time in front, a line split into partial records only once', () => {
  const p = new LogChunkParser({ timestamps: true });
  const text = L('2024-01-01T02:00:00.5+02:00', 'stdout', 'P', 'par') + L('2024-01-01T00:00:01Z', 'stderr', 'F', 'e') + L(T, 'stdout', 'P', 't');
  assert.deepEqual(show(p.parse(Buffer.from(text)).records), ['stdout:2024-01-01T00:00:00.500000000Z par', 'stderr:2024-01-01T00:00:01.000000000Z e\n', 'stdout:t']);
  // The line goes on in the next chunk.
  assert.deepEqual(show(p.parse(Buffer.from(L(T, 'stdout', 'F', 'end') + L(T, 'stdout', 'F', 'next'))).records), [
    'stdout:end\n2024-01-01T00:00:00.000000001Z next\n',
  ]);
});

test('with details each line gets its attributes and a space in front, after the time with timestamps, a space alone without attributes', () => {
  const text = L(T, 'stdout', 'P', 'par') + L(T, 'stdout', 'F', 'tial') + L(T, 'stderr', 'F', 'e');
  assert.deepEqual(show(new LogChunkParser({ details: '' }).parse(Buffer.from(text)).records), ['stdout: partial\n', 'stderr: e\n']);
  assert.deepEqual(show(new LogChunkParser({ details: 'app=web,x=%C3%A9' }).parse(Buffer.from(text)).records), ['stdout:app=web,x=%C3%A9 partial\n', 'stderr:app=web,x=%C3%A9 e\n']);
  assert.deepEqual(show(new LogChunkParser({ details: 'a=1', timestamps: true }).parse(Buffer.from(L(T, 'stdout', 'F', 'x'))).records), [
    'stdout:2024-01-01T00:00:00.000000001Z a=1 x\n',
  ]);
});

test('timestamps on lines with short times still fit (a new output buffer is taken)', () => {
  const text = Array.from({ length: 50 }, () => 'x stdout F y\n').join('');
  const r = new LogChunkParser({ timestamps: true }).parse(Buffer.from(text));
  assert.equal(r.records.map((x) => x.data.toString()).join(''), '1970-01-01T00:00:00.000000000Z y\n'.repeat(50));
});

test('since and until read from the digits agree with the full parse for every zone and fraction form', () => {
  const times = [
    '2024-03-01T10:00:00Z', '2024-03-01T10:00:00.1Z', '2024-03-01T10:00:00.123456789+00:00',
    '2024-03-01T12:00:00.123456789+02:00', '2024-03-01T04:30:00.999999999-05:30', '2024-02-29T23:59:59.999999999Z',
    '2024-03-01T10:00:00.123456788+00:00', '2024-03-01T10:00:00.12345678912Z',
  ];
  const text = times.map((t, i) => L(t, 'stdout', 'F', String(i))).join('');
  for (const bound of times) {
    const b = logTimeNano(bound);
    const expectSince = times.map((t, i) => [t, i] as const).filter(([t]) => logTimeNano(t) >= b).map(([, i]) => `${i}\n`).join('');
    const got = new LogChunkParser({ since: b }).parse(Buffer.from(text)).records.map((r) => r.data.toString()).join('');
    assert.equal(got, expectSince, `since ${bound}`);
    const until = new LogChunkParser({ until: b }).parse(Buffer.from(text));
    const firstAfter = times.findIndex((t) => logTimeNano(t) > b);
    const expectUntil = times.slice(0, firstAfter < 0 ? times.length : firstAfter).map((_, i) => `${i}\n`).join('');
    assert.equal(until.records.map((r) => r.data.toString()).join(''), expectUntil, `until ${bound}`);
    assert.equal(until.ended, firstAfter >= 0);
  }
});

test('Docker\'s time form: UTC, nine digits, whatever zone conmon wrote', () => {
  assert.equal(formatLogTime('2024-01-01T00:00:00.123456789+00:00'), '2024-01-01T00:00:00.123456789Z');
  assert.equal(formatLogTime('2024-01-01T01:00:00.123456789+01:00'), '2024-01-01T00:00:00.123456789Z');
  assert.equal(formatLogTime('2024-01-01T00:00:00Z'), '2024-01-01T00:00:00.000000000Z');
});

test('since and until judge a line split into partial records by its first record', () => {
  const t1 = '2024-01-01T00:00:01Z';
  const t2 = '2024-01-01T00:00:02Z';
  const text = L(t1, 'stdout', 'P', 'early-') + L(t2, 'stdout', 'F', 'line') + L(t2, 'stdout', 'F', 'late');
  const since = new LogChunkParser({ since: logTimeNano(t2) }).parse(Buffer.from(text));
  assert.deepEqual(show(since.records), ['stdout:late\n']);
  const until = new LogChunkParser({ until: logTimeNano(t1), timestamps: true }).parse(Buffer.from(text));
  assert.deepEqual(show(until.records), ['stdout:2024-01-01T00:00:01.000000000Z early-line\n']);
  assert.equal(until.ended, true);
});
