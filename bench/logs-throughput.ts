// `logs` of a container that wrote 100 MB (issue 4: ≥ dockerd's throughput): a busybox
// container writes MB megabytes of 100-byte lines and exits, then `docker logs` and
// `berth logs` (whole log, `--tail 10`, `-t`) are timed to /dev/null, beside dockerd when
// it is installed. berthd and the CLI are bundled (esbuild) so the numbers are the shipped
// programs'; berthd runs with the node flags of its shebang.
//   node --import tsx bench/logs-throughput.ts [--mb 100] [--runs 3] [--only <case>]
// BERTH_BENCH_CPU_PROF=<dir> writes CPU profiles of berthd there (and of berth in <dir>/cli).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleEntry, daemonNodeFlags, startBundledBerthd } from './daemon-bundle.js';
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

/** CPU seconds (user + system) a process has used so far; NaN when it cannot be read. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    // The daemon is not ours to read (or is gone): no CPU figure.
    return NaN;
  }
}

interface Timing {
  /** Median wall time, ms. */
  ms: number;
  /** Median CPU time of the daemon during one run, ms (steadier than wall time on a busy host). */
  daemonCpuMs: number;
}

/** Times `cmd args > /dev/null` (after a run that checks the output's size). */
function timeToDevNull(cmd: string, args: string[], env: NodeJS.ProcessEnv, daemonPid: number | undefined, minBytes = MB * 1_000_000): Timing {
  const probeFile = join(tmpdir(), `berth-bench-logs-${process.pid}.out`);
  const fd = openSync(probeFile, 'w');
  const probe = spawnSync(cmd, args, { env, stdio: ['ignore', fd, 'pipe'], timeout: 300_000 });
  closeSync(fd);
  const bytes = statSync(probeFile).size;
  unlinkSync(probeFile);
  if (!(bytes >= minBytes)) throw new Error(`${cmd} ${args.join(' ')} wrote ${bytes} bytes, expected at least ${minBytes}: ${probe.stderr}`);
  const devNull = openSync('/dev/null', 'w');
  try {
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const cpu0 = cpuSeconds(daemonPid);
      const t = performance.now();
      const r = spawnSync(cmd, args, { env, stdio: ['ignore', devNull, 'pipe'], timeout: 300_000 });
      walls.push(performance.now() - t);
      cpus.push((cpuSeconds(daemonPid) - cpu0) * 1000);
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    }
    return { ms: median(walls), daemonCpuMs: median(cpus) };
  } finally {
    closeSync(devNull);
  }
}


/** Writes the log: MB megabytes of lines on stdout, then waits for the exit. */
function writeLog(env: NodeJS.ProcessEnv, name: string, image: string): void {
  check(DOCKER, ['run', '-d', '--name', name, image, 'awk', `BEGIN { for (i = 0; i < ${MB * 10_000}; i++) print "${LINE}" }`], env);
  check(DOCKER, ['wait', name], env);
}

function rate(ms: number): string {
  return `${(MB / (ms / 1000)).toFixed(0).padStart(5)} MB/s`;
}

function row(name: string, t: Timing, ref?: Timing): string {
  const cpu = Number.isNaN(t.daemonCpuMs) ? '' : `   daemon CPU ${t.daemonCpuMs.toFixed(0).padStart(5)} ms`;
  return `${name.padEnd(46)} ${t.ms.toFixed(0).padStart(7)} ms ${rate(t.ms)}${cpu}${ref ? `   ${(t.ms / ref.ms).toFixed(2)}× berth` : ''}`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('logs-throughput: needs root (runc, overlay mounts); skipped');
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'berth-bench-logs-'));
  let berthd: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv = process.env;
  try {
    const cliEntry = await bundleEntry('berth');
    const rootfs = join(root, 'rootfs');
    await buildBusyboxRootfs(rootfs);
    check('tar', ['-C', rootfs, '-cf', join(root, 'bb.tar'), '.'], env);
    const daemonProf = process.env['BERTH_BENCH_CPU_PROF'];
    const b = await startBundledBerthd(root, { prefix: PREFIX, nodeFlags: [...daemonNodeFlags(), ...(daemonProf ? ['--cpu-prof', `--cpu-prof-dir=${daemonProf}`] : [])] });
    berthd = b.child;
    env = b.env;
    check(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], env);
    writeLog(env, 'logs100', 'busybox');
    const berth = [process.execPath, ...(daemonProf ? ['--cpu-prof', `--cpu-prof-dir=${join(daemonProf, 'cli')}`] : []), cliEntry];

    console.log(`logs of a container that wrote ${MB} MB in ${LINE.length + 1}-byte lines, to /dev/null, median of ${RUNS}`);
    const dockerAll = timeToDevNull(DOCKER, ['logs', 'logs100'], env, berthd.pid);
    console.log(row('docker logs → berthd', dockerAll));
    const cases: Array<[string, string[], string[]]> = [
      ['berth logs', berth, ['logs', 'logs100']],
      ['docker logs -t → berthd', [DOCKER], ['logs', '-t', 'logs100']],
      ['docker logs --since 2000-01-01 → berthd', [DOCKER], ['logs', '--since', '2000-01-01T00:00:00Z', 'logs100']],
    ];
    for (const [name, cmd, args] of cases) {
      if (!ONLY || name.includes(ONLY)) console.log(row(name, timeToDevNull(cmd[0]!, [...cmd.slice(1), ...args], env, berthd.pid)));
    }
    const tail = timeToDevNull(DOCKER, ['logs', '--tail', '10', 'logs100'], env, berthd.pid, 1000);
    console.log(`${'docker logs --tail 10 → berthd'.padEnd(46)} ${tail.ms.toFixed(0).padStart(7)} ms`);

    if (!existsSync('/var/run/docker.sock')) {
      console.log(`${'dockerd'.padEnd(46)}  not installed: skipped`);
      return;
    }
    const denv = { ...process.env, DOCKER_HOST: 'unix:///var/run/docker.sock' };
    if (spawnSync(DOCKER, ['image', 'inspect', 'busybox'], { env: denv }).status !== 0) check(DOCKER, ['import', join(root, 'bb.tar'), 'busybox:latest'], denv);
    const name = `${PREFIX}-logs100`;
    try {
      writeLog(denv, name, 'busybox');
      const dockerdPid = existsSync('/var/run/docker.pid') ? Number(readFileSync('/var/run/docker.pid', 'utf8').trim()) : undefined;
      const t = timeToDevNull(DOCKER, ['logs', name], denv, dockerdPid);
      console.log(row('docker logs → dockerd (json-file)', t, dockerAll));
      console.log(`${''.padEnd(46)} target: berth ≥ dockerd's throughput → ${dockerAll.ms <= t.ms ? 'met' : 'not met'}`);
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
