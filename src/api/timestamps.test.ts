import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration, parseTimestamp } from './timestamps.js';

const NOW = 1_700_000_000_000_000_000n;
const S = 1_000_000_000n;

const good: [string, bigint][] = [
  ['1700000000', 1_700_000_000n * S],
  ['1700000000.5', 1_700_000_000n * S + 500_000_000n],
  ['1700000000.000000001', 1_700_000_000n * S + 1n],
  ['10m', NOW - 600n * S],
  ['1h30m', NOW - 5400n * S],
  ['1.5h', NOW - 5400n * S],
  ['300ms', NOW - 300_000_000n],
  ['0s', NOW],
  ['0', 0n],
  ['-1m', NOW + 60n * S],
  ['2023-11-14T22:13:20Z', 1_700_000_000n * S],
  ['2023-11-14T22:13:20.25Z', 1_700_000_000n * S + 250_000_000n],
  ['2023-11-15T00:13:20+02:00', 1_700_000_000n * S],
];

for (const [input, want] of good) {
  test(`timestamp "${input}" parses like docker's GetTimestamp`, () => {
    assert.equal(parseTimestamp(input, 'since', NOW), want);
  });
}

test('a date without a zone is local time', () => {
  const local = BigInt(new Date(2023, 10, 14, 12, 0, 0).getTime()) * 1_000_000n;
  assert.equal(parseTimestamp('2023-11-14T12:00:00', 'since', NOW), local);
  assert.equal(parseTimestamp('2023-11-14', 'since', NOW), BigInt(new Date(2023, 10, 14).getTime()) * 1_000_000n);
});

for (const bad of ['yesterday', '10x', '2023-13-45Z', '1.2.3', '']) {
  test(`timestamp "${bad}" is rejected naming the parameter`, () => {
    assert.throws(() => parseTimestamp(bad, 'until', NOW), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, 'invalid-argument');
      assert.match(e.message, /"until"/);
      return true;
    });
  });
}

test('Go durations combine units', () => {
  assert.equal(parseGoDuration('2h45m30.5s'), (2n * 3600n + 45n * 60n + 30n) * S + 500_000_000n);
  assert.equal(parseGoDuration('1us'), 1000n);
  assert.equal(parseGoDuration('abc'), undefined);
});
