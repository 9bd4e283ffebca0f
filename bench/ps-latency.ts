// `ps` with N running containers (issue 4: < 30 ms through the API), beside dockerd when it
// runs on /var/run/docker.sock (see bench/peers.ts): N `sleep` containers (--network none) are
// created and started through the API, then GET /containers/json is timed (median of 30, on a
// fresh connection each) and `docker ps` through the CLI; all of them are removed after.
//   node --import tsx bench/ps-latency.ts [--containers 100]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { DOCKER_CLI, apiRequest, startTestDaemon } from '../test/helpers/daemon.js';
import { buildBusyboxRootfs } from '../test/integration/runtime/fixtures.js';
import { DOCKERD_SOCK, dockerdEnv, ensureDockerImage, loadAverage, median } from './peers.js';

const { values } = parseArgs({ options: { containers: { type: 'string', default: '100' } } });
const N = Number(values.containers);

interface Engine {
  name: string;
  socket: string;
  env: NodeJS.ProcessEnv;
}

/** Starts N sleeping containers; returns their ids. */
async function startContainers(e: Engine): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const c = await apiRequest(e.socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { NetworkMode: 'none' } });
    if (c.status !== 201) throw new Error(`${e.name}: create failed: ${c.status} ${c.text}`);
    const id = c.json<{ Id: string }>().Id;
    ids.push(id);
    const s = await apiRequest(e.socket, 'POST', `/containers/${id}/start`, undefined);
    if (s.status !== 204) throw new Error(`${e.name}: start failed: ${s.status} ${s.text}`);
  }
  return ids;
}

async function measure(e: Engine): Promise<{ api: number; apiAll: number; cli: number }> {
  const time = async (path: string) => {
    const xs: number[] = [];
    for (let i = 0; i < 33; i++) {
      const t = performance.now();
      const r = await apiRequest(e.socket, 'GET', path, undefined);
      const ms = performance.now() - t;
      if (r.status !== 200 || r.json<unknown[]>().length < N) throw new Error(`${e.name}: ${path} listed ${r.text.slice(0, 200)}`);
      if (i >= 3) xs.push(ms);
    }
    return median(xs);
  };
  const cli: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t = performance.now();
    const r = spawnSync(DOCKER_CLI, ['ps'], { env: e.env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${e.name}: docker ps failed: ${r.stderr}`);
    if (i >= 3) cli.push(performance.now() - t);
  }
  return { api: await time('/v1.41/containers/json'), apiAll: await time('/v1.41/containers/json?all=1'), cli: median(cli) };
}

async function removeAll(e: Engine, ids: string[]): Promise<void> {
  for (const id of ids) await apiRequest(e.socket, 'DELETE', `/containers/${id}?force=1`, undefined, { timeoutMs: 60_000 });
}

function report(name: string, r: { api: number; apiAll: number; cli: number }, ref?: { api: number }): void {
  const ratio = ref ? `   berth/this ${(ref.api / r.api).toFixed(2)}` : '';
  console.log(`${name.padEnd(8)} GET /containers/json ${r.api.toFixed(1).padStart(6)} ms, ?all=1 ${r.apiAll.toFixed(1).padStart(6)} ms, docker ps ${r.cli.toFixed(0).padStart(4)} ms${ratio}`);
}

const d = await startTestDaemon(undefined, { logLevel: 'warn' });
if (!d) {
  console.log('ps-latency: needs root; skipped');
  process.exit(0);
}
const work = await mkdtemp(join(tmpdir(), 'berth-bench-ps-'));
try {
  const rootfs = join(work, 'rootfs');
  await buildBusyboxRootfs(rootfs);
  const tar = join(work, 'bb.tar');
  spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  ensureDockerImage(d.env, tar);
  const berth: Engine = { name: 'berthd', socket: d.socketPath, env: d.env };
  const ids = await startContainers(berth);
  let ref;
  try {
    ref = await measure(berth);
    console.log(`ps with ${N} running containers, median of 30 requests / 5 CLI runs (load ${loadAverage()})`);
    report('berthd', ref);
    console.log(`         target: GET /containers/json < 30 ms → ${ref.api < 30 ? 'met' : 'NOT met'}`);
  } finally {
    await removeAll(berth, ids);
  }
  const denv = dockerdEnv();
  if (!denv) console.log('dockerd: not running on /var/run/docker.sock, skipped');
  else {
    ensureDockerImage(denv, tar);
    const dockerd: Engine = { name: 'dockerd', socket: DOCKERD_SOCK, env: denv };
    const dids = await startContainers(dockerd);
    try {
      report('dockerd', await measure(dockerd), ref);
    } finally {
      await removeAll(dockerd, dids);
    }
  }
} finally {
  await d.stop();
  await rm(work, { recursive: true, force: true });
}
