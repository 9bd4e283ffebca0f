// berthd's resident memory (issue 4: ≤ 80 MB with 20 running containers, conmons apart): the
// bundled daemon (bench/daemon-bundle.ts) with the shipped node flags (DAEMON_NODE_FLAGS in
// scripts/build.mjs) on a temp data root. RSS is read idle (engine loaded), after `docker
// import`, after C `run --rm busybox true` on the default bridge (memory grows with use;
// bench/run-latency.ts makes such runs before its detached round), with N `run -d --network
// none … sleep` running (right after the last start and 3 s later) and after their `rm -f`;
// each split by /proc/<pid>/smaps_rollup into anonymous (V8 heap, malloc) and file-backed
// (the node binary's pages). Every container, the daemon and the temp dir are removed at the end.
//   node --import tsx bench/daemon-rss.ts [--containers 20] [--churn 12] [--rounds 1]
//     [--node-flags="--max-semi-space-size=1 …"] [--checkout DIR] [--detail [--snapshots DIR]]
// --checkout DIR: bundle and measure another checkout's berthd (e.g. `git worktree add DIR <rev>`
//   with node_modules linked) with that checkout's flags.
// --detail: the daemon also preloads a probe that, on SIGUSR2, writes V8's heap figures
//   (process.memoryUsage and the heap spaces, before and after a full GC) for each line.
// --snapshots DIR: also a heap snapshot per line into DIR (1.heapsnapshot, …); the snapshot
//   itself grows the RSS read after it.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, daemonNodeFlags, startBundledBerthd } from './daemon-bundle.js';
import { DOCKER, loadAverage, rssOfProcesses } from './peers.js';
import { buildBusyboxRootfs } from '../test/integration/runtime/fixtures.js';

const { values } = parseArgs({ options: { containers: { type: 'string', default: '20' }, churn: { type: 'string', default: '12' }, rounds: { type: 'string', default: '1' }, 'node-flags': { type: 'string' }, detail: { type: 'boolean', default: false }, checkout: { type: 'string' }, snapshots: { type: 'string' } } });
const CHECKOUT = values.checkout ?? REPO;
const N = Number(values.containers);
const ROUNDS = Number(values.rounds);
const CHURN = Number(values.churn);
const FLAGS: string[] = values['node-flags'] !== undefined ? values['node-flags'].split(/\s+/).filter(Boolean) : daemonNodeFlags(CHECKOUT);
const PREFIX = `br${process.pid.toString(36).slice(-5)}`;

interface Mem {
  rss: number;
  anon: number;
  file: number;
}

/** RSS of a process in MB: total, anonymous and file-backed (smaps_rollup). */
function mem(pid: number): Mem {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN) / 1024;
  const rss = kb('Rss');
  const anon = kb('Anonymous');
  return { rss, anon, file: rss - anon };
}

function fmt(m: Mem): string {
  return `${m.rss.toFixed(1).padStart(6)} MB  (anon ${m.anon.toFixed(1)}, file ${m.file.toFixed(1)})`;
}

// Preloaded into the daemon with --detail: SIGUSR2 → a full GC, then V8's figures into a file.
const PROBE = `
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
let n = 0;
process.on('SIGUSR2', () => {
  if (process.env.BERTH_RSS_PROBE_SNAPSHOTS) writeHeapSnapshot(process.env.BERTH_RSS_PROBE_SNAPSHOTS + '/' + ++n + '.heapsnapshot');
  const before = process.memoryUsage();
  gc();
  const after = process.memoryUsage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
  writeFileSync(process.env.BERTH_RSS_PROBE_OUT, JSON.stringify({ before, after, spaces }));
});
`;

/** Asks the probe for V8's figures (after a GC): "heap used/total, external, spaces". */
async function probe(pid: number, out: string): Promise<string> {
  await rm(out, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    const text = await readFile(out, 'utf8').catch(() => '');
    if (text) {
      const p = JSON.parse(text) as { before: NodeJS.MemoryUsage; after: NodeJS.MemoryUsage; spaces: Record<string, { size: number; used: number }> };
      const mb = (n: number) => (n / 1048576).toFixed(1);
      const spaces = Object.entries(p.spaces)
        .filter(([, s]) => s.size > 0)
        .map(([name, s]) => `${name.replace(/_space$/, '')} ${mb(s.used)}/${mb(s.size)}`)
        .join(', ');
      return `heap used ${mb(p.before.heapUsed)} → ${mb(p.after.heapUsed)} after GC, total ${mb(p.after.heapTotal)}, external ${mb(p.after.external)}, rss after GC ${mb(p.after.rss)}\n${' '.repeat(38)}${spaces}`;
    }
    await sleep(50);
  }
  return 'probe did not answer';
}


function docker(env: NodeJS.ProcessEnv, args: string[]): string {
  const r = spawnSync(DOCKER, args, { env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('daemon-rss: needs root (runc, overlay mounts); skipped');
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'berth-bench-rss-'));
  let env: NodeJS.ProcessEnv = process.env;
  let child: ChildProcess | undefined;
  try {
    const rootfs = join(root, 'rootfs');
    await buildBusyboxRootfs(rootfs);
    spawnSync('tar', ['-C', rootfs, '-cf', join(root, 'bb.tar'), '.']);
    const probeOut = join(root, 'probe.json');
    const probeArgs: string[] = [];
    if (values.detail) {
      await writeFile(join(root, 'probe.mjs'), PROBE);
      probeArgs.push('--import', join(root, 'probe.mjs'));
    }
    const show = async (label: string, m: Mem, extra = '') => {
      console.log(`${label.padEnd(36)} ${fmt(m)}${extra}`);
      if (values.detail) console.log(`${''.padEnd(38)}${await probe(child!.pid!, probeOut)}`);
    };
    const b = await startBundledBerthd(root, {
      prefix: PREFIX,
      checkout: CHECKOUT,
      nodeFlags: [...FLAGS, ...probeArgs],
      env: { ...process.env, BERTH_RSS_PROBE_OUT: probeOut, ...(values.snapshots ? { BERTH_RSS_PROBE_SNAPSHOTS: values.snapshots } : {}) },
    });
    child = b.child;
    env = b.env;
    const pid = child.pid!;
    await sleep(2000);
    console.log(`berthd (node ${FLAGS.join(' ') || '(no flags)'}), ${N} containers, load ${loadAverage()}`);
    await show('idle, engine loaded', mem(pid));
    docker(env, ['import', join(root, 'bb.tar'), 'busybox:latest']);
    await sleep(1000);
    await show('after docker import', mem(pid));
    if (CHURN > 0) {
      for (let i = 0; i < CHURN; i++) docker(env, ['run', '--rm', 'busybox', 'true']);
      await sleep(1000);
      await show(`after ${CHURN} × run --rm (bridge)`, mem(pid));
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const ids: string[] = [];
      for (let i = 0; i < N; i++) ids.push(docker(env, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '300']));
      const right = mem(pid);
      const conmon = rssOfProcesses('conmon', root);
      await sleep(3000);
      const settled = mem(pid);
      console.log(`${`round ${round}: ${N} running, right after`.padEnd(36)} ${fmt(right)}   + ${conmon.count} conmon ${conmon.mb.toFixed(1)} MB`);
      await show(`round ${round}: ${N} running, 3 s later`, settled);
      docker(env, ['rm', '-f', ...ids]);
      await sleep(1000);
      await show(`round ${round}: after rm -f`, mem(pid));
    }
  } finally {
    if (child && child.exitCode === null) {
      const ids = spawnSync(DOCKER, ['ps', '-aq'], { env, encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
      if (ids.length) spawnSync(DOCKER, ['rm', '-f', ...ids], { env });
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    await rm(root, { recursive: true, force: true });
  }
}

await main();
