// Benchmark: throughput from the host to a published port (127.0.0.1:<port>, DNAT through
// berth's rules) against the same sink reached directly at the container address (no NAT).
// The sink is a node process inside a namespace attached by NetworkService (needs root).
// Usage: node --import tsx bench/network-throughput.ts [MiB]
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { benchNetworkService } from './bench-network.js';
import { run, spawnStreaming } from '../src/util/index.js';

const MIB = Number(process.argv[2] ?? 512);
const CHUNK = Buffer.alloc(1 << 20, 7);

/** Sends MIB MiB and waits for the sink's byte count; returns MiB/s. */
function push(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const sock = connect(port, host, () => {
      let sent = 0;
      const write = () => {
        while (sent < MIB) {
          sent++;
          if (!sock.write(CHUNK)) return void sock.once('drain', write);
        }
        sock.end();
      };
      write();
    });
    let reply = '';
    sock.on('data', (d: Buffer) => (reply += d.toString()));
    sock.on('end', () => {
      if (Number(reply) !== MIB * CHUNK.length) return reject(new Error(`sink got ${reply} bytes`));
      resolve(MIB / ((performance.now() - t) / 1000));
    });
    sock.on('error', reject);
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('network-throughput bench needs root; skipped');
    return;
  }
  const { svc, prefix, dispose } = await benchNetworkService('tput');
  const ns = `${prefix}nt`;
  // Counts the bytes of each connection and answers the total when the sender half-closes.
  const sinkJs =
    "require('net').createServer({allowHalfOpen:true},s=>{let n=0;s.on('data',d=>n+=d.length);s.on('end',()=>s.end(String(n)))}).listen(5001)";
  let sink: ReturnType<typeof spawnStreaming> | undefined;
  try {
    await svc.restore();
    await run('ip', ['netns', 'add', ns], { timeoutMs: 5000 });
    const res = await svc.attach({ id: randomBytes(32).toString('hex'), name: 'sink' }, `/var/run/netns/${ns}`, [{ network: 'bridge' }], [
      { hostIp: '127.0.0.1', containerPort: 5001, protocol: 'tcp' },
    ]);
    sink = spawnStreaming('ip', ['netns', 'exec', ns, process.execPath, '-e', sinkJs], { timeoutMs: 600_000, stdout: 'ignore', okCodes: [137] });
    const ip = res.networks['bridge']!.IPAddress;
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const s = connect(5001, ip, () => (s.destroy(), r(true)));
        s.on('error', () => r(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const direct: number[] = [];
    const published: number[] = [];
    for (let i = 0; i < 3; i++) {
      direct.push(await push(ip, 5001));
      published.push(await push('127.0.0.1', res.ports[0]!.hostPort));
    }
    const best = (xs: number[]) => Math.max(...xs);
    console.log(`berth published-port throughput (${MIB} MiB per run, best of 3; load average ${loadavg()[0]!.toFixed(1)})`);
    console.log(`  direct to the container (no NAT)     ${best(direct).toFixed(0)} MiB/s`);
    console.log(`  127.0.0.1:${res.ports[0]!.hostPort} (DNAT, berth)      ${best(published).toFixed(0)} MiB/s`);
    console.log(`  ratio published/direct: ${(best(published) / best(direct)).toFixed(2)} (dockerd's userland proxy copies every byte through a process; not on this machine)`);
  } finally {
    sink?.kill('SIGKILL');
    await sink?.done.catch(() => undefined);
    await dispose();
    await run('ip', ['netns', 'del', ns], { timeoutMs: 5000, okCodes: [1] });
  }
}

await main();
