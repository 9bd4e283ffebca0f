// The berth CLI's own cost on `run --rm busybox true`, beside the docker CLI against the same
// berthd: both CLIs send the same requests, so the difference is client-side (process start,
// module loading, request handling). Runs alternate between the commands so they see the same
// load; medians, lower quartiles and the mean CPU (user+sys) of each process are printed.
//   npm run build && node --import tsx bench/cli-latency.ts [--runs N] [--baseline DIR]
// `dist/berth.js` is executed as installed (through its shebang, which drops
// NODE_EXTRA_CA_CERTS); `node dist/berth.js` is how the tests and bench/run-latency.ts start it.
// --baseline DIR adds DIR/berth.js (another build, e.g. `BERTH_BUILD_OUT=bench/out/old npm run
// build` from an older commit) to the same alternating loop, so both builds see the same load.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DOCKER_CLI, startTestDaemon } from '../test/helpers/daemon.js';
import { importBusyboxImage } from '../test/integration/runtime/fixtures.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, baseline: { type: 'string' } } });
const RUNS = Number(values.runs);
const REPO = resolve(import.meta.dirname, '..');
const BERTH = join(REPO, 'dist/berth.js');
/** USER_HZ: /proc reports children's CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CPU time (ms) of this process's waited-for children so far (cutime + cstime). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
}

interface Row {
  name: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  wall: number[];
  cpu: number;
}

function once(row: Row, env: NodeJS.ProcessEnv, record: boolean): void {
  const c0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(row.argv[0]!, row.argv.slice(1), { env: row.env ?? env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${row.argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  if (!record) return;
  row.wall.push(ms);
  row.cpu += childrenCpuMs() - c0;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * q))]!;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('cli-latency: needs root (berthd runs containers); skipped');
    return;
  }
  if (!existsSync(BERTH)) {
    console.log('cli-latency: build first (npm run build)');
    process.exitCode = 1;
    return;
  }
  const d = await startTestDaemon(undefined, { logLevel: 'warn' });
  try {
    await importBusyboxImage(d!, 'busybox:latest');

    const run = ['run', '--rm', 'busybox', 'true'];
    const withoutCa = { ...d!.env };
    delete withoutCa['NODE_EXTRA_CA_CERTS'];
    const rows: Row[] = [
      { name: 'docker run --rm busybox true', argv: [DOCKER_CLI, ...run], wall: [], cpu: 0 },
      { name: 'berth run --rm busybox true (as installed)', argv: [BERTH, ...run], wall: [], cpu: 0 },
      { name: 'node dist/berth.js run --rm busybox true', argv: [process.execPath, BERTH, ...run], wall: [], cpu: 0 },
      { name: 'docker version', argv: [DOCKER_CLI, 'version'], wall: [], cpu: 0 },
      { name: 'berth version (as installed)', argv: [BERTH, 'version'], wall: [], cpu: 0 },
      { name: 'node -e 0', argv: [process.execPath, '-e', '0'], wall: [], cpu: 0 },
    ];
    if (values.baseline) {
      const other = resolve(values.baseline, 'berth.js');
      rows.splice(2, 0, { name: `baseline ${basename(values.baseline)}: run --rm (as installed)`, argv: [other, ...run], wall: [], cpu: 0 });
      rows.push({ name: `baseline ${basename(values.baseline)}: version (as installed)`, argv: [other, 'version'], wall: [], cpu: 0 });
    }
    if (process.env['NODE_EXTRA_CA_CERTS']) {
      rows.push({ name: 'node -e 0 without NODE_EXTRA_CA_CERTS', argv: [process.execPath, '-e', '0'], env: withoutCa, wall: [], cpu: 0 });
    }
    for (const row of rows) for (let i = 0; i < 2; i++) once(row, d!.env, false);
    for (let i = 0; i < RUNS; i++) for (const row of i % 2 ? [...rows].reverse() : rows) once(row, d!.env, true);

    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`${RUNS} runs alternating, against one berthd (load ${load}); NODE_EXTRA_CA_CERTS ${process.env['NODE_EXTRA_CA_CERTS'] ? 'set' : 'unset'}`);
    console.log(`${'command'.padEnd(46)} ${'median'.padStart(8)} ${'p25'.padStart(8)} ${'cpu/run'.padStart(8)}`);
    for (const r of rows) {
      console.log(`${r.name.padEnd(46)} ${quantile(r.wall, 0.5).toFixed(1).padStart(8)} ${quantile(r.wall, 0.25).toFixed(1).padStart(8)} ${(r.cpu / RUNS).toFixed(1).padStart(8)}`);
    }
    const [docker, berth] = [quantile(rows[0]!.wall, 0.5), quantile(rows[1]!.wall, 0.5)];
    console.log(`berth CLI / docker CLI (run --rm, medians): ${(berth / docker).toFixed(2)}× (+${(berth - docker).toFixed(1)} ms)`);
  } finally {
    await d?.stop();
  }
}

await main();
