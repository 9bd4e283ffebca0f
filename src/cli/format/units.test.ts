import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, createdSince, formatGoG, goRfc3339, humanDuration, humanSize, humanSizeWithPrecision, ramInBytes } from './units.js';

test('sizes print with decimal units and significant digits like go-units', () => {
  assert.equal(humanSizeWithPrecision(4261550, 3), '4.26MB');
  assert.equal(humanSizeWithPrecision(77_860_000, 3), '77.9MB');
  assert.equal(humanSize(77_860_000), '77.86MB');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSizeWithPrecision(1_240, 3), '1.24kB');
  assert.equal(humanSizeWithPrecision(5_000_000_000, 3), '5GB');
  // Go's %g switches to an exponent when rounding reaches the precision.
  assert.equal(humanSizeWithPrecision(999_999, 3), '1e+03kB');
});

test('binary sizes use KiB, MiB and GiB', () => {
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(8 * 1024 ** 3), '8GiB');
  assert.equal(bytesSize(512), '512B');
});

test('%g formatting trims zeros and pads exponents to two digits', () => {
  assert.equal(formatGoG(1.5, 4), '1.5');
  assert.equal(formatGoG(100, 3), '100');
  assert.equal(formatGoG(0.0001234, 3), '0.000123');
  assert.equal(formatGoG(0.00001234, 3), '1.23e-05');
});

test('durations read like docker CREATED columns', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(s), '1 second');
  assert.equal(humanDuration(59 * s), '59 seconds');
  assert.equal(humanDuration(90 * s), 'About a minute');
  assert.equal(humanDuration(2 * m), '2 minutes');
  assert.equal(humanDuration(89 * m), 'About an hour');
  assert.equal(humanDuration(90 * m), '2 hours');
  assert.equal(humanDuration(47 * h), '47 hours');
  assert.equal(humanDuration(2 * d), '2 days');
  assert.equal(humanDuration(14 * d), '2 weeks');
  assert.equal(humanDuration(60 * d), '2 months');
  assert.equal(humanDuration(2 * 365 * d), '2 years');
  assert.equal(createdSince(1000, 1000 * 1000 + 3 * h), '3 hours ago');
});

test('RFC 3339 times carry nanoseconds when given', () => {
  if (new Date().getTimezoneOffset() !== 0) return;
  assert.equal(goRfc3339(0), '1970-01-01T00:00:00Z');
  assert.equal(goRfc3339(1, 5n), '1970-01-01T00:00:01.000000005Z');
});

test('memory sizes parse with docker suffixes and reject garbage', () => {
  assert.equal(ramInBytes('512m'), 512 * 1024 * 1024);
  assert.equal(ramInBytes('1g'), 1024 ** 3);
  assert.equal(ramInBytes('100'), 100);
  assert.throws(() => ramInBytes('foo'), /invalid size: 'foo'/);
});
