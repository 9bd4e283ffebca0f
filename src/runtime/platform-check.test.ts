import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPlatform } from './container-service.js';

test('--platform matches the image config by os, architecture and variant; an unknown image platform passes', () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  checkPlatform('busybox', 'linux/amd64', amd64);
  checkPlatform('busybox', 'linux/x86_64', amd64);
  checkPlatform('busybox', 'linux/arm64', undefined);
  assert.throws(() => checkPlatform('busybox', 'linux/arm64', amd64), {
    kind: 'not-found',
    message: 'image with reference busybox:latest was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64',
  });
  assert.throws(() => checkPlatform('busybox:1', 'linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v7' }), /busybox:1 .*wanted linux\/arm\/v6, actual: linux\/arm\/v7/);
});
