// Where a `run --rm busybox true` spends its time on the client's side, for the berth CLI as
// installed and the docker CLI against the same berthd: `perf trace` (low overhead, unlike
// strace) records each process's connect/read/write/exit syscalls, and this prints the median
// time from exec to: the first connect, the first request (the /_ping) written, the create
// written, the create answered, the start written and answered, the last read from the daemon
// (the wait's answer, once the container is removed), the exit. Both CLIs send the same requests,
// so "create written" is the client's own cost before the daemon has anything to do, and the
// rest of the gap is how fast each reacts to answers.
//   npm run build && node --import tsx bench/cli-phases.ts [--runs N] [--baseline DIR]
// Needs root (berthd runs containers) and perf (linux-perf); skips without them.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DOCKER_CLI, startTestDaemon } from '../test/helpers/daemon.js';
import { importBusyboxImage } from '../test/integration/runtime/fixtures.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, baseline: { type: 'string' } } });
const RUNS = Number(values.runs);
const REPO = resolve(import.meta.dirname, '..');
const BERTH = join(REPO, 'dist/berth.js');

interface Event {
  ms: number;
  call: string;
  fd: number;
  ok: boolean;
}

const PHASES = ['first connect', '/_ping written', 'create written', 'create answered', 'start written', 'start answered', 'last read', 'exit'] as const;
type Phase = (typeof PHASES)[number];

/** `perf trace` lines: "  39.077 ( 0.051 ms): node/31792 connect(fd: 20, ...) = 0". */
function parse(text: string): Event[] {
  const out: Event[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([\d.]+) \(.*?\): \S+\/\d+ (\w+)\((?:fd: (\d+))?.*\)\s+= (-?\d+|\?)/.exec(line);
    if (m) out.push({ ms: Number(m[1]), call: m[2]!, fd: Number(m[3] ?? -1), ok: m[4] === '?' || !m[4]!.startsWith('-') });
  }
  return out;
}

/** The phases of one run: requests are the first write on a connection after its last read. */
function phases(events: Event[]): Partial<Record<Phase, number>> {
  const t0 = events[0]?.ms ?? 0;
  const sockets = new Set<number>();
  const lastWasWrite = new Map<number, boolean>();
  const requests: { fd: number; ms: number }[] = [];
  const p: Partial<Record<Phase, number>> = {};
  for (const e of events) {
    if (e.call === 'connect' && e.ok) {
      sockets.add(e.fd);
      p['first connect'] ??= e.ms - t0;
    } else if ((e.call === 'write' || e.call === 'writev') && sockets.has(e.fd) && e.ok) {
      if (!lastWasWrite.get(e.fd)) requests.push({ fd: e.fd, ms: e.ms - t0 });
      lastWasWrite.set(e.fd, true);
    } else if (e.call === 'read' && sockets.has(e.fd) && e.ok) {
      if (lastWasWrite.get(e.fd) && requests.length === 2 && requests[1]!.fd === e.fd) p['create answered'] ??= e.ms - t0;
      if (lastWasWrite.get(e.fd) && requests.length === 5 && requests[4]!.fd === e.fd) p['start answered'] ??= e.ms - t0;
      p['last read'] = e.ms - t0;
      lastWasWrite.set(e.fd, false);
    } else if (e.call === 'exit_group') p.exit = e.ms - t0;
  }
  // ping, create, then attach and wait (either order), then start.
  if (requests[0]) p['/_ping written'] = requests[0].ms;
  if (requests[1]) p['create written'] = requests[1].ms;
  if (requests[4]) p['start written'] = requests[4].ms;
  return p;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('cli-phases: needs root (berthd runs containers); skipped');
    return;
  }
  if (spawnSync('perf', ['--version']).status !== 0) {
    console.log('cli-phases: needs perf (apt-get install linux-perf); skipped');
    return;
  }
  if (!existsSync(BERTH)) {
    console.log('cli-phases: build first (npm run build)');
    process.exitCode = 1;
    return;
  }
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-phases-'));
  const d = await startTestDaemon(undefined, { logLevel: 'warn' });
  try {
    await importBusyboxImage(d!, 'busybox:latest');
    const run = ['run', '--rm', 'busybox', 'true'];
    const rows: { name: string; argv: string[]; runs: Partial<Record<Phase, number>>[] }[] = [
      { name: 'docker CLI', argv: [DOCKER_CLI, ...run], runs: [] },
      { name: 'berth CLI (as installed)', argv: [BERTH, ...run], runs: [] },
    ];
    if (values.baseline) rows.push({ name: `baseline ${basename(values.baseline)}`, argv: [resolve(values.baseline, 'berth.js'), ...run], runs: [] });
    const trace = join(work, 'trace.txt');
    for (let i = 0; i < RUNS + 1; i++) {
      for (const row of i % 2 ? [...rows].reverse() : rows) {
        const r = spawnSync('perf', ['trace', '-e', 'connect,read,write,writev,exit_group', '-o', trace, ...row.argv], {
          env: d!.env,
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 60_000,
        });
        if (r.status !== 0) throw new Error(`${row.argv.join(' ')} failed (${r.status}): ${r.stderr}`);
        // The first round warms the caches (page cache, berth's V8 code cache).
        if (i > 0) row.runs.push(phases(parse(readFileSync(trace, 'utf8'))));
      }
    }
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`median ms from exec, ${RUNS} runs alternating under perf trace (load ${load})`);
    console.log(`${'phase'.padEnd(18)}${rows.map((r) => r.name.padStart(28)).join('')}`);
    for (const ph of PHASES) {
      console.log(`${ph.padEnd(18)}${rows.map((r) => median(r.runs.map((x) => x[ph]).filter((x): x is number => x !== undefined)).toFixed(1).padStart(28)).join('')}`);
    }
  } finally {
    await d?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
