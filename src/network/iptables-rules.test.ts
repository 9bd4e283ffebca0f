import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jumpRules, missingJumps, parseSaved, renderFirewall, renderJumps, renderSweep } from './iptables-rules.js';

const net = { id: 'x', bridgeName: 'bt1-abc', subnet: '10.9.0.0/24', gateway: '10.9.0.1', internal: false };

test('the firewall declares every chain (so each sync replaces it) and publishes ports as DNAT', () => {
  const text = renderFirewall(
    'bt1',
    {
      networks: [net],
      publications: [
        {
          endpointId: 'e',
          ipv4: '10.9.0.2',
          bridgeName: 'bt1-abc',
          bindings: [
            { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
            { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
          ],
        },
      ],
    },
    [],
  );
  for (const c of ['DNAT', 'POSTROUTING', 'FORWARD', 'ISOLATION-1', 'ISOLATION-2', 'INPUT']) assert.match(text, new RegExp(`^:bt1-${c} - \\[0:0\\]$`, 'm'));
  assert.match(text, /^-A bt1-DNAT -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10\.9\.0\.2:80$/m);
  assert.match(text, /^-A bt1-DNAT -d 127\.0\.0\.1\/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10\.9\.0\.2:53$/m);
  assert.match(text, /^-A bt1-POSTROUTING -s 10\.9\.0\.0\/24 ! -o bt1-abc -j MASQUERADE$/m);
  assert.equal(text.match(/^COMMIT$/gm)?.length, 2);
});

test('an internal network gets drops instead of an outbound accept and no masquerade', () => {
  const text = renderFirewall('bt1', { networks: [{ ...net, internal: true }], publications: [] }, []);
  assert.match(text, /^-A bt1-FORWARD -i bt1-abc ! -o bt1-abc -j DROP$/m);
  assert.doesNotMatch(text, /-i bt1-abc ! -o bt1-abc -j ACCEPT/);
  assert.doesNotMatch(text, /-s 10\.9\.0\.0\/24 ! -o bt1-abc -j MASQUERADE/);
});

const saved = `*filter
:INPUT ACCEPT [0:0]
:bt1-FORWARD - [0:0]
:bt12-FORWARD - [0:0]
-A FORWARD -j bt1-FORWARD
-A FORWARD -j bt12-FORWARD
-A bt1-FORWARD -j ACCEPT
COMMIT
*nat
:bt1-DNAT - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j bt1-DNAT
COMMIT
`;

test('iptables-save output yields only the prefix\'s chains and jumps, and a sweep removes them', () => {
  const s = parseSaved('bt1', saved);
  assert.deepEqual(s.chains, [
    { table: 'filter', chain: 'bt1-FORWARD' },
    { table: 'nat', chain: 'bt1-DNAT' },
  ]);
  assert.deepEqual(s.jumps.map((j) => j.line), ['-A FORWARD -j bt1-FORWARD', '-A PREROUTING -m addrtype --dst-type LOCAL -j bt1-DNAT']);
  assert.equal(
    renderSweep(s),
    '*filter\n-D FORWARD -j bt1-FORWARD\n-F bt1-FORWARD\n-X bt1-FORWARD\nCOMMIT\n*nat\n-D PREROUTING -m addrtype --dst-type LOCAL -j bt1-DNAT\n-F bt1-DNAT\n-X bt1-DNAT\nCOMMIT\n',
  );
  assert.equal(renderSweep(parseSaved('bt9', saved)), '');
});

test('only the jumps that are not installed yet are inserted', () => {
  const missing = missingJumps(jumpRules('bt1'), parseSaved('bt1', saved));
  assert.deepEqual(missing.map((j) => `${j.table} ${j.chain}`), ['nat OUTPUT', 'nat POSTROUTING', 'filter INPUT']);
  assert.match(renderFirewall('bt1', { networks: [], publications: [] }, missing), /^-I OUTPUT 1 -m addrtype --dst-type LOCAL -j bt1-DNAT$/m);
});

test('jumps removed from outside are put back at the head of their chains, table by table', () => {
  const missing = missingJumps(jumpRules('bt1'), parseSaved('bt1', saved));
  assert.equal(
    renderJumps(missing),
    ['*filter', '-I INPUT 1 -j bt1-INPUT', 'COMMIT', '*nat', '-I OUTPUT 1 -m addrtype --dst-type LOCAL -j bt1-DNAT', '-I POSTROUTING 1 -j bt1-POSTROUTING', 'COMMIT', ''].join('\n'),
  );
});
