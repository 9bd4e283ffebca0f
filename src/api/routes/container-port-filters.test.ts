import { test } from 'node:test';
import assert from 'node:assert/strict';
import { portFilterKeys } from './container-port-filters.js';

test('a port filter value is a port or a range, tcp unless a protocol is given', () => {
  assert.deepEqual(portFilterKeys('publish', '8080'), ['8080/tcp']);
  assert.deepEqual(portFilterKeys('expose', '53/udp'), ['53/udp']);
  assert.deepEqual(portFilterKeys('expose', '80-82'), ['80/tcp', '81/tcp', '82/tcp']);
  assert.deepEqual(portFilterKeys('publish', '7000-7001/UDP'), ['7000/udp', '7001/udp']);
});

test('a port filter value with a colon, no number or an upside-down range is refused as dockerd refuses it', () => {
  assert.throws(() => portFilterKeys('publish', '8080:80'), /filter for 'publish' should not contain ':': 8080:80/);
  for (const bad of ['web', '90-80', '70000', '']) assert.throws(() => portFilterKeys('expose', bad), { kind: 'invalid-argument' });
});
