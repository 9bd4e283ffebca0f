import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import { DnsServer, type DnsNameSource } from './dns-server.js';

function query(name: string, type: 'A' | 'AAAA' | 'PTR' = 'A', id = 7): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });
}

function udpAsk(port: number, msg: Buffer): Promise<dnsPacket.Packet> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no answer'));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(dnsPacket.decode(m));
    });
    s.send(msg, port, '127.0.0.1');
  });
}

function datas(p: dnsPacket.Packet): unknown[] {
  return (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined));
}
function rcode(p: dnsPacket.Packet): number {
  return (p.flags ?? 0) & 0xf;
}

const names: Record<string, string[]> = { web: ['10.0.0.2'], db: ['10.0.0.3', '10.0.0.4'] };
const source: DnsNameSource = {
  lookup: (n) => names[n] ?? [],
  reverse: (ip) => (ip === '10.0.0.2' ? 'web' : undefined),
  forward: true,
};

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('known names are answered with all their addresses, rotated for round-robin', async (t) => {
  const port = await freePort();
  const srv = new DnsServer({ address: '127.0.0.1', port, source, upstreams: async () => [] });
  await srv.listen();
  t.after(() => srv.close());
  const a = await udpAsk(port, query('db'));
  const b = await udpAsk(port, query('DB.'));
  assert.equal(a.id, 7);
  assert.deepEqual(datas(a), ['10.0.0.3', '10.0.0.4']);
  assert.deepEqual(datas(b), ['10.0.0.4', '10.0.0.3']);
  const aaaa = await udpAsk(port, query('web', 'AAAA'));
  assert.equal(rcode(aaaa), 0);
  assert.equal(aaaa.answers?.length, 0);
  const ptr = await udpAsk(port, query('2.0.0.10.in-addr.arpa', 'PTR'));
  assert.equal(datas(ptr)[0], 'web');
});

test('unknown names are forwarded to the upstream and its answer relayed', async (t) => {
  const upPort = await freePort();
  const upstream = createSocket('udp4');
  upstream.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    upstream.send(
      dnsPacket.encode({
        type: 'response',
        id: q.id,
        questions: q.questions,
        answers: [{ type: 'A', name: q.questions![0]!.name, data: '192.0.2.99' }],
      }),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((r) => upstream.bind(upPort, '127.0.0.1', () => r()));
  t.after(() => upstream.close());
  const port = await freePort();
  const srv = new DnsServer({ address: '127.0.0.1', port, source, upstreams: async () => [{ host: '127.0.0.1', port: upPort }] });
  await srv.listen();
  t.after(() => srv.close());
  const res = await udpAsk(port, query('example.test', 'A', 99));
  assert.equal(res.id, 99);
  assert.equal(datas(res)[0], '192.0.2.99');
});

test('a network without forwarding answers NXDOMAIN for unknown names', async (t) => {
  const port = await freePort();
  const srv = new DnsServer({ address: '127.0.0.1', port, source: { ...source, forward: false }, upstreams: async () => [] });
  await srv.listen();
  t.after(() => srv.close());
  const res = await udpAsk(port, query('nowhere'));
  assert.equal(rcode(res), 3);
});

test('queries over TCP get length-prefixed answers', async (t) => {
  const port = await freePort();
  const srv = new DnsServer({ address: '127.0.0.1', port, source, upstreams: async () => [] });
  await srv.listen();
  t.after(() => srv.close());
  const q = query('web');
  const head = Buffer.alloc(2);
  head.writeUInt16BE(q.length);
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.write(Buffer.concat([head, q])));
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        c.end();
        resolve(buf.subarray(2));
      }
    });
    c.on('error', reject);
  });
  assert.equal(datas(dnsPacket.decode(reply))[0], '10.0.0.2');
});

test('a client the source does not serve is refused', async (t) => {
  const port = await freePort();
  const srv = new DnsServer({ address: '127.0.0.1', port, source: { ...source, serves: () => false }, upstreams: async () => [] });
  await srv.listen();
  t.after(() => srv.close());
  const res = await udpAsk(port, query('web'));
  assert.equal(rcode(res), 5);
  assert.equal(res.answers?.length, 0);
});
