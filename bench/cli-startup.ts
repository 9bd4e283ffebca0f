// How long the berth CLI takes to start and answer (issue: `berth version` ≤ 80 ms).
// Starts its own berthd on a temp socket, then times N runs of each command and prints
// medians beside `node -e 0` (the floor) and the docker CLI against the same daemon.
//   node --import tsx bench/cli-startup.ts [runs]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startTestDaemon, DOCKER_CLI } from '../test/helpers/daemon.js';

const runs = Number(process.argv[2] ?? 30);
const REPO = resolve(import.meta.dirname, '..');
const berthJs = resolve(REPO, 'dist/berth.js');
if (!existsSync(berthJs)) {
  console.error('bench: build first (npm run build)');
  process.exit(1);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const TIME = '/usr/bin/time';

/** Median wall time and, when /usr/bin/time exists, median CPU time (user+sys): the CPU
 * figure stays meaningful on a loaded machine where wall times swing. */
function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): { wall: number; cpu: number | undefined } {
  const wall: number[] = [];
  const cpu: number[] = [];
  const viaTime = existsSync(TIME);
  for (let i = 0; i < runs + 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = viaTime
      ? spawnSync(TIME, ['-f', 'CPU %U %S', cmd, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      : spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString()}`);
    if (i < 3) continue;
    wall.push(ms);
    const m = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr.toString());
    if (m) cpu.push((Number(m[1]) + Number(m[2])) * 1000);
  }
  return { wall: median(wall), cpu: cpu.length ? median(cpu) : undefined };
}

const d = await startTestDaemon();
if (!d) {
  console.error('bench: needs root');
  process.exit(1);
}
try {
  const env = { ...process.env, DOCKER_HOST: `unix://${d.socketPath}` };
  const floor = time(process.execPath, ['-e', '0'], env);
  const rows: [string, { wall: number; cpu: number | undefined }][] = [
    ['node -e 0', floor],
    ['berth version', time(process.execPath, [berthJs, 'version'], env)],
    ['berth images', time(process.execPath, [berthJs, 'images'], env)],
    ['berth --help', time(process.execPath, [berthJs, '--help'], env)],
    // As installed: through the shebang, which starts node without NODE_EXTRA_CA_CERTS.
    ['berth version*', time(berthJs, ['version'], env)],
    ['berth images*', time(berthJs, ['images'], env)],
  ];
  if (existsSync(DOCKER_CLI)) {
    rows.push(['docker version', time(DOCKER_CLI, ['version'], env)]);
    rows.push(['docker images', time(DOCKER_CLI, ['images'], env)]);
  }
  console.log(`median of ${runs} runs (wall; CPU user+sys in brackets; * = dist/berth.js run as installed, the others as node dist/berth.js)`);
  for (const [name, t] of rows) {
    const cpu = t.cpu === undefined ? '' : `  [cpu ${t.cpu.toFixed(0)} ms]`;
    console.log(`${name.padEnd(16)} ${t.wall.toFixed(1).padStart(7)} ms  (+${(t.wall - floor.wall).toFixed(1)} ms over node)${cpu}`);
  }
  const v = rows.find(([n]) => n === 'berth version')![1].wall;
  console.log(`berth version target ≤ 80 ms: ${v <= 80 ? 'met' : 'NOT met'} (${v.toFixed(1)} ms; node -e 0 alone ${floor.wall.toFixed(1)} ms)`);
} finally {
  await d.stop();
}
