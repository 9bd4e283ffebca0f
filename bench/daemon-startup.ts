// berthd start-up time (spawn → first successful /_ping), idle RSS and /_ping latency.
// Bundles berthd like scripts/build.mjs does (into bench/out/) so the numbers are the
// shipped daemon's, not tsx's. Prints dockerd's numbers too when dockerd is installed.
// "ready" is the first 200 from /_ping (the socket is up); "engine" is the first 200 from
// GET /images/json, i.e. storage, images and containers are loaded too.
//   node --import tsx bench/daemon-startup.ts [--runs N] [--pings N] [--node-flag F ...]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleBerthd } from './daemon-bundle.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    pings: { type: 'string', default: '2000' },
    'node-flag': { type: 'string', multiple: true, default: [] },
  },
});
const NODE_FLAGS = values['node-flag'];
// Bridges, chains and netns of this run carry their own prefix, never the host's `berth`.
const BENCH_PREFIX = `bb${process.pid.toString(36).slice(-5)}`;
const RUNS = Number(values.runs);
const PINGS = Number(values.pings);

function ping(socketPath: string, agent?: Agent, path = '/_ping'): Promise<number> {
  return new Promise((resolvePing) => {
    const req = request({ socketPath, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolvePing(res.statusCode ?? 0));
    });
    req.on('error', () => resolvePing(0));
    req.end();
  });
}

async function vmRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      done();
    });
    child.kill('SIGTERM');
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (n: number) => n.toFixed(1);

interface EngineNumbers {
  startMs: number[];
  engineMs: number[];
  rssMb: number;
  pingMedianMs: number;
  pingP99Ms: number;
}

async function measure(name: string, start: (root: string, sock: string) => ChildProcess): Promise<EngineNumbers> {
  const startMs: number[] = [];
  const engineMs: number[] = [];
  let rssMb = 0;
  let pingMedianMs = 0;
  let pingP99Ms = 0;
  for (let i = 0; i < RUNS; i++) {
    const root = await mkdtemp(join(tmpdir(), 'berth-bench-'));
    const sock = join(root, 'd.sock');
    const t0 = performance.now();
    const child = start(root, sock);
    let ready = false;
    while (!ready) {
      if (child.exitCode !== null) throw new Error(`${name} exited during start-up (${child.exitCode})`);
      if ((await ping(sock)) === 200) ready = true;
      else await new Promise((r) => setTimeout(r, 2));
      if (performance.now() - t0 > 30_000) throw new Error(`${name} not ready after 30 s`);
    }
    startMs.push(performance.now() - t0);
    if ((await ping(sock, undefined, '/images/json')) === 200) engineMs.push(performance.now() - t0);
    if (i === RUNS - 1) {
      await new Promise((r) => setTimeout(r, 1_000));
      rssMb = await vmRss(child.pid!);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const lat: number[] = [];
      for (let j = 0; j < 100; j++) await ping(sock, agent); // warm-up
      for (let j = 0; j < PINGS; j++) {
        const s = performance.now();
        await ping(sock, agent);
        lat.push(performance.now() - s);
      }
      agent.destroy();
      pingMedianMs = median(lat);
      pingP99Ms = pct(lat, 0.99);
    }
    await stopChild(child);
    await rm(root, { recursive: true, force: true });
  }
  return { startMs, engineMs, rssMb, pingMedianMs, pingP99Ms };
}

function report(name: string, n: EngineNumbers): void {
  console.log(
    `${name.padEnd(8)} ready: median ${fmt(median(n.startMs))} ms (min ${fmt(Math.min(...n.startMs))}, max ${fmt(Math.max(...n.startMs))}, n=${n.startMs.length})` +
      ` | engine: median ${n.engineMs.length ? fmt(median(n.engineMs)) : '-'} ms` +
      ` | idle RSS ${fmt(n.rssMb)} MB | /_ping median ${(n.pingMedianMs * 1000).toFixed(0)} µs, p99 ${(n.pingP99Ms * 1000).toFixed(0)} µs (n=${PINGS})`,
  );
}

/** Spawn-to-exit of `node -e 0`: the floor any node daemon's start-up sits on (load-dependent). */
async function nodeBaselineMs(): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await new Promise<void>((done) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).on('exit', () => done()));
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

const berthd = await bundleBerthd();
const baseline = await nodeBaselineMs();
console.log(`node -e 0: median ${fmt(baseline)} ms (the floor on this machine right now)`);
const berth = await measure('berthd', (root, sock) =>
  spawn(process.execPath, [...NODE_FLAGS, berthd, '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--host', `unix://${sock}`, '--log-level', 'warn', '--name-prefix', BENCH_PREFIX], {
    stdio: 'ignore',
  }),
);
report(NODE_FLAGS.length ? `berthd ${NODE_FLAGS.join(' ')}` : 'berthd', berth);
console.log(`berthd ready minus the node floor: ${fmt(median(berth.startMs) - baseline)} ms`);
console.log(`targets: ready ≤ 300 ms → ${median(berth.startMs) <= 300 ? 'met' : 'MISSED'}; idle RSS ≤ 60 MB → ${berth.rssMb <= 60 ? 'met' : 'MISSED'}`);

const dockerd = spawnSync('sh', ['-c', 'command -v dockerd'], { encoding: 'utf8' }).stdout.trim();
if (dockerd && existsSync(dockerd) && process.getuid?.() === 0) {
  const d = await measure('dockerd', (root, sock) =>
    spawn(dockerd, ['--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--pidfile', join(root, 'd.pid'), '-H', `unix://${sock}`, '--bridge', 'none', '--iptables=false'], {
      stdio: 'ignore',
    }),
  );
  report('dockerd', d);
  console.log(`ratios berthd/dockerd: ready ${fmt(median(berth.startMs) / median(d.startMs))}×, RSS ${fmt(berth.rssMb / d.rssMb)}×, ping ${fmt(berth.pingMedianMs / d.pingMedianMs)}×`);
} else {
  console.log('dockerd: not installed (or not root) — no comparison');
}
