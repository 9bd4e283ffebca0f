import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePorts } from './ports.js';

test('-p forms: container only, host:container, ip:host:container, ip::container, udp', () => {
  const p = parsePorts(['80', '8080:81', '127.0.0.1:9000:82', '127.0.0.1::83', '53:53/udp'], []);
  assert.deepEqual(p.bindings, {
    '80/tcp': [{ HostIp: '', HostPort: '' }],
    '81/tcp': [{ HostIp: '', HostPort: '8080' }],
    '82/tcp': [{ HostIp: '127.0.0.1', HostPort: '9000' }],
    '83/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '53/udp': [{ HostIp: '', HostPort: '53' }],
  });
  assert.deepEqual(Object.keys(p.exposed).sort(), ['53/udp', '80/tcp', '81/tcp', '82/tcp', '83/tcp']);
});

test('-p ranges map one to one, and a host range with one container port stays a range', () => {
  const p = parsePorts(['8000-8001:9000-9001', '7000-7005:70'], []);
  assert.deepEqual(p.bindings['9000/tcp'], [{ HostIp: '', HostPort: '8000' }]);
  assert.deepEqual(p.bindings['9001/tcp'], [{ HostIp: '', HostPort: '8001' }]);
  assert.deepEqual(p.bindings['70/tcp'], [{ HostIp: '', HostPort: '7000-7005' }]);
});

test('-p with a bracketed IPv6 host address', () => {
  assert.deepEqual(parsePorts(['[::1]:8080:80'], []).bindings, { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] });
});

test('bad -p values fail with docker wording', () => {
  const cases: [string, string][] = [
    ['99999', 'invalid containerPort: 99999'],
    ['abc', 'invalid containerPort: abc'],
    ['70000:80', 'invalid hostPort: 70000'],
    ['80/xyz', 'invalid proto: xyz'],
    ['1.2.3:80:80', 'invalid IP address: 1.2.3'],
    ['8000-8002:80-81', 'invalid ranges specified for container and host Ports: 80-81 and 8000-8002'],
  ];
  for (const [spec, message] of cases) assert.throws(() => parsePorts([spec], []), (e: Error) => e.message === message, spec);
});

test('--expose adds exposed ports and ranges without bindings', () => {
  const p = parsePorts([], ['80', '90-91/udp']);
  assert.deepEqual(Object.keys(p.exposed).sort(), ['80/tcp', '90/udp', '91/udp']);
  assert.deepEqual(p.bindings, {});
});
