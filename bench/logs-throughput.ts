// `logs` of a container that wrote 100 MB (issue 4: ≥ dockerd's throughput): a busybox
// container writes MB megabytes of 100-byte lines and exits, then `docker logs` and
// `berth logs` (whole log, `--tail 10`, `-t`) are timed to /dev/null, beside dockerd when
// it is installed. berthd and the CLI are bundled (esbuild) so the numbers are the shipped
// programs'; berthd runs with the node flags of its shebang.
//   node --import tsx bench/logs-throughput.ts [--mb 100] [--runs 3] [--only <case>]
// BERTH_BENCH_CPU_PROF=<dir> writes CPU profiles of berthd there (and of berth in <dir>/cli).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync, unlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { REPO, bundleBerthd } from './daemon-bundle.js';
import { buildBusyboxRootfs } from '../test/integration/runtime/fixtures.js';

const DOCKER = '/usr/local/bin/docker';
const { values } = parseArgs({ options: { mb: { type: 'string', default: '100' }, runs: { type: 'string', default: '3' }, only: { type: 'string' } } });
/** Only the cases whose name contains this (the plain `docker logs` always runs). */
const ONLY = values.only;
const MB = Number(values.mb);
const RUNS = Number(values.runs);
const PREFIX = `bl${process.pid.toString(36).slice(-5)}`;
/** 99 characters + newline, printed MB × 10,000 times by awk. */
const LINE = 'the quick brown fox jumps over the lazy dog; '.repeat(3).slice(0, 99);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function check(cmd: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Median wall time of `cmd args > /dev/null` (after a run that checks the output's size). */
function timeToDevNull(cmd: string, args: string[], env: NodeJS.ProcessEnv, minBytes = MB * 1_000_000): number {
  const probeFile = join(tmpdir(), `berth-bench-logs-${process.pid}.out`);
  const fd = openSync(probeFile, 'w');
  const probe = spawnSync(cmd, args, { env, stdio: ['ignore', fd, 'pipe'], timeout: 300_000 });
  closeSync(fd);
  const bytes = statSync(probeFile).size;
  unlinkSync(probeFile);
  if (!(bytes >= minBytes)) throw new Error(`${cmd} ${args.join(' ')} wrote ${bytes} bytes, expected at least ${minBytes}: ${probe.stderr}`);
  const devNull = openSync('/dev/null', 'w');
  try {
    const once = () => {
      const t = performance.now();
      const r = spawnSync(cmd, args, { env, stdio: ['ignore', devNull, 'pipe'], timeout: 300_000 });
      const ms = performance.now() - t;
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
      return ms;
    };
    return median(Array.from({ length: RUNS }, once));
  } finally {
    closeSync(devNull);
  }
}

async function bundleCli(): Promise<string> {
  const outdir = join(REPO, 'bench/out/berth');
  await build({
    entryPoints: { berth: join(REPO, 'src/cli/main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  return join(outdir, 'berth.mjs');
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ socketPath, path: '/_ping' }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode === 200));
    });
    req.on('error', () => res(false));
    req.end();
  });
}

/** Writes the log: MB megabytes of lines on stdout, then waits for the exit. */
function writeLog(env: NodeJS.ProcessEnv, name: string, image: string): void {
  check(DOCKER, ['run', '-d', '--name', name, image, 'awk', `BEGIN { for (i = 0; i < ${MB * 10_000}; i++) print "${LINE}" }`], env);
  check(DOCKER, ['wait', name], env);
}

function rate(ms: number): string {
  return `${(MB / (ms / 1000)).toFixed(0).padStart(5)} MB/s`;
}

function row(name: string, ms: number, ref?: number): string {
  return `${name.padEnd(46)} ${ms.toFixed(0).padStart(7)} ms ${rate(ms)}${ref ? `   ${(ms / ref).toFixed(2)}× berth` : ''}`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('logs-throughput: needs root (runc, overlay mounts); skipped');
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'berth-bench-logs-'));
  let berthd: ChildProcess | undefined;
  const sock = join(root, 'berth.sock');
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(root, 'docker-config') };
  try {
    const [daemonEntry, cliEntry] = await Promise.all([bundleBerthd(), bundleCli()]);
    const rootfs = join(root, 'rootfs');
    await buildBusyboxRootfs(rootfs);
    check('tar', ['-C', rootfs, '-cf', join(root, 'bb.tar'), '.'], env);
    berthd = spawn(
      process.execPath,
      ['--max-semi-space-size=1', ...(process.env['BERTH_BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BERTH_BENCH_CPU_PROF']}`] : []), daemonEntry, '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--host', `unix://${sock}`, '--name-prefix', PREFIX, '--log-level', 'warn'],
      { cwd: REPO, stdio: 'ignore' },
    );
    for (let i = 0; i < 600 && !(await ping(sock)); i++) await new Promise((r) => setTimeout(r, 50));
    check(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], env);
    writeLog(env, 'logs100', 'busybox');
    const prof = process.env['BERTH_BENCH_CPU_PROF'];
    const berth = [process.execPath, ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${join(prof, 'cli')}`] : []), cliEntry];

    console.log(`logs of a container that wrote ${MB} MB in ${LINE.length + 1}-byte lines, to /dev/null, median of ${RUNS}`);
    const dockerAll = timeToDevNull(DOCKER, ['logs', 'logs100'], env);
    console.log(row('docker logs → berthd', dockerAll));
    const cases: Array<[string, string[], string[]]> = [
      ['berth logs', berth, ['logs', 'logs100']],
      ['docker logs -t → berthd', [DOCKER], ['logs', '-t', 'logs100']],
      ['docker logs --since 2000-01-01 → berthd', [DOCKER], ['logs', '--since', '2000-01-01T00:00:00Z', 'logs100']],
    ];
    for (const [name, cmd, args] of cases) {
      if (!ONLY || name.includes(ONLY)) console.log(row(name, timeToDevNull(cmd[0]!, [...cmd.slice(1), ...args], env)));
    }
    const tail = timeToDevNull(DOCKER, ['logs', '--tail', '10', 'logs100'], env, 1000);
    console.log(`${'docker logs --tail 10 → berthd'.padEnd(46)} ${tail.toFixed(0).padStart(7)} ms`);

    if (!existsSync('/var/run/docker.sock')) {
      console.log(`${'dockerd'.padEnd(46)}  not installed: skipped`);
      return;
    }
    const denv = { ...process.env, DOCKER_HOST: 'unix:///var/run/docker.sock' };
    if (spawnSync(DOCKER, ['image', 'inspect', 'busybox'], { env: denv }).status !== 0) check(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], denv);
    const name = `${PREFIX}-logs100`;
    try {
      writeLog(denv, name, 'busybox');
      const ms = timeToDevNull(DOCKER, ['logs', name], denv);
      console.log(row('docker logs → dockerd (json-file)', ms, dockerAll));
      console.log(`${''.padEnd(46)} target: berth ≥ dockerd's throughput → ${dockerAll <= ms ? 'met' : 'not met'}`);
    } finally {
      spawnSync(DOCKER, ['rm', '-f', name], { env: denv });
    }
  } finally {
    if (berthd) {
      spawnSync(DOCKER, ['rm', '-f', 'logs100'], { env });
      berthd.kill('SIGTERM');
      await new Promise((r) => berthd!.once('exit', r));
    }
    await rm(root, { recursive: true, force: true });
  }
}

await main();
