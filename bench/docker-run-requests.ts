// berthd's side of `docker run --rm busybox true`, request by request: the requests the docker
// CLI sends (create, attach hijacked before the start, wait?condition=removed, start) replayed
// from this process, so no CLI start-up is in the numbers. Per run: each request's answer time,
// and from the end of the container's output stream (conmon gone, its exit file written) to the
// wait's answer (exit processed, container removed). The create body is the one the installed
// docker CLI sends, captured once on a socket of our own. (berthd at --log-level trace logs the
// phases of create, start, exit and removal, for a closer look at one of them.)
//   node --import tsx bench/docker-run-requests.ts [--runs N] [--network none|default] [--against DIR]
// --against DIR: another checkout (see run-latency.ts) whose berthd runs beside this one; runs
// alternate between the two, so both see the same load.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBundledBerthd, type BundledBerthd } from './daemon-bundle.js';
import { loadAverage } from './peers.js';
import { buildBusyboxRootfs } from '../test/integration/runtime/fixtures.js';

const DOCKER = '/usr/local/bin/docker';
const API = '/v1.48';
const { values } = parseArgs({ options: { runs: { type: 'string', default: '40' }, network: { type: 'string', default: 'none' }, against: { type: 'string' } } });
const RUNS = Number(values.runs);
const PREFIX = `bq${process.pid.toString(36).slice(-5)}`;
/** Between runs: about what the docker CLI's exit and the next CLI's start leave the daemon. */
const GAP_MS = 20;

interface Answer {
  ms: number;
  status: number;
  body: string;
  socket?: Socket;
}

/** One request on a new connection, as the docker CLI makes them; `hijack` upgrades like attach. */
function call(sock: string, method: string, path: string, body?: unknown, hijack = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const headers: Record<string, string> = hijack ? { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'text/plain' } : { 'Content-Type': 'application/json' };
    const req = request({ socketPath: sock, method, path, headers });
    req.on('upgrade', (res: IncomingMessage, socket: Socket) => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0, body: '', socket }));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The create body the installed docker CLI sends for `docker run --rm busybox true`. */
async function captureCreateBody(root: string): Promise<Record<string, unknown>> {
  const sock = join(root, 'capture.sock');
  let captured: string | undefined;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      if (req.url?.includes('/containers/create')) {
        captured = text;
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"message":"captured"}');
        return;
      }
      res.writeHead(200, { 'API-Version': '1.48', 'Content-Type': 'text/plain' });
      res.end('OK');
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    // Not spawnSync: the server answers on this process's loop while the CLI runs.
    const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(root, 'capture-config') };
    await new Promise<void>((resolve) => spawn(DOCKER, ['run', '--rm', 'busybox', 'true'], { env, stdio: 'ignore' }).once('close', () => resolve()));
  } finally {
    server.close();
    rmSync(sock, { force: true });
  }
  if (!captured) throw new Error('the docker CLI sent no create request to the capture socket');
  return JSON.parse(captured) as Record<string, unknown>;
}

function bodyFor(cli: Record<string, unknown>, network: string): Record<string, unknown> {
  const b = structuredClone(cli) as { HostConfig: Record<string, unknown>; NetworkingConfig?: { EndpointsConfig?: Record<string, unknown> } };
  if (network !== 'default') {
    b.HostConfig['NetworkMode'] = network;
    b.NetworkingConfig = { EndpointsConfig: { [network]: b.NetworkingConfig?.EndpointsConfig?.['default'] ?? {} } };
  }
  return b as unknown as Record<string, unknown>;
}

type Sample = Record<'create' | 'attach' | 'start' | 'outputEndToRemoved' | 'total', number>;

async function oneRun(sock: string, body: Record<string, unknown>): Promise<Sample> {
  const t0 = performance.now();
  const created = await call(sock, 'POST', `${API}/containers/create`, body);
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${created.body}`);
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  const attached = await call(sock, 'POST', `${API}/containers/${id}/attach?stream=1&stdout=1&stderr=1`, undefined, true);
  const socket = attached.socket!;
  let outputEnd = 0;
  socket.on('end', () => (outputEnd ||= performance.now()));
  socket.on('close', () => (outputEnd ||= performance.now()));
  socket.on('error', () => undefined);
  socket.resume();
  const waited = call(sock, 'POST', `${API}/containers/${id}/wait?condition=removed`).then((a) => ({ ...a, at: performance.now() }));
  const started = await call(sock, 'POST', `${API}/containers/${id}/start`);
  if (started.status !== 204) throw new Error(`start answered ${started.status}: ${started.body}`);
  const w = await waited;
  if (w.status !== 200) throw new Error(`wait answered ${w.status}: ${w.body}`);
  socket.destroy();
  return { create: created.ms, attach: attached.ms, start: started.ms, outputEndToRemoved: outputEnd ? w.at - outputEnd : NaN, total: performance.now() - t0 };
}

function quantile(xs: number[], q: number): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * q))]! : NaN;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync(DOCKER)) {
    console.log(`docker-run-requests: needs root and the docker CLI at ${DOCKER}; skipped`);
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'berth-bench-requests-'));
  const daemons: Array<{ name: string; d: BundledBerthd; sock: string; samples: Sample[] }> = [];
  try {
    await buildBusyboxRootfs(join(root, 'rootfs'));
    spawnSync('tar', ['-C', join(root, 'rootfs'), '-cf', join(root, 'bb.tar'), '.']);
    const cli = await captureCreateBody(root);
    const checkouts: Array<[string, string | undefined]> = [['this checkout', undefined]];
    if (values.against) checkouts.push([values.against, values.against]);
    for (const [i, [name, checkout]] of checkouts.entries()) {
      const dir = join(root, `d${i}`);
      const d = await startBundledBerthd(dir, { prefix: `${PREFIX}${i}`, ...(checkout ? { checkout } : {}) });
      daemons.push({ name, d, sock: join(dir, 'berth.sock'), samples: [] });
      const imported = spawnSync(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], { env: d.env, encoding: 'utf8' });
      if (imported.status !== 0) throw new Error(`docker import failed: ${imported.stderr}`);
    }
    const body = bodyFor(cli, values.network!);
    for (const x of daemons) await oneRun(x.sock, body); // warm-up
    for (let i = 0; i < RUNS; i++) {
      for (let j = 0; j < daemons.length; j++) {
        const x = daemons[(i + j) % daemons.length]!;
        x.samples.push(await oneRun(x.sock, body));
        await new Promise((r) => setTimeout(r, GAP_MS));
      }
    }
    console.log(`docker run --rm busybox true as berthd sees it (--network ${values.network}), ${RUNS} runs, median / lower quartile in ms (load ${loadAverage()})`);
    console.log(`${''.padEnd(22)}${daemons.map((x) => x.name.slice(-28).padStart(30)).join('')}`);
    for (const k of ['create', 'attach', 'start', 'outputEndToRemoved', 'total'] as const) {
      console.log(`${k.padEnd(22)}${daemons.map((x) => `${quantile(x.samples.map((s) => s[k]), 0.5).toFixed(2)} / ${quantile(x.samples.map((s) => s[k]), 0.25).toFixed(2)}`.padStart(30)).join('')}`);
    }
  } finally {
    for (const x of daemons) {
      x.d.child.kill('SIGTERM');
      await new Promise((r) => x.d.child.once('exit', r));
    }
    await rm(root, { recursive: true, force: true });
  }
}

await main();
