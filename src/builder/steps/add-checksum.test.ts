import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checksumHash, parseChecksum } from './add-checksum.js';

test('a checksum names its algorithm and a digest of the right length', () => {
  const hex = 'A'.repeat(64);
  assert.deepEqual(parseChecksum(`sha256:${hex}`), { algorithm: 'sha256', hex: hex.toLowerCase(), text: `sha256:${hex.toLowerCase()}` });
  assert.equal(parseChecksum(`sha512:${'0'.repeat(128)}`).algorithm, 'sha512');
  for (const bad of ['sha256:abc', 'md5:' + '0'.repeat(32), '0'.repeat(64), 'sha256:' + 'g'.repeat(64), 'sha384:' + '0'.repeat(64)]) {
    assert.throws(() => parseChecksum(bad), /invalid checksum digest/, bad);
  }
});

test('the checksum hash uses the named algorithm', () => {
  const c = parseChecksum(`sha384:${'0'.repeat(96)}`);
  assert.equal(checksumHash(c).update('x').digest('hex').length, 96);
});
