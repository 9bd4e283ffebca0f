import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TMPFS_OPTIONS, formatTmpfsSize, mergeTmpfsOptions } from './tmpfs-options.js';

test('user tmpfs options override Docker defaults of the same flag pair and keep their order', () => {
  assert.deepEqual(mergeTmpfsOptions([...DEFAULT_TMPFS_OPTIONS, 'rw', 'exec', 'size=64m', 'mode=1777']), [
    'nosuid',
    'nodev',
    'rprivate',
    'rw',
    'exec',
    'size=64m',
    'mode=1777',
  ]);
});

test('the last value of a repeated tmpfs key wins', () => {
  assert.deepEqual(mergeTmpfsOptions(['size=1m', 'noexec', 'size=2m']), ['noexec', 'size=2m']);
});

test('an unknown tmpfs option is rejected with Docker\'s wording', () => {
  assert.throws(() => mergeTmpfsOptions(['bogus']), { message: 'invalid tmpfs option ["bogus"]' });
  assert.throws(() => mergeTmpfsOptions(['color=red']), { message: 'invalid tmpfs option ["color" "red"]' });
});

test('tmpfs sizes in bytes use the largest unit that divides them', () => {
  assert.equal(formatTmpfsSize(2 * 2 ** 30), '2g');
  assert.equal(formatTmpfsSize(64 * 2 ** 20), '64m');
  assert.equal(formatTmpfsSize(3 * 1024), '3k');
  assert.equal(formatTmpfsSize(1000), '1000');
});
