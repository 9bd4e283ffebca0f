// Attached output throughput (issue 4): `docker run --rm` of a busybox container that writes
// MB megabytes to stdout, the CLI's stdout to /dev/null — with the default log and with
// `--log-opt max-size=100k` (conmon replaces its log every 100 KiB... 1 MiB floor) — and the
// same through a TTY (`-t`). Prints the median wall time, MB/s, berthd's CPU time per run
// (steadier than wall time on a shared host), and berthd's peak RSS (VmHWM)
// over the whole run (the attach queue keeps it bounded whatever the output). berthd is
// bundled like scripts/build.mjs does, so the numbers are the shipped daemon's. The same cases
// run against dockerd and podman when they are there (see bench/peers.ts).
//   node --import tsx bench/attach-throughput.ts [--mb 100] [--runs 3]
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBundledBerthd } from './daemon-bundle.js';
import { dockerdEnv, dockerdPid, ensureDockerImage, ensurePodmanImage, loadAverage, podman } from './peers.js';
import { buildBusyboxRootfs } from '../test/integration/runtime/fixtures.js';

const DOCKER = '/usr/local/bin/docker';
const { values } = parseArgs({ options: { mb: { type: 'string', default: '100' }, runs: { type: 'string', default: '3' } } });
const MB = Number(values.mb);
const RUNS = Number(values.runs);
const PREFIX = `ba${process.pid.toString(36).slice(-5)}`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function timed(args: string[], env: NodeJS.ProcessEnv, cli = [DOCKER]): number {
  const t = performance.now();
  const r = spawnSync(cli[0]!, [...cli.slice(1), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cli[0]} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

/** The byte count the CLI printed, so a run that lost output is not timed as a fast one. */
function checkBytes(args: string[], env: NodeJS.ProcessEnv, cli = [DOCKER]): void {
  const r = spawnSync('sh', ['-c', `${[...cli, ...args].map((a) => `'${a}'`).join(' ')} | wc -c`], { env, encoding: 'utf8', timeout: 600_000 });
  const n = Number(r.stdout.trim());
  if (n !== MB * 1_000_000) throw new Error(`${cli[0]} ${args.join(' ')} printed ${n} bytes, expected ${MB * 1_000_000}: ${r.stderr}`);
}

/** Runs each case RUNS times through `cli`; prints median wall time, MB/s and the daemon's CPU per run. Returns the medians by case. */
async function runCases(engine: string, cli: string[], env: NodeJS.ProcessEnv, pid: number | undefined, cases: Array<[string, string[]]>, ref?: Map<string, number>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [name, args] of cases) {
    // -t turns \n into \r\n only for newlines; /dev/zero has none, so the count holds.
    checkBytes(args, env, cli);
    const cpu0 = pid ? await cpuSeconds(pid) : NaN;
    const ms = median(Array.from({ length: RUNS }, () => timed(args, env, cli)));
    const cpu = pid ? ((await cpuSeconds(pid)) - cpu0) / RUNS : NaN;
    out.set(name, ms);
    const cpuText = Number.isNaN(cpu) ? '' : `   ${engine} CPU ${cpu.toFixed(2)} s/run`;
    const ratio = ref?.get(name) ? `   berth/this ${(ref.get(name)! / ms).toFixed(2)}` : '';
    console.log(`${`${engine}: ${name}`.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms ${((MB * 1000) / ms).toFixed(0).padStart(6)} MB/s${cpuText}${ratio}`);
  }
  return out;
}


/** CPU seconds (user + system) the process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function peakRssMb(pid: number): Promise<number> {
  const m = /VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('attach-throughput: needs root (runc, overlay mounts); skipped');
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'berth-bench-attach-'));
  let berthd: ChildProcess | undefined;
  try {
    const rootfs = join(root, 'rootfs');
    await buildBusyboxRootfs(rootfs);
    spawnSync('tar', ['-C', rootfs, '-cf', join(root, 'bb.tar'), '.']);
    const b = await startBundledBerthd(root, { prefix: PREFIX });
    berthd = b.child;
    const env = b.env;
    timed(['import', join(root, 'bb.tar'), 'busybox:latest'], env);
    const write = ['busybox', 'head', '-c', String(MB * 1_000_000), '/dev/zero'];
    const cases: Array<[string, string[]]> = [
      ['run --rm (attached)', ['run', '--rm', '--network', 'none', ...write]],
      ['run --rm --log-opt max-size=100k', ['run', '--rm', '--network', 'none', '--log-opt', 'max-size=100k', ...write]],
      ['run --rm -t (TTY)', ['run', '--rm', '-t', '--network', 'none', ...write]],
    ];
    console.log(`docker run --rm busybox writing ${MB} MB to stdout, CLI output to /dev/null, median of ${RUNS} (load ${loadAverage()})`);
    const ref = await runCases('berthd', [DOCKER], env, berthd.pid, cases);
    console.log(`${'berthd peak RSS (VmHWM)'.padEnd(44)} ${(await peakRssMb(berthd.pid!)).toFixed(0).padStart(7)} MB`);
    const denv = dockerdEnv();
    if (!denv) console.log('dockerd: not running on /var/run/docker.sock, skipped');
    else {
      ensureDockerImage(denv, join(root, 'bb.tar'));
      await runCases('dockerd', [DOCKER], denv, dockerdPid(), cases, ref).catch((err: Error) => console.log(`dockerd: failed, skipped: ${err.message.trim()}`));
    }
    const pm = podman();
    if (!pm) console.log('podman: not installed, skipped');
    else {
      const image = ensurePodmanImage(pm.argv, join(root, 'bb.tar'));
      // podman's own flags replace `--network none` (it is in runArgs); no daemon, so no CPU figure.
      const podmanCases = cases.map(([name, args]): [string, string[]] => {
        const flags = args.slice(0, args.indexOf('busybox')).filter((a, i, all) => a !== '--network' && all[i - 1] !== '--network');
        return [name, [...flags, ...pm.runArgs, image, ...write.slice(1)]];
      });
      // A peer that cannot run here is reported, not fatal: berth's numbers are printed already.
      await runCases('podman', pm.argv, process.env, undefined, podmanCases, ref).catch((err: Error) => console.log(`podman: failed, skipped: ${err.message.trim()}`));
    }
  } finally {
    if (berthd && berthd.exitCode === null) {
      berthd.kill('SIGTERM');
      await new Promise((r) => berthd!.once('exit', r));
    }
    await rm(root, { recursive: true, force: true });
  }
}

await main();
