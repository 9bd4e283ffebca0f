import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocatePorts, portMapOf, portRequestsFrom } from './ports.js';

const always = async () => true;
const range = async (): Promise<[number, number]> => [40000, 40009];

test('port bindings in Docker form become one request per container port', () => {
  const reqs = portRequestsFrom({
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '8000-8002/tcp': [{ HostPort: '9000-9002' }],
  });
  assert.deepEqual(reqs, [
    { hostIp: '0.0.0.0', hostPorts: [8080, 8080], containerPort: 80, protocol: 'tcp' },
    { hostIp: '127.0.0.1', hostPorts: undefined, containerPort: 53, protocol: 'udp' },
    { hostIp: '0.0.0.0', hostPorts: [9000, 9000], containerPort: 8000, protocol: 'tcp' },
    { hostIp: '0.0.0.0', hostPorts: [9001, 9001], containerPort: 8001, protocol: 'tcp' },
    { hostIp: '0.0.0.0', hostPorts: [9002, 9002], containerPort: 8002, protocol: 'tcp' },
  ]);
});

test('publish-all adds exposed ports that have no explicit binding', () => {
  const reqs = portRequestsFrom({ '80/tcp': [{ HostPort: '8080' }] }, { exposedPorts: ['80/tcp', '443/tcp'], publishAll: true });
  assert.deepEqual(
    reqs.map((r) => [r.containerPort, r.hostPorts]),
    [
      [80, [8080, 8080]],
      [443, undefined],
    ],
  );
});

test('malformed port specs are invalid arguments', () => {
  assert.throws(() => portRequestsFrom({ '80/sctp': [{}] }), { kind: 'invalid-argument' });
  assert.throws(() => portRequestsFrom({ '70000/tcp': [{}] }), { kind: 'invalid-argument' });
  assert.throws(() => portRequestsFrom({ '80-82/tcp': [{ HostPort: '90-91' }] }), { kind: 'invalid-argument' });
  assert.throws(() => portRequestsFrom({ '80/tcp': [{ HostIp: '::1' }] }), { kind: 'invalid-argument' });
});

test('a host port held by another container is a conflict with Docker\'s message', async () => {
  const inUse = [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];
  await assert.rejects(
    allocatePorts([{ hostIp: '127.0.0.1', hostPorts: [8080, 8080], containerPort: 80, protocol: 'tcp' }], inUse, { isFree: always }),
    { kind: 'conflict', message: 'Bind for 127.0.0.1:8080 failed: port is already allocated' },
  );
  // The same number over UDP is a different port.
  const ok = await allocatePorts([{ hostIp: '0.0.0.0', hostPorts: [8080, 8080], containerPort: 80, protocol: 'udp' }], inUse, {
    isFree: always,
  });
  assert.equal(ok[0]?.hostPort, 8080);
});

test('a host port another process listens on is reported as already allocated', async () => {
  await assert.rejects(
    allocatePorts([{ hostIp: '0.0.0.0', hostPorts: [8081, 8081], containerPort: 80, protocol: 'tcp' }], [], {
      isFree: async () => false,
    }),
    /Bind for 0\.0\.0\.0:8081 failed: port is already allocated/,
  );
});

test('random host ports come from the ephemeral range and skip taken ones', async () => {
  const inUse = [{ hostIp: '0.0.0.0', hostPort: 40000, containerPort: 1, protocol: 'tcp' as const }];
  const got = await allocatePorts(
    [
      { hostIp: '0.0.0.0', containerPort: 80, protocol: 'tcp' },
      { hostIp: '0.0.0.0', containerPort: 81, protocol: 'tcp' },
    ],
    inUse,
    { isFree: async (_ip, p) => p !== 40001, ephemeralRange: range, random: () => 0 },
  );
  assert.deepEqual(got.map((b) => b.hostPort), [40002, 40003]);
});

test('two requests for the same host port in one container conflict', async () => {
  await assert.rejects(
    allocatePorts(
      [
        { hostIp: '0.0.0.0', hostPorts: [8080, 8080], containerPort: 80, protocol: 'tcp' },
        { hostIp: '0.0.0.0', hostPorts: [8080, 8080], containerPort: 81, protocol: 'tcp' },
      ],
      [],
      { isFree: always },
    ),
    { kind: 'conflict' },
  );
});

test('the port map lists exposed ports with their bindings', () => {
  const map = portMapOf([{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }], ['80/tcp', '22/tcp']);
  assert.deepEqual(map, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '22/tcp': null });
});
