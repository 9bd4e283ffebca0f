// Build benchmark on a realistic project (multi-stage, 16 steps, ~2000 files / ~50 MB context):
// cold build, no-change rebuild, rebuild after touching one late-copied file, and a 200 MB
// context transfer with the daemon's RSS sampled during it. Driven through the real docker CLI
// (legacy builder, POST /build), the same steps against dockerd (DOCKER_BUILDKIT=0) and
// `podman build` (buildah inside; --network none, --pull=never) when they are there, each on
// its own copy of the project. Peers: see bench/peers.ts.
//   node --import tsx bench/build-rebuild.ts
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_CLI, runCommand, startTestDaemon, type TestDaemon } from '../test/helpers/daemon.js';
import { importBusybox } from '../test/integration/build/fixtures.js';
import { berthArgv } from '../test/integration/cli/berth-cli.js';
import { buildBusyboxRootfs } from '../test/integration/runtime/fixtures.js';
import { dockerdEnv, dockerdPid, ensureDockerImage, ensurePodmanImage, loadAverage, podman } from './peers.js';

const DOCKERFILE = `FROM busybox AS deps
WORKDIR /app
COPY deps/ ./deps/
RUN cat deps/* | wc -c > deps.size
FROM busybox AS tools
RUN echo tool > /tool && chmod +x /tool
FROM busybox AS build
WORKDIR /app
COPY --from=deps /app/deps.size ./
COPY src/ ./src/
RUN find src -type f | wc -l > count
RUN du -s src > du
FROM busybox
ENV APP=/app
WORKDIR /app
COPY --from=build /app/count /app/du ./
COPY --from=tools /tool /usr/local/bin/tool
COPY config/ ./config/
LABEL bench=1
EXPOSE 8080
CMD ["cat", "count"]
`;

async function makeProject(dir: string): Promise<void> {
  await mkdir(join(dir, 'deps'), { recursive: true });
  await mkdir(join(dir, 'config'), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(join(dir, 'deps', `lib${i}.bin`), randomBytes(1024 * 1024));
  for (let d = 0; d < 40; d++) {
    await mkdir(join(dir, 'src', `mod${d}`), { recursive: true });
    for (let f = 0; f < 50; f++) await writeFile(join(dir, 'src', `mod${d}`, `file${f}.txt`), randomBytes(15 * 1024).toString('base64'));
  }
  for (let i = 0; i < 10; i++) await writeFile(join(dir, 'config', `c${i}.yaml`), `key: ${i}\n`);
  await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(dir, '.dockerignore'), '*.tmp\n');
}

function timed(label: string, env: NodeJS.ProcessEnv, args: string[], argv = [DOCKER_CLI]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, [...argv.slice(1), ...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr}`);
  return ms;
}

async function rssKb(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
}

/** One engine: `argv` is its build command line (docker CLI or podman), `pid` its daemon's (RSS). */
interface Engine {
  argv: string[];
  env: NodeJS.ProcessEnv;
  pid: number | undefined;
  /** Extra `build` flags (podman: no network, no pull, the host's nofile limit). */
  buildArgs: string[];
}

async function benchEngine(e: Engine, project: string, big: string): Promise<Record<string, number>> {
  const build = (label: string, dir: string) => timed(label, e.env, ['build', '-q', ...e.buildArgs, '-t', 'bench:1', dir], e.argv);
  const out: Record<string, number> = {};
  out['cold build'] = build('cold', project);
  out['no-change rebuild'] = build('rebuild', project);
  await writeFile(join(project, 'src', 'mod39', 'file49.txt'), randomBytes(15 * 1024).toString('base64'));
  out['touch late file'] = build('touch', project);
  const base = e.pid ? await rssKb(e.pid) : NaN;
  let peak = base;
  const sampler = setInterval(() => {
    if (e.pid) void rssKb(e.pid).then((v) => (peak = Math.max(peak, v)), () => undefined);
  }, 20);
  try {
    // spawnSync would block the sampler: run the transfer asynchronously.
    const t0 = process.hrtime.bigint();
    const r = await runCommand(e.argv[0]!, [...e.argv.slice(1), 'build', '-q', ...e.buildArgs, big], { env: e.env, timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error(`200MB build failed: ${r.stderr}`);
    out['200MB context'] = Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    clearInterval(sampler);
  }
  out['daemon RSS before (MB)'] = base / 1024;
  out['daemon RSS peak during 200MB (MB)'] = peak / 1024;
  return out;
}

function printResults(title: string, r: Record<string, number>, ref?: Record<string, number>): void {
  console.log(title);
  for (const [k, v] of Object.entries(r)) {
    const ratio = ref && !k.includes('MB)') ? `   berth/this ${(ref[k]! / v).toFixed(2)}` : '';
    console.log(`  ${k.padEnd(36)} ${k.includes('MB)') ? v.toFixed(1) + ' MB' : (v / 1000).toFixed(2) + ' s'}${ratio}`);
  }
}

/** The same build steps on a peer, on its own copy of the project (cold for it); its images removed after. */
async function benchPeer(name: string, e: Engine, pristine: string, big: string, cleanup: () => void, ref: Record<string, number>): Promise<void> {
  const project = `${pristine}-${name}`;
  await cp(pristine, project, { recursive: true });
  try {
    const r = await benchEngine(e, project, big);
    printResults(`${name} (same project, same steps; load ${loadAverage()})`, r, ref);
    if (name === 'dockerd') {
      const targets: Array<[string, number]> = [['cold build', 1], ['no-change rebuild', 1 / 3], ['touch late file', 1 / 2], ['200MB context', 1]];
      console.log(`  targets (berth/dockerd): ${targets.map(([k, max]) => `${k} ≤ ${max.toFixed(2)} ${ref[k]! / r[k]! <= max ? 'met' : 'NOT met'}`).join('; ')}`);
    }
  } finally {
    cleanup();
    await rm(project, { recursive: true, force: true });
  }
}

function finishedLines(d: TestDaemon): string[] {
  return d.logs().split('\n').filter((l) => l.includes('build finished'));
}

/** berthd's context time of build number `n` (its log arrives once the event loop runs again). */
async function contextMsOf(d: TestDaemon, n: number): Promise<number> {
  for (let i = 0; i < 500 && finishedLines(d).length < n; i++) await new Promise((r) => setTimeout(r, 10));
  const line = finishedLines(d)[n - 1];
  if (!line) throw new Error('berthd did not log the build');
  return (JSON.parse(line.slice(line.indexOf('{'))) as { contextMs: number }).contextMs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * The docker CLI's own floor for a no-change rebuild: `docker build -q` of the project against a
 * server that answers /_ping and only drains the /build body. No engine can finish a
 * docker-CLI build of this context faster than the CLI walks, tars and sends it.
 */
async function benchUploadFloor(project: string, dir: string): Promise<number> {
  const sock = join(dir, 'drain.sock');
  const server = createServer((req, res) => {
    if (req.url?.includes('/_ping')) {
      res.writeHead(200, { 'Api-Version': '1.41', 'Content-Type': 'text/plain' });
      res.end('OK');
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ aux: { ID: `sha256:${'0'.repeat(64)}` } })}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_BUILDKIT: '0' };
    // spawnSync would block the server this process runs: time the child asynchronously.
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      const r = await runCommand(DOCKER_CLI, ['build', '-q', project], { env, timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`docker build against the draining server failed: ${r.stderr}`);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return median(times);
  } finally {
    server.close();
  }
}

/**
 * `berth build` with the context sent as a tar (BERTH_BUILD_CONTEXT=tar, as before) and read in
 * place by the daemon with its stat-keyed file-hash index: no-change and touch-one-file
 * rebuilds, median of 3, wall time and berthd's context time.
 */
async function benchLocalContext(d: TestDaemon, project: string): Promise<void> {
  const argv = [...berthArgv(), '-H', `unix://${d.socketPath}`, 'build', '-q', '-t', 'bench:1', project];
  let builds = finishedLines(d).length;
  const build = async (mode: string) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, argv, { env: { ...process.env, BERTH_BUILD_CONTEXT: mode }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`berth build (${mode}) failed: ${r.stderr}`);
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    return { wall, context: await contextMsOf(d, ++builds) };
  };
  console.log('berth build (CLI from source/dist), context as tar vs read in place; median of 3 (wall / berthd context):');
  for (const mode of ['tar', 'local']) {
    await build(mode); // warm: the index learns the files (changed more than 1 s ago by now)
    const same = [await build(mode), await build(mode), await build(mode)];
    const touched = [];
    for (let i = 0; i < 3; i++) {
      await writeFile(join(project, 'src', 'mod39', 'file49.txt'), randomBytes(15 * 1024).toString('base64'));
      touched.push(await build(mode));
    }
    const fmt = (xs: Array<{ wall: number; context: number }>) => `${(median(xs.map((x) => x.wall)) / 1000).toFixed(2)} s / ${median(xs.map((x) => x.context))} ms`;
    console.log(`  ${mode.padEnd(6)} no-change ${fmt(same)}   touch one file ${fmt(touched)}`);
  }
}

const root = await mkdtemp(join(tmpdir(), 'berth-bench-build-'));
const d = await startTestDaemon(undefined, { logLevel: 'info' });
if (!d) {
  console.error('bench: needs root');
  process.exit(1);
}
try {
  const project = join(root, 'project');
  const big = join(root, 'big');
  await makeProject(project);
  await mkdir(big, { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(join(big, `blob${i}.bin`), randomBytes(10 * 1024 * 1024));
  await writeFile(join(big, 'Dockerfile'), 'FROM busybox\nLABEL transfer=1\n');
  await importBusybox(d);
  const pristine = join(root, 'pristine');
  await cp(project, pristine, { recursive: true });
  const r = await benchEngine({ argv: [DOCKER_CLI], env: { ...d.env, DOCKER_BUILDKIT: '0' }, pid: d.pid, buildArgs: [] }, project, big);
  await benchLocalContext(d, project);
  const floor = await benchUploadFloor(project, root);
  console.log('berth (docker CLI, legacy builder protocol), project: 2000 src files + 20 MB deps (~50 MB context), 16 steps');
  for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(36)} ${k.includes('MB)') ? v.toFixed(1) + ' MB' : (v / 1000).toFixed(2) + ' s'}`);
  console.log('berthd side of each build (context intake / steps):');
  for (const line of d.logs().split('\n').filter((l) => l.includes('build finished'))) {
    const j = JSON.parse(line.slice(line.indexOf('{'))) as { contextMs: number; stepsMs: number; cached: number; executed: number };
    console.log(`  context ${j.contextMs} ms, steps ${j.stepsMs} ms (${j.cached} cached, ${j.executed} executed)`);
  }
  console.log(`docker CLI floor: docker build -q of the same context to a server that only drains it: ${(floor / 1000).toFixed(2)} s`);
  console.log(`load average during the run: ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
  const bbTar = join(root, 'bb.tar');
  const rootfs = join(root, 'rootfs');
  await buildBusyboxRootfs(rootfs);
  spawnSync('tar', ['-C', rootfs, '-cf', bbTar, '.']);
  const denv = dockerdEnv();
  if (!denv) console.log('dockerd: not running on /var/run/docker.sock, skipped');
  else {
    ensureDockerImage(denv, bbTar);
    const env = { ...denv, DOCKER_BUILDKIT: '0' };
    const cleanup = () => {
      spawnSync(DOCKER_CLI, ['rmi', '-f', 'bench:1'], { env });
      spawnSync(DOCKER_CLI, ['image', 'prune', '-f'], { env });
    };
    await benchPeer('dockerd', { argv: [DOCKER_CLI], env, pid: dockerdPid(), buildArgs: [] }, pristine, big, cleanup, r);
  }
  const pm = podman();
  if (!pm) console.log('podman (buildah): not installed, skipped');
  else {
    ensurePodmanImage(pm.argv, bbTar, 'localhost/busybox');
    const cleanup = () => {
      spawnSync(pm.argv[0]!, [...pm.argv.slice(1), 'rmi', '-f', 'localhost/bench:1']);
      spawnSync(pm.argv[0]!, [...pm.argv.slice(1), 'image', 'prune', '-f']);
    };
    await benchPeer('podman build', { argv: pm.argv, env: process.env, pid: undefined, buildArgs: ['--pull=never', ...pm.runArgs] }, pristine, big, cleanup, r);
  }
} finally {
  await d.stop();
  await rm(root, { recursive: true, force: true });
}
