// `docker run --rm busybox true` latency through berthd (median of N), beside dockerd and
// podman when they are installed, and bare `runc run` of a prepared bundle as the floor.
// berthd is bundled like scripts/build.mjs does, so the numbers are the shipped daemon's.
//   node --import tsx bench/run-latency.ts [--runs N] [--detached N] [--against DIR]
// --against DIR: another checkout (e.g. `git worktree add DIR <rev>`, or `git archive <rev>`
// unpacked with node_modules linked) whose berthd runs beside this one; `--network none` runs
// alternate between the two, so both see the same load (medians and lower quartiles printed).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, bundleBerthd } from './daemon-bundle.js';
import { buildBusyboxRootfs } from '../test/integration/runtime/fixtures.js';

const DOCKER = '/usr/local/bin/docker';
const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, detached: { type: 'string', default: '20' }, against: { type: 'string' } } });
const RUNS = Number(values.runs);
const DETACHED = Number(values.detached);
const PREFIX = `br${process.pid.toString(36).slice(-5)}`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : NaN;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * q))]! : NaN;
}

function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

function sample(n: number, fn: () => number): number[] {
  fn(); // warm-up
  return Array.from({ length: n }, fn);
}

function ping(socketPath: string, path: string): Promise<number> {
  return new Promise((res) => {
    const req = request({ socketPath, path }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('error', () => res(0));
    req.end();
  });
}

async function vmRss(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function startBerthd(root: string, checkout = REPO, prefix = PREFIX): Promise<{ child: ChildProcess; env: NodeJS.ProcessEnv }> {
  const entry = await bundleBerthd(checkout);
  const sock = join(root, 'berth.sock');
  const child = spawn(process.execPath, [entry, '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--host', `unix://${sock}`, '--name-prefix', prefix, '--log-level', 'warn'], {
    cwd: checkout,
    stdio: 'ignore',
  });
  for (let i = 0; i < 600 && (await ping(sock, '/containers/json')) !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  return { child, env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(root, 'docker-config') } };
}

/** `--network none` runs alternating between this berthd and the other checkout's (same load for both). */
function interleaved(envMine: NodeJS.ProcessEnv, envOther: NodeJS.ProcessEnv): { mine: number[]; other: number[] } {
  const args = ['run', '--rm', '--network', 'none', 'busybox', 'true'];
  const mine: number[] = [];
  const other: number[] = [];
  timed(DOCKER, args, envMine);
  timed(DOCKER, args, envOther);
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 ? [envMine, envOther] : [envOther, envMine];
    for (const env of order) (env === envMine ? mine : other).push(timed(DOCKER, args, env));
  }
  return { mine, other };
}

async function runcFloor(root: string, rootfs: string): Promise<number[]> {
  const bundle = join(root, 'bundle');
  await mkdir(bundle, { recursive: true });
  spawnSync('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { terminal: boolean; args: string[] }; root: { path: string } };
  spec.process.terminal = false;
  spec.process.args = ['true'];
  spec.root.path = rootfs;
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  const state = join(root, 'runc-state');
  let n = 0;
  return sample(RUNS, () => timed('runc', ['--root', state, 'run', '--bundle', bundle, `floor${process.pid}-${n++}`]));
}

function line(name: string, ms: number, ref?: number): string {
  return `${name.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms${ref ? `   ${(ms / ref).toFixed(2)}× berth` : ''}`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('run-latency: needs root (runc, overlay mounts); skipped');
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'berth-bench-run-'));
  let berthd: ChildProcess | undefined;
  let againstRoot: string | undefined;
  let againstDaemon: ChildProcess | undefined;
  try {
    const rootfs = join(root, 'rootfs');
    await buildBusyboxRootfs(rootfs);
    spawnSync('tar', ['-C', rootfs, '-cf', join(root, 'bb.tar'), '.']);
    const b = await startBerthd(root);
    berthd = b.child;
    timed(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], b.env);

    const berthRun = median(sample(RUNS, () => timed(DOCKER, ['run', '--rm', 'busybox', 'true'], b.env)));
    const berthNone = median(sample(RUNS, () => timed(DOCKER, ['run', '--rm', '--network', 'none', 'busybox', 'true'], b.env)));
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < DETACHED; i++) {
      const r = spawnSync(DOCKER, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '300'], { env: b.env, encoding: 'utf8' });
      ids.push(r.stdout.trim());
    }
    const rss = await vmRss(berthd.pid!);
    if (ids.length) timed(DOCKER, ['rm', '-f', ...ids], b.env);
    const detachedTotal = performance.now() - t0;
    const floor = median(await runcFloor(root, rootfs));
    let comparison: { mine: number[]; other: number[] } | undefined;
    if (values.against) {
      againstRoot = join(root, 'against');
      await mkdir(againstRoot);
      const a = await startBerthd(againstRoot, values.against, `${PREFIX}a`);
      againstDaemon = a.child;
      timed(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], a.env);
      comparison = interleaved(b.env, a.env);
    }

    console.log(`docker run --rm busybox true, median of ${RUNS}`);
    console.log(line('berth (default bridge network)', berthRun));
    console.log(line('berth (--network none)', berthNone));
    console.log(line('runc run of a prepared bundle (floor)', floor, berthRun));
    console.log(line(`berth: ${DETACHED} × run -d sleep, then rm -f all`, detachedTotal));
    console.log(`${'berthd RSS with those containers running'.padEnd(44)} ${rss.toFixed(1).padStart(8)} MB`);
    if (comparison) {
      const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
      console.log(`--network none, ${RUNS} runs alternating with ${values.against} (load ${load}):`);
      console.log(`${'  this checkout: median / lower quartile'.padEnd(44)} ${median(comparison.mine).toFixed(1).padStart(8)} / ${quantile(comparison.mine, 0.25).toFixed(1)} ms`);
      console.log(`${'  the other: median / lower quartile'.padEnd(44)} ${median(comparison.other).toFixed(1).padStart(8)} / ${quantile(comparison.other, 0.25).toFixed(1)} ms`);
    }

    const peers: Array<[string, string, string[]]> = [
      ['dockerd', '/var/run/docker.sock', []],
      ['podman --runtime runc', '/usr/bin/podman', []],
    ];
    for (const [name, probe] of peers) {
      if (!existsSync(probe)) {
        console.log(`${name.padEnd(44)}  not installed: skipped`);
        continue;
      }
      if (name === 'dockerd') {
        const env = { ...process.env, DOCKER_HOST: 'unix:///var/run/docker.sock' };
        const ok = spawnSync(DOCKER, ['image', 'inspect', 'busybox'], { env }).status === 0;
        if (!ok) timed(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], env);
        const ms = median(sample(RUNS, () => timed(DOCKER, ['run', '--rm', 'busybox', 'true'], env)));
        console.log(line('dockerd', ms, berthRun));
        console.log(`${''.padEnd(44)} target: berth ≤ 1/4 of dockerd → ${(berthRun <= ms / 4 ? 'met' : 'not met')}`);
      } else {
        const ok = spawnSync('podman', ['image', 'exists', 'localhost/busybox-bench']).status === 0;
        if (!ok) timed('podman', ['import', join(root, 'bb.tar'), 'localhost/busybox-bench']);
        const ms = median(sample(RUNS, () => timed('podman', ['--runtime', 'runc', 'run', '--rm', 'localhost/busybox-bench', 'true'])));
        console.log(line(name, ms, berthRun));
      }
    }
  } finally {
    if (againstDaemon && againstRoot) {
      const env = { ...process.env, DOCKER_HOST: `unix://${join(againstRoot, 'berth.sock')}` };
      const ids = spawnSync(DOCKER, ['ps', '-aq'], { encoding: 'utf8', env }).stdout.split('\n').filter(Boolean);
      if (ids.length) spawnSync(DOCKER, ['rm', '-f', ...ids], { env });
      againstDaemon.kill('SIGTERM');
      await new Promise((r) => againstDaemon!.once('exit', r));
    }
    if (berthd) {
      spawnSync(DOCKER, ['rm', '-f', ...(spawnSync(DOCKER, ['ps', '-aq'], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: `unix://${join(root, 'berth.sock')}` } }).stdout.split('\n').filter(Boolean))], {
        env: { ...process.env, DOCKER_HOST: `unix://${join(root, 'berth.sock')}` },
      });
      berthd.kill('SIGTERM');
      await new Promise((r) => berthd!.once('exit', r));
    }
    await rm(root, { recursive: true, force: true });
  }
}

await main();
