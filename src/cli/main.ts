// The `berth` entry point. It imports nothing eagerly: `berth version` takes a fast path
// (node:net, no commander), `berth run` loads its one-module bundle (hot-run.ts), and every
// other command loads the commander program and then only the module of the command being
// run (cold-main.ts; esbuild splits them into chunks). scripts/build.mjs bundles this file
// as CommonJS (dist/berth.js): an ES module entry costs ~5 ms more to start (node's ESM
// loader), which `berth run` and `version` skip. Both of those run from CommonJS bundles with
// a V8 code cache (load-cjs.ts), so this file stays small: node compiles it on every run.
import { join } from 'node:path';
import { loadCjsWithCache } from './load-cjs.js';
import { preconnect } from './preconnect.js';

// The shebang (scripts/build.mjs) starts node without NODE_EXTRA_CA_CERTS, which costs
// ~50 ms at node's start and is of no use to the CLI; children (berthd started on demand,
// helpers) get the environment the user gave us.
const savedCaCerts = process.env['BERTH_NODE_EXTRA_CA_CERTS'];
if (savedCaCerts !== undefined) {
  delete process.env['BERTH_NODE_EXTRA_CA_CERTS'];
  if (savedCaCerts) process.env['NODE_EXTRA_CA_CERTS'] = savedCaCerts;
}

/** Global flags that take a value (they may precede the command word). */
const VALUE_FLAGS = new Set(['-H', '--host', '--data-root', '-l', '--log-level']);

interface Peek {
  command: string | undefined;
  rest: string[];
  host: string | undefined;
  dataRoot: string | undefined;
}

/** Finds the command word after the global flags, without a parser. */
function peek(argv: string[]): Peek {
  const p: Peek = { command: undefined, rest: [], host: undefined, dataRoot: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_FLAGS.has(a)) {
      const v = argv[++i];
      if (a === '-H' || a === '--host') p.host = v;
      if (a === '--data-root') p.dataRoot = v;
      continue;
    }
    const eq = /^(--host|--data-root|--log-level)=(.*)$/.exec(a);
    if (eq) {
      if (eq[1] === '--host') p.host = eq[2];
      if (eq[1] === '--data-root') p.dataRoot = eq[2];
      continue;
    }
    if (a.startsWith('-')) continue;
    p.command = a;
    p.rest = argv.slice(i + 1);
    break;
  }
  return p;
}

/**
 * scripts/build.mjs: where `berth run`'s self-contained bundle is, relative to this file (see
 * hot-run.ts), and the plain `berth version`'s; unset under tsx and in the benches' bundles.
 */
declare const __BERTH_HOT_RUN__: string | undefined;
declare const __BERTH_VERSION_FAST__: string | undefined;

type VersionFast = typeof import('./commands/version-fast.js');

/** `berth version` without commander: its bundle with a code cache, or the module (sources). */
async function runVersion(p: Peek): Promise<number> {
  const loaded = typeof __BERTH_VERSION_FAST__ === 'string' ? loadCjsWithCache(join(__dirname, __BERTH_VERSION_FAST__)) : undefined;
  const { runFastVersion } = loaded ? (loaded.exports as VersionFast) : await import('./commands/version-fast.js');
  try {
    return await runFastVersion({ host: p.host, dataRoot: p.dataRoot, format: p.rest[1] });
  } finally {
    loaded?.saveCache?.();
  }
}

type HotModule = typeof import('./hot-run.js');

/** `berth run` from its one-module bundle, or undefined when there is none (sources under tsx). */
async function runHot(argv: string[], p: Peek): Promise<number | undefined> {
  if (typeof __BERTH_HOT_RUN__ !== 'string' || p.command !== 'run' || argv.includes('--help') || argv.includes('-h')) return undefined;
  // The /_ping goes out first and is answered while the bundle loads (preconnect.ts). One turn
  // of the event loop completes the connect and writes it. The build makes this file CommonJS,
  // where require() loads node:net without starting the ES module loader.
  const preconnected = preconnect(p.host, process.env, (require('node:net') as typeof import('node:net')).connect);
  if (preconnected) await new Promise<void>((r) => setImmediate(r));
  // CommonJS through node:vm with a V8 code cache (load-cjs.ts): Node 20 caches no ESM code.
  // __dirname is dist/.
  const loaded = loadCjsWithCache(join(__dirname, __BERTH_HOT_RUN__));
  if (!loaded) {
    preconnected?.socket.destroy();
    return undefined;
  }
  try {
    return await (loaded.exports as HotModule).runHotCommand(argv, { commandWord: p.command, host: p.host, preconnected });
  } finally {
    loaded.saveCache?.();
  }
}

/**
 * A reader that went away (`berth save x | head -c 1`): stop quietly with the status a
 * SIGPIPE gives, as the docker CLI (a Go program) does, instead of an EPIPE error.
 */
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(141);
  throw err;
}

/**
 * Node makes process.stdout on first use (~0.5 ms: a tty, pipe or file stream); a `berth run`
 * whose container prints nothing never needs it. The handler above is attached when it is made.
 */
let stdoutMade = false;
const stdoutProperty = Object.getOwnPropertyDescriptor(process, 'stdout');
if (stdoutProperty?.get && stdoutProperty.configurable) {
  const make = stdoutProperty.get;
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: stdoutProperty.enumerable,
    get(): NodeJS.WriteStream {
      const stdout = make.call(process) as NodeJS.WriteStream;
      if (!stdoutMade) {
        stdoutMade = true;
        stdout.on('error', onStdoutError);
      }
      return stdout;
    },
  });
} else {
  stdoutMade = true;
  process.stdout.on('error', onStdoutError);
}

async function finish(code: number): Promise<never> {
  // Let buffered stdout reach a pipe before exiting.
  if (stdoutMade) await new Promise<void>((r) => process.stdout.write('', () => r()));
  process.exit(code);
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v') {
    const { CLI_VERSION, CLI_GIT_COMMIT } = await import('./build-info.js');
    process.stdout.write(`berth version ${CLI_VERSION}, build ${CLI_GIT_COMMIT}\n`);
    return 0;
  }
  const p = peek(argv);
  const simpleVersion = p.command === 'version' && (p.rest.length === 0 || (p.rest.length === 2 && /^(-f|--format)$/.test(p.rest[0]!)));
  if (simpleVersion && !argv.includes('--debug') && !argv.includes('-D')) {
    return runVersion(p);
  }
  const hot = await runHot(argv, p);
  if (hot !== undefined) return hot;
  const { runCold } = await import('./cold-main.js');
  return runCold(argv, p.command, p.host);
}

main(process.argv.slice(2)).then(finish, (err: unknown) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  return finish(1);
});
