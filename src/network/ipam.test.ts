import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateAddress, allocateSubnet, parseIpRouteJson, planAddresses } from './ipam.js';
import { formatCidr, formatIpv4, macForIpv4, parseCidr, parseIpv4 } from './ipv4.js';

test('subnets come from the pool and skip taken ranges and host routes', () => {
  const pools = [{ base: '10.210.0.0/16', size: 24 }];
  assert.equal(formatCidr(allocateSubnet(pools, [])), '10.210.0.0/24');
  const taken = [parseCidr('10.210.0.0/24'), parseCidr('10.210.1.128/25')];
  assert.equal(formatCidr(allocateSubnet(pools, taken)), '10.210.2.0/24');
});

test('the pool never hands out Docker or Podman default ranges', () => {
  const pools = [
    { base: '172.17.0.0/16', size: 24 },
    { base: '10.88.0.0/16', size: 24 },
    { base: '192.168.0.0/16', size: 24 },
    { base: '10.90.0.0/16', size: 24 },
  ];
  assert.equal(formatCidr(allocateSubnet(pools, [])), '10.90.0.0/24');
});

test('an exhausted pool is reported as unavailable', () => {
  assert.throws(() => allocateSubnet([{ base: '10.210.0.0/24', size: 24 }], [parseCidr('10.0.0.0/8')]), {
    kind: 'unavailable',
  });
});

test('host routes are read from ip -j route output with their devices, default route excluded', () => {
  const json = JSON.stringify([
    { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
    { dst: '192.0.2.0/24', dev: 'eth0' },
    { dst: '10.210.0.7', dev: 'tun0' },
  ]);
  assert.deepEqual(parseIpRouteJson(json).map((r) => formatCidr(r.cidr)), ['192.0.2.0/24', '10.210.0.7/32']);
  assert.deepEqual(parseIpRouteJson(json).map((r) => r.dev), ['eth0', 'tun0']);
});

test('the gateway defaults to the first address and must lie in the subnet', () => {
  const p = planAddresses({ subnet: '10.5.0.0/24' });
  assert.equal(formatIpv4(p.gateway), '10.5.0.1');
  assert.throws(() => planAddresses({ subnet: '10.5.0.0/24', gateway: '10.6.0.1' }), { kind: 'invalid-argument' });
  assert.throws(() => planAddresses({ subnet: '10.5.0.1/24' }), /should be 10\.5\.0\.0\/24/);
  assert.throws(() => planAddresses({ subnet: '10.5.0.0/24', ipRange: '10.6.0.0/28' }), { kind: 'invalid-argument' });
});

test('addresses are the lowest free ones of the ip range, skipping gateway and used ones', () => {
  const p = planAddresses({ subnet: '10.5.0.0/24' });
  const used = new Set([parseIpv4('10.5.0.2')]);
  assert.equal(formatIpv4(allocateAddress(p, used)), '10.5.0.3');
  const r = planAddresses({ subnet: '10.5.0.0/24', ipRange: '10.5.0.128/25' });
  assert.equal(formatIpv4(allocateAddress(r, new Set())), '10.5.0.128');
});

test('a fixed address must be free and inside the subnet', () => {
  const p = planAddresses({ subnet: '10.5.0.0/24' });
  const used = new Set([parseIpv4('10.5.0.9')]);
  assert.equal(formatIpv4(allocateAddress(p, used, '10.5.0.50')), '10.5.0.50');
  assert.throws(() => allocateAddress(p, used, '10.5.0.9'), { kind: 'conflict' });
  assert.throws(() => allocateAddress(p, used, '10.5.0.1'), { kind: 'conflict' });
  assert.throws(() => allocateAddress(p, used, '10.6.0.1'), { kind: 'invalid-argument' });
});

test('a full network reports no available addresses', () => {
  const p = planAddresses({ subnet: '10.5.0.0/30' });
  assert.equal(formatIpv4(allocateAddress(p, new Set())), '10.5.0.2');
  assert.throws(() => allocateAddress(p, new Set([parseIpv4('10.5.0.2')])), { kind: 'unavailable' });
});

test('MAC addresses follow the Docker 02:42 scheme derived from the IP', () => {
  assert.equal(macForIpv4(parseIpv4('172.18.0.2')), '02:42:ac:12:00:02');
});

test('malformed addresses are rejected', () => {
  assert.throws(() => parseIpv4('10.0.0.256'), { kind: 'invalid-argument' });
  assert.throws(() => parseIpv4('10.0.0'), { kind: 'invalid-argument' });
  assert.throws(() => parseCidr('10.0.0.0/33'), { kind: 'invalid-argument' });
});
