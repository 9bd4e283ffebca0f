import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFile } from './basic-network.js';

test('an --add-host entry maps host-gateway to the default bridge’s gateway, other addresses as given', () => {
  const text = hostsFile(['gw:host-gateway', 'db:10.1.2.3', 'v6:fd00::1'], ['10.210.0.2\tabc'], '10.210.0.1');
  assert.deepEqual(text.trimEnd().split('\n').slice(-4), ['10.210.0.1\tgw', '10.1.2.3\tdb', 'fd00::1\tv6', '10.210.0.2\tabc']);
});

test('host-gateway without a default bridge is refused with dockerd’s words', () => {
  assert.throws(() => hostsFile(['gw:host-gateway'], []), { kind: 'invalid-argument', message: 'unable to derive the IP value for host-gateway' });
});
