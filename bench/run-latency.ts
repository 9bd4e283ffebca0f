// `docker run --rm busybox true` latency through berthd (median of N), beside dockerd and
// podman when they are installed, and bare `runc run` of a prepared bundle as the floor; then
// DETACHED × `run -d … sleep` and one `rm -f` of them all, with the daemon's (and monitors') RSS
// while they run, for each engine. berthd is bundled and the berth CLI built like scripts/build.mjs
// does (the CLI into bench/out/cli, run through its shebang), so the numbers are the shipped
// programs'. Peers: see bench/peers.ts.
//   node --import tsx bench/run-latency.ts [--runs N] [--detached N] [--against DIR]
// --against DIR: another checkout (e.g. `git worktree add DIR <rev>`, or `git archive <rev>`
// unpacked with node_modules linked) whose berthd runs beside this one; `--network none` runs
// alternate between the two, so both see the same load (medians and lower quartiles printed).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCli, startBundledBerthd } from './daemon-bundle.js';
import { dockerdEnv, dockerdPid, ensureDockerImage, ensurePodmanImage, loadAverage, podman, rssMb, rssOfProcesses } from './peers.js';
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

/**
 * Runs not counted before each measurement: a berthd just started runs its first few dozen
 * requests in V8's interpreter (its node flags delay the optimizing tiers, for memory), which a
 * daemon in use has left behind long ago; dockerd, compiled, has no such phase.
 */
const WARMUP = 20;

function sample(n: number, fn: () => number): number[] {
  for (let i = 0; i < WARMUP; i++) fn();
  return Array.from({ length: n }, fn);
}



const NONE_ARGS = ['run', '--rm', '--network', 'none', 'busybox', 'true'];

function withoutCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _, ...rest } = env;
  return rest;
}

interface Command {
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** Runs the commands in turn, the order reversed every other round, so that all see the same load: times per command. */
function alternating(commands: Command[]): number[][] {
  const times = commands.map(() => [] as number[]);
  for (const c of commands) timed(c.cmd, c.args, c.env);
  for (let i = 0; i < RUNS; i++) {
    const order = commands.map((_, k) => k);
    if (i % 2) order.reverse();
    for (const k of order) times[k]!.push(timed(commands[k]!.cmd, commands[k]!.args, commands[k]!.env));
  }
  return times;
}

/** Runs alternating between this berthd and another engine (the other checkout's, dockerd): same load for both. */
function interleaved(envMine: NodeJS.ProcessEnv, envOther: NodeJS.ProcessEnv, argsMine = NONE_ARGS, argsOther = argsMine): { mine: number[]; other: number[] } {
  const [mine, other] = alternating([
    { cmd: DOCKER, args: argsMine, env: envMine },
    { cmd: DOCKER, args: argsOther, env: envOther },
  ]);
  return { mine: mine!, other: other! };
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

/** DETACHED × `run -d … sleep 300`, then one `rm -f` of them all: total ms, and `whileRunning()` sampled before the rm. */
function detachedRound<T>(argv: string[], env: NodeJS.ProcessEnv, runArgs: string[], image: string, whileRunning: () => T): { ms: number; sample: T } {
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < DETACHED; i++) {
    const r = spawnSync(argv[0]!, [...argv.slice(1), 'run', '-d', ...runArgs, image, 'sleep', '300'], { env, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} run -d failed (${r.status}): ${r.stderr}`);
    ids.push(r.stdout.trim());
  }
  const sample = whileRunning();
  if (ids.length) timed(argv[0]!, [...argv.slice(1), 'rm', '-f', ...ids], env);
  return { ms: performance.now() - t0, sample };
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
    const b = await startBundledBerthd(root, { prefix: PREFIX });
    berthd = b.child;
    timed(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], b.env);

    const berthRun = median(sample(RUNS, () => timed(DOCKER, ['run', '--rm', 'busybox', 'true'], b.env)));
    const berthNone = median(sample(RUNS, () => timed(DOCKER, ['run', '--rm', '--network', 'none', 'busybox', 'true'], b.env)));
    // The berth CLI as installed: built as `npm run build` does (bench/out/cli), run through its
    // shebang, with its hot-run bundle and that bundle's code cache (written by the warm-up run).
    const cli = buildCli();
    const berthCliRun = median(sample(RUNS, () => timed(cli, ['-H', b.env['DOCKER_HOST']!, 'run', '--rm', 'busybox', 'true'], b.env)));
    // The docker CLI's own start + one round trip: a floor both engines' `docker run` include.
    const cliFloor = median(sample(RUNS, () => timed(DOCKER, ['version'], b.env)));
    const berthPid = berthd.pid!;
    // The issue's command as typed: `run -d … sleep` on each engine's default network (a bridge;
    // dockerd started with --bridge=none has none, which favours it).
    const round = detachedRound([DOCKER], b.env, [], 'busybox', () => ({ daemon: rssMb(berthPid), monitors: rssOfProcesses('conmon', root) }));
    const detachedTotal = round.ms;
    const floor = median(await runcFloor(root, rootfs));
    let comparison: { mine: number[]; other: number[] } | undefined;
    let bridgeComparison: { mine: number[]; other: number[] } | undefined;
    if (values.against) {
      againstRoot = join(root, 'against');
      await mkdir(againstRoot);
      const a = await startBundledBerthd(againstRoot, { checkout: values.against, prefix: `${PREFIX}a` });
      againstDaemon = a.child;
      timed(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], a.env);
      comparison = interleaved(b.env, a.env);
      bridgeComparison = interleaved(b.env, a.env, ['run', '--rm', 'busybox', 'true']);
    }

    console.log(`docker run --rm busybox true, median of ${RUNS} (load ${loadAverage()})`);
    console.log(line('berth (default bridge network)', berthRun));
    console.log(line('berth (--network none)', berthNone));
    console.log(line('berth CLI: berth run --rm (default bridge)', berthCliRun, berthRun));
    console.log(line('runc run of a prepared bundle (floor)', floor, berthRun));
    console.log(line('docker version → berthd (the CLI floor)', cliFloor, berthRun));
    console.log(line(`berth: ${DETACHED} × run -d sleep, then rm -f all (default network)`, detachedTotal));
    console.log(`${'berthd RSS with those containers running'.padEnd(44)} ${round.sample.daemon.toFixed(1).padStart(8)} MB   + ${round.sample.monitors.count} conmon ${round.sample.monitors.mb.toFixed(1)} MB`);
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    for (const [what, cmp] of [['--network none', comparison], ['default bridge', bridgeComparison]] as const) {
      if (!cmp) continue;
      console.log(`${what}, ${RUNS} runs alternating with ${values.against} (load ${load}):`);
      console.log(`${'  this checkout: median / lower quartile'.padEnd(44)} ${median(cmp.mine).toFixed(1).padStart(8)} / ${quantile(cmp.mine, 0.25).toFixed(1)} ms`);
      console.log(`${'  the other: median / lower quartile'.padEnd(44)} ${median(cmp.other).toFixed(1).padStart(8)} / ${quantile(cmp.other, 0.25).toFixed(1)} ms`);
    }

    const denv = dockerdEnv();
    if (!denv) console.log(`${'dockerd'.padEnd(44)}  not running on /var/run/docker.sock: skipped`);
    else {
      ensureDockerImage(denv, join(root, 'bb.tar'));
      // dockerd started with --bridge=none has no default bridge: its default run is `--network none`.
      const bridged = spawnSync(DOCKER, ['network', 'inspect', 'bridge'], { env: denv, stdio: 'ignore' }).status === 0;
      const ms = median(sample(RUNS, () => timed(DOCKER, ['run', '--rm', 'busybox', 'true'], denv)));
      const msNone = median(sample(RUNS, () => timed(DOCKER, ['run', '--rm', '--network', 'none', 'busybox', 'true'], denv)));
      const ref = bridged ? berthRun : berthNone;
      console.log(line('docker version → dockerd (the CLI floor)', median(sample(RUNS, () => timed(DOCKER, ['version'], denv))), cliFloor));
      console.log(line(`dockerd (${bridged ? 'default bridge' : 'no bridge: --bridge=none'})`, ms, ref));
      console.log(line('dockerd (--network none)', msNone, berthNone));
      console.log(`${''.padEnd(44)} target: berth ≤ 1/4 of dockerd → ${ref <= ms / 4 ? 'met' : 'not met'} (${(ref / ms).toFixed(2)}); --network none: ${(berthNone / msNone).toFixed(2)}; berth CLI: ${(berthCliRun / ms).toFixed(2)}`);
      // The same comparison with the runs alternating (the load swings between the phases above).
      const defaultArgs = ['run', '--rm', 'busybox', 'true'];
      const pair = interleaved(b.env, denv, bridged ? defaultArgs : NONE_ARGS, defaultArgs);
      const [pm, pd] = [median(pair.mine), median(pair.other)];
      console.log(`${`alternating, berth ${bridged ? 'default bridge' : '--network none'} / dockerd default`.padEnd(44)} ${pm.toFixed(1).padStart(8)} / ${pd.toFixed(1)} ms = ${(pm / pd).toFixed(2)} (lower quartiles ${quantile(pair.mine, 0.25).toFixed(1)} / ${quantile(pair.other, 0.25).toFixed(1)} ms, load ${loadAverage()})`);
      // The berth CLI beside the floor of any node client (bench/node-run-floor.cjs: the docker
      // CLI's requests and nothing else), both against berthd, alternating with dockerd's run.
      const sock = b.env['DOCKER_HOST']!.replace(/^unix:\/\//, '');
      const clients = alternating([
        { cmd: DOCKER, args: defaultArgs, env: denv },
        { cmd: DOCKER, args: defaultArgs, env: b.env },
        { cmd: cli, args: ['-H', b.env['DOCKER_HOST']!, ...defaultArgs], env: b.env },
        // Without NODE_EXTRA_CA_CERTS, as the berth CLI's shebang starts node (docs/cli.md).
        { cmd: process.execPath, args: [join(import.meta.dirname, 'node-run-floor.cjs'), sock], env: withoutCaCerts(b.env) },
      ]).map(median);
      const names = ['docker run → dockerd', 'docker run → berthd', 'berth run → berthd', 'node client floor → berthd'];
      console.log(`alternating, all four on the default bridge (load ${loadAverage()}), median and ÷ dockerd:`);
      for (const [k, ms] of clients.entries()) console.log(`  ${names[k]!.padEnd(42)} ${ms.toFixed(1).padStart(8)} ms   ${(ms / clients[0]!).toFixed(2)}`);
      const pid = dockerdPid();
      const d = detachedRound([DOCKER], denv, [], 'busybox', () => ({ daemon: rssMb(pid), containerd: rssOfProcesses('containerd', 'containerd.toml'), shims: rssOfProcesses('containerd-shim', 'moby') }));
      console.log(line(`dockerd: ${DETACHED} × run -d sleep, then rm -f all`, d.ms, detachedTotal));
      console.log(`${''.padEnd(44)} target: berth ≤ 1/3 of dockerd → ${detachedTotal <= d.ms / 3 ? 'met' : 'not met'} (${(detachedTotal / d.ms).toFixed(2)})`);
      console.log(`${'dockerd RSS with those containers running'.padEnd(44)} ${d.sample.daemon.toFixed(1).padStart(8)} MB   + containerd ${d.sample.containerd.mb.toFixed(1)} MB + ${d.sample.shims.count} shims ${d.sample.shims.mb.toFixed(1)} MB`);
    }

    const pm = podman();
    if (!pm) console.log(`${'podman'.padEnd(44)}  not installed: skipped`);
    else {
      const image = ensurePodmanImage(pm.argv, join(root, 'bb.tar'));
      const ms = median(sample(RUNS, () => timed(pm.argv[0]!, [...pm.argv.slice(1), 'run', '--rm', ...pm.runArgs, image, 'true'])));
      console.log(line('podman --runtime runc (--network none)', ms, berthNone));
      const d = detachedRound(pm.argv, process.env, pm.runArgs, image, () => rssOfProcesses('conmon', '/tmp/berth-bench-podman'));
      console.log(line(`podman: ${DETACHED} × run -d sleep, then rm -f all`, d.ms, detachedTotal));
      console.log(`${'podman (no daemon) with those containers running'.padEnd(44)} ${d.sample.count} conmon ${d.sample.mb.toFixed(1)} MB`);
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
