// Benchmark: throughput from the host to a published port (127.0.0.1:<port>, DNAT through
// berth's rules) against the same sink reached directly at the container address (no NAT).
// The sink is a node process inside a namespace attached by NetworkService (needs root).
// Beside dockerd when it runs with a bridge (see bench/peers.ts): the same sink entered into a
// dockerd container's network namespace, published on 127.0.0.1 and reached through dockerd's
// userland proxy (its path for loopback) and directly at the container's address.
// Usage: node --import tsx bench/network-throughput.ts [MiB]
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchNetworkService } from './bench-network.js';
import { DOCKER, dockerdEnv, ensureDockerImage } from './peers.js';
import { run, spawnStreaming } from '../src/util/index.js';
import { buildBusyboxRootfs } from '../test/integration/runtime/fixtures.js';

const MIB = Number(process.argv[2] ?? 512);
const CHUNK = Buffer.alloc(1 << 20, 7);
/** Counts the bytes of each connection and answers the total when the sender half-closes. */
const SINK_JS =
  "require('net').createServer({allowHalfOpen:true},s=>{let n=0;s.on('data',d=>n+=d.length);s.on('end',()=>s.end(String(n)))}).listen(5001)";

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

async function waitForSink(host: string, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, host, () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The same pushes into a dockerd container published on 127.0.0.1 (best MiB/s: direct, published); undefined without dockerd or its bridge. */
async function dockerdSide(): Promise<{ direct: number; published: number } | undefined> {
  const env = dockerdEnv();
  if (!env || spawnSync(DOCKER, ['network', 'inspect', 'bridge'], { env, stdio: 'ignore' }).status !== 0) return undefined;
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-tput-'));
  let id = '';
  let sink: ReturnType<typeof spawnStreaming> | undefined;
  try {
    await buildBusyboxRootfs(join(work, 'rootfs'));
    spawnSync('tar', ['-C', join(work, 'rootfs'), '-cf', join(work, 'bb.tar'), '.']);
    ensureDockerImage(env, join(work, 'bb.tar'));
    const r = spawnSync(DOCKER, ['run', '-d', '-p', '127.0.0.1::5001', 'busybox', 'sleep', '600'], { env, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`docker run of the sink container failed: ${r.stderr}`);
    id = r.stdout.trim();
    const [pid, ip] = spawnSync(DOCKER, ['inspect', '-f', '{{.State.Pid}} {{.NetworkSettings.IPAddress}}', id], { env, encoding: 'utf8' }).stdout.trim().split(' ');
    // The host's node in the container's network namespace: the very sink berth's side uses.
    sink = spawnStreaming('nsenter', ['-t', pid!, '-n', process.execPath, '-e', SINK_JS], { timeoutMs: 600_000, stdout: 'ignore', okCodes: [137] });
    const port = Number(spawnSync(DOCKER, ['port', id, '5001/tcp'], { env, encoding: 'utf8' }).stdout.trim().split(':').pop());
    await waitForSink(ip!, 5001);
    const direct: number[] = [];
    const published: number[] = [];
    for (let i = 0; i < 3; i++) {
      direct.push(await push(ip!, 5001));
      published.push(await push('127.0.0.1', port));
    }
    return { direct: Math.max(...direct), published: Math.max(...published) };
  } finally {
    sink?.kill('SIGKILL');
    await sink?.done.catch(() => undefined);
    if (id) spawnSync(DOCKER, ['rm', '-f', id], { env });
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('network-throughput bench needs root; skipped');
    return;
  }
  const { svc, prefix, dispose } = await benchNetworkService('tput');
  const ns = `${prefix}nt`;
  let sink: ReturnType<typeof spawnStreaming> | undefined;
  try {
    await svc.restore();
    await run('ip', ['netns', 'add', ns], { timeoutMs: 5000 });
    const res = await svc.attach({ id: randomBytes(32).toString('hex'), name: 'sink' }, `/var/run/netns/${ns}`, [{ network: 'bridge' }], [
      { hostIp: '127.0.0.1', containerPort: 5001, protocol: 'tcp' },
    ]);
    sink = spawnStreaming('ip', ['netns', 'exec', ns, process.execPath, '-e', SINK_JS], { timeoutMs: 600_000, stdout: 'ignore', okCodes: [137] });
    const ip = res.networks['bridge']!.IPAddress;
    await waitForSink(ip, 5001);
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
    console.log(`  ratio published/direct: ${(best(published) / best(direct)).toFixed(2)}`);
    const d = await dockerdSide();
    if (!d) console.log('  dockerd: not running with a bridge on /var/run/docker.sock, skipped');
    else {
      console.log(`  dockerd: direct to the container        ${d.direct.toFixed(0)} MiB/s`);
      console.log(`  dockerd: 127.0.0.1 published (userland proxy) ${d.published.toFixed(0)} MiB/s`);
      console.log(`  target: berth published ≥ 90% of dockerd's → ${best(published) >= 0.9 * d.published ? 'met' : 'NOT met'} (${(best(published) / d.published).toFixed(2)})`);
    }
  } finally {
    sink?.kill('SIGKILL');
    await sink?.done.catch(() => undefined);
    await dispose();
    await run('ip', ['netns', 'del', ns], { timeoutMs: 5000, okCodes: [1] });
  }
}

await main();
