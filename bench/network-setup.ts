// Benchmark: what networking adds to a container start and stop, and what a network create
// costs (issue targets: ≤ 15 ms per container over `--network none`, ≤ 50 ms per create).
// Runs NetworkService with the bridge driver against named namespaces standing in for
// containers (needs root). Usage: node --import tsx bench/network-setup.ts [iterations]
import { loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { benchNetworkService } from './bench-network.js';
import { run } from '../src/util/index.js';

const N = Number(process.argv[2] ?? 30);

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const pick = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  return `median ${pick(0.5)} ms  p90 ${pick(0.9)} ms  min ${s[0]!.toFixed(1)} ms  (n=${s.length})`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('network-setup bench needs root (bridges, veths, iptables); skipped');
    return;
  }
  const { svc, prefix, dispose } = await benchNetworkService('net');
  const ns = `${prefix}nb`;
  try {
    await svc.restore();
    await svc.create({ name: 'bench' });

    const none: number[] = [];
    const bridge: number[] = [];
    const attach: number[] = [];
    const detach: number[] = [];
    const withPort: number[] = [];
    const create: number[] = [];
    const remove: number[] = [];
    const netnsAdd = (name: string) => run('ip', ['netns', 'add', name], { timeoutMs: 5000 });
    const netnsDel = (name: string) => run('ip', ['netns', 'del', name], { timeoutMs: 5000 });
    for (let i = 0; i < N; i++) {
      const c = { id: randomBytes(32).toString('hex'), name: `c${i}` };
      const name = `${ns}${i}`;
      const path = `/var/run/netns/${name}`;
      // `--network none`: runc creates the namespace and it dies with the container.
      none.push(await timed(async () => {
        await netnsAdd(name);
        await netnsDel(name);
      }));
      // A bridge network adds attach before start and detach after exit (the veth died with the namespace).
      bridge.push(await timed(async () => {
        await netnsAdd(name);
        attach.push(await timed(() => svc.attach(c, path, [{ network: 'bench' }])));
        await netnsDel(name);
        detach.push(await timed(() => svc.detach(c.id)));
      }));
      withPort.push(await timed(async () => {
        await netnsAdd(name);
        await svc.attach(c, path, [{ network: 'bench' }], [{ hostIp: '127.0.0.1', containerPort: 80, protocol: 'tcp' }]);
        await netnsDel(name);
        await svc.detach(c.id);
      }));
      await svc.releaseContainer(c.id);
      create.push(await timed(() => svc.create({ name: `n${i}` })));
      remove.push(await timed(() => svc.remove(`n${i}`)));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`berth network setup (bridge driver, ${N} iterations; load average ${loadavg()[0]!.toFixed(1)})`);
    console.log(`  --network none (netns add+del)   ${stats(none)}`);
    console.log(`  user network                     ${stats(bridge)}`);
    console.log(`    attach                         ${stats(attach)}`);
    console.log(`    detach after exit              ${stats(detach)}`);
    console.log(`  user network + -p 127.0.0.1::80  ${stats(withPort)}`);
    console.log(`  network create                   ${stats(create)}`);
    console.log(`  network remove                   ${stats(remove)}`);
    console.log(`  added over none: ${(median(bridge) - median(none)).toFixed(1)} ms (target ≤ 15 ms); with a port: ${(median(withPort) - median(none)).toFixed(1)} ms`);
    console.log(`  network create: ${median(create).toFixed(1)} ms (target ≤ 50 ms)`);
    console.log('  dockerd/podman side by side: not measured here (no daemon on this machine)');
  } finally {
    await dispose();
  }
}

await main();
