// Bundles berthd (and the berth CLI) the way scripts/build.mjs does (ESM, code splitting,
// packages external) into bench/out/<name>/, so benchmarks measure the shipped programs
// rather than tsx.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const REPO = resolve(import.meta.dirname, '..');

const ENTRIES = { berthd: 'src/cli/berthd.ts', berth: 'src/cli/main.ts' } as const;

/** Returns the path of the bundled entry (`<root>/bench/out/<name>/<name>.mjs`); `root` is another checkout to compare with. */
export async function bundleEntry(name: keyof typeof ENTRIES, root = REPO): Promise<string> {
  const outdir = join(root, 'bench/out', name);
  await build({
    entryPoints: { [name]: join(root, ENTRIES[name]) },
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
  await buildNativeAddon(root);
  return join(outdir, `${name}.mjs`);
}

/**
 * Builds `<root>/dist/berth-sys.node` as the build does, when that checkout has the addon: the
 * bundle in bench/out/ finds it there (the loader looks in the nearest ancestor's dist/).
 */
async function buildNativeAddon(root: string): Promise<void> {
  const script = join(root, 'scripts/build-native.mjs');
  if (!existsSync(script)) return;
  const mod: unknown = await import(pathToFileURL(script).href);
  if (typeof mod === 'object' && mod !== null && 'buildNativeAddon' in mod && typeof mod.buildNativeAddon === 'function') await mod.buildNativeAddon(root);
}

/**
 * Builds the CLI (and the rest of dist/) as `npm run build` lays it out, into
 * `<root>/bench/out/cli/` (BERTH_BUILD_OUT), and returns its `berth.js`: run through its shebang
 * it is the CLI as installed (CommonJS entry, hot-run bundle, its code cache after one run).
 */
export function buildCli(root = REPO): string {
  const out = 'bench/out/cli';
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, env: { ...process.env, BERTH_BUILD_OUT: out }, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`building the CLI into ${out} failed: ${r.stderr}`);
  return join(root, out, 'berth.js');
}

/** Returns the path of the bundled daemon (`<root>/bench/out/berthd/berthd.mjs`). */
export function bundleBerthd(root = REPO): Promise<string> {
  return bundleEntry('berthd', root);
}

/** The node flags the shipped berthd runs with: DAEMON_NODE_FLAGS in `<root>/scripts/build.mjs`. */
export function daemonNodeFlags(root = REPO): string[] {
  const src = readFileSync(join(root, 'scripts/build.mjs'), 'utf8');
  const m = /const DAEMON_NODE_FLAGS = (\[[^\]]*\]);/.exec(src);
  if (!m) throw new Error(`DAEMON_NODE_FLAGS not found in ${root}/scripts/build.mjs`);
  return JSON.parse(m[1]!.replace(/'/g, '"')) as string[];
}

/** The status of a GET on berthd's socket (0 while nothing answers): the benches poll it until the daemon is up. */
export function pingStatus(socketPath: string, path = '/_ping'): Promise<number> {
  return new Promise((res) => {
    const req = request({ socketPath, path }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('error', () => res(0));
    req.end();
  });
}

export interface BundledBerthd {
  child: ChildProcess;
  /** process.env with DOCKER_HOST on the daemon's socket and a private DOCKER_CONFIG: for the docker CLI. */
  env: NodeJS.ProcessEnv;
}

/**
 * Starts the bundled berthd of `checkout` on a data-root, exec-root and socket under `root`,
 * with the shipped node flags unless `nodeFlags` says otherwise, and waits until it answers.
 */
export async function startBundledBerthd(
  root: string,
  opts: { prefix: string; checkout?: string; nodeFlags?: string[]; env?: NodeJS.ProcessEnv },
): Promise<BundledBerthd> {
  const checkout = opts.checkout ?? REPO;
  const entry = await bundleBerthd(checkout);
  const sock = join(root, 'berth.sock');
  const args = [...(opts.nodeFlags ?? daemonNodeFlags(checkout)), entry, '--data-root', join(root, 'data'), '--exec-root', join(root, 'run'), '--host', `unix://${sock}`, '--name-prefix', opts.prefix, '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { cwd: checkout, stdio: 'ignore', env: opts.env ?? process.env });
  for (let i = 0; i < 600 && (await pingStatus(sock, '/containers/json')) !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  return { child, env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(root, 'docker-config') } };
}
