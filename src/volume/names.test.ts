import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateVolumeName, validateVolumeName } from './names.js';

test('volume names that Docker accepts are accepted', () => {
  for (const name of ['ab', 'data', 'my_vol.1-x', 'A9', '0abc', 'x'.repeat(255)]) validateVolumeName(name);
});

test('volume names with invalid characters get Docker\'s message that points to absolute paths', () => {
  for (const name of ['foo/bar', './data', '-x', '.hidden', '_a', 'a b', 'vol@1', 'é1']) {
    assert.throws(
      () => validateVolumeName(name),
      (err: Error & { kind?: string }) =>
        err.kind === 'invalid-argument' &&
        err.message ===
          `volume name "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      name,
    );
  }
});

test('a one-character volume name is rejected as too short', () => {
  assert.throws(() => validateVolumeName('a'), /too short/);
});

test('generated volume names are 64 hex digits and differ', () => {
  const a = generateVolumeName();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, generateVolumeName());
});

test('a volume name longer than a file name can be is rejected as too long', () => {
  assert.throws(() => validateVolumeName('x'.repeat(256)), { kind: 'invalid-argument', message: /is too long: at most 255 characters/ });
});
