import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlatform, hostPlatform } from '../image/index.js';
import { errorKind } from '../util/index.js';
import { parsePlatformList, platformDirName } from './platforms.js';

test('a platform list is split on commas, normalized and deduplicated in order', () => {
  assert.deepEqual(parsePlatformList('linux/amd64, linux/arm64,linux/aarch64,linux/arm/v7').map(formatPlatform), ['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
});

test('an empty platform list means the host platform', () => {
  assert.deepEqual(parsePlatformList(undefined), [hostPlatform()]);
  assert.deepEqual(parsePlatformList(''), [hostPlatform()]);
});

test('an empty entry or a malformed platform is refused', () => {
  assert.throws(() => parsePlatformList('linux/amd64,,linux/arm64'), (e) => errorKind(e) === 'invalid-argument');
  assert.throws(() => parsePlatformList('linux/amd64/v1/x'), (e) => errorKind(e) === 'invalid-argument');
});

test('per-platform output directories are named like buildx names them', () => {
  assert.equal(platformDirName({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux_arm_v7');
  assert.equal(platformDirName({ os: 'linux', architecture: 'amd64' }), 'linux_amd64');
});
