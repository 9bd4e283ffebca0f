// Bundles the CLI and the daemon into dist/. The CLI must start fast (`berth version`
// ≤ 80 ms), so the entry imports nothing eagerly and every command is a lazily imported
// chunk (ESM splitting). npm packages stay external and load from node_modules.
import { build } from 'esbuild';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { buildNativeAddon } from './build-native.mjs';

/**
 * Node flags berthd runs with (its shebang, and the CLI when it starts the daemon); the
 * benches read them from here. Measured with bench/daemon-rss.ts (RSS) against
 * bench/logs-throughput.ts, bench/run-latency.ts and `ps` with 100 containers (no loss seen):
 * - a 1 MB young generation instead of 16: ~15-20 MB less with containers running;
 * - an 8x interrupt budget (V8's default is 132 KB): TurboFan optimizes only what stays hot,
 *   not the one-time start-up code (module bodies, zod schema building): ~6 MB less idle,
 *   ~4 MB with 20 containers running; a 4 MB budget made `ps` slower;
 * - --optimize-for-size: the old generation grows in smaller steps (after a few dozen runs it
 *   held ~8 MB of slack over what a GC keeps): ~3 MB less with 20 running.
 * --no-opt / --lite-mode would save 6-10 MB more but cut `logs` throughput 3-6x.
 */
const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1', '--interrupt-budget=1048576', '--optimize-for-size'];

/**
 * The CLI's shebang. Node 20 parses the NODE_EXTRA_CA_CERTS bundle (and builds its whole root
 * store) when the process starts, before any JS runs: measured ~50 ms of every `berth` run on
 * a host that sets it. The CLI makes no TLS connection (unix socket or plain tcp to the
 * daemon), so it starts without the variable; main.ts puts it back (from
 * BERTH_NODE_EXTRA_CA_CERTS, expanded by `env -S` before the -u) for whatever the CLI starts,
 * berthd included. The tests and benches that run `node dist/berth.js` bypass this line.
 */
const CLI_SHEBANG = '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS BERTH_NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --';

/**
 * Packages bundled into dist/ instead of loaded from node_modules. commander is on every
 * command's path: loaded as a package it goes through the ESM→CommonJS bridge and seven
 * CommonJS files (~10 ms per `berth` run here); bundled it is one chunk among ours.
 */
const BUNDLED_PACKAGES = new Set(['commander']);

/**
 * Every other package (`zod`, `tar-stream/x`…) stays external, as `packages: 'external'` did.
 * `pureBuiltins`: an import of a node builtin whose bindings go unused is dropped (esbuild
 * keeps external imports for their side effects otherwise): the hot-run bundle reaches
 * util's barrel, whose unused `node:crypto` import alone cost ~2 ms per `berth run`.
 */
const externalPackagesPlugin = ({ pureBuiltins = false } = {}) => ({
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true, sideEffects: !pureBuiltins };
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      // Bundled packages resolve normally; their own files' bare imports are builtins.
      if (BUNDLED_PACKAGES.has(name)) return undefined;
      return { path: args.path, external: true };
    });
  },
});
const externalPackages = externalPackagesPlugin();

/**
 * Bundled CommonJS (commander) calls `require('node:events')`; an ESM chunk has no
 * `require`, so every chunk gets one (a cached builtin import and one call: no measurable cost).
 */
const REQUIRE_SHIM = "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);";

/**
 * Where the build goes: dist/, or BERTH_BUILD_OUT (a directory inside the repo, so the
 * external packages resolve from its node_modules) to compare two builds side by side.
 */
const OUT = process.env.BERTH_BUILD_OUT || 'dist';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

function gitCommit() {
  if (process.env.BERTH_GIT_COMMIT) return process.env.BERTH_GIT_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    // Not a git checkout (a tarball): the commit is unknown.
    return 'unknown';
  }
}

/** Go's time.ANSIC ("Fri May 30 12:07:14 2025"), the way docker version prints Built. */
function ansic(d) {
  const [wd, mon, day, time, year] = [
    d.toUTCString().slice(0, 3),
    d.toUTCString().slice(8, 11),
    String(d.getUTCDate()).padStart(2, ' '),
    d.toISOString().slice(11, 19),
    d.getUTCFullYear(),
  ];
  return `${wd} ${mon} ${day} ${time} ${year}`;
}

const built = ansic(new Date());

// berthd's mount/umount/netns addon compiles (a C compiler process) while esbuild bundles.
const nativeAddon = buildNativeAddon();

// Chunk names carry content hashes: drop the previous build's so dist/ holds one build.
await rm(`${OUT}/chunks`, { recursive: true, force: true });

/** The commands src/cli/hot-run.ts bundles; every other catalog entry is a stub there. */
const HOT_COMMANDS = new Set(['container-run']);

/**
 * In the hot-run bundle, builtins that `berth run` does not need on its way load on first use
 * instead of with the bundle: child_process (~0.5 ms of every run; the daemon's autostart and
 * commander's executable subcommands use it) and module (util's native-sys.ts loads its addon
 * with createRequire; node:module brings node's ES module loader and source maps, ~0.5 ms). Each becomes an object of getters for the
 * builtin's exports, which require()s it when one of them is first read; its names are this node's, as esbuild's
 * interop copies them when the bundle loads. (node:os is read as util loads: no gain there.)
 */
const LAZY_BUILTINS = /^(node:)?(child_process|module)$/;
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTINS }, (args) => {
      const id = `node:${args.path.replace(/^node:/, '')}`;
      // The proxy's own require() of the builtin.
      if (args.namespace === 'lazy-builtin') return { path: id, external: true };
      return { path: id, namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      const keys = Object.getOwnPropertyNames(await import(args.path)).filter((k) => k !== 'default');
      // Plain getters, not a Proxy: esbuild's interop copies each export when the bundle loads,
      // and a Proxy's traps made that ~0.3 ms of every run.
      return {
        loader: 'js',
        contents: `let m;
const load = () => (m ??= require(${JSON.stringify(args.path)}));
for (const k of ${JSON.stringify(keys)}) Object.defineProperty(module.exports, k, { configurable: true, enumerable: true, get: () => load()[k] });
`,
      };
    });
  },
};

/** In the hot bundle, a catalog `import('../commands/x.js')` of a command it does not hold. */
const coldCommandStubs = {
  name: 'cold-command-stubs',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/commands\// }, (args) => {
      const name = args.path.slice('../commands/'.length).replace(/\.js$/, '');
      if (args.kind !== 'dynamic-import' || !/[\\/]catalog[\\/]/.test(args.importer) || HOT_COMMANDS.has(name)) return undefined;
      return { path: name, namespace: 'cold-command' };
    });
    b.onLoad({ filter: /.*/, namespace: 'cold-command' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`berth: the ${args.path} command is not in the hot-run bundle`)});`,
      loader: 'js',
    }));
  },
};

const sharedDefines = {
  __BERTH_VERSION__: JSON.stringify(pkg.version),
  __BERTH_COMMIT__: JSON.stringify(gitCommit()),
  __BERTH_BUILT__: JSON.stringify(built),
  __BERTH_DAEMON_NODE_FLAGS__: JSON.stringify(DAEMON_NODE_FLAGS),
};

/**
 * A command as one CommonJS module with no code splitting, which main.ts compiles with node:vm
 * to use a V8 code cache (ESM has none in Node 20); the content hash in its name keys that
 * cache to this exact file. Returns its path relative to dist/berth.js.
 */
async function cjsBundle(name, entry, plugins = []) {
  const out = await build({
    entryPoints: { [name]: entry },
    entryNames: '[name]-[hash]',
    outExtension: { '.js': '.cjs' },
    outdir: `${OUT}/chunks`,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    plugins: [lazyBuiltins, externalPackagesPlugin({ pureBuiltins: true }), ...plugins],
    // Run from a V8 code cache (src/cli/load-cjs.ts), where Node 20 gives import() no loader
    // ("A dynamic import callback was not specified"): every import() of what stays outside
    // the bundle becomes a require() (require loads ES modules since 20.19).
    supported: { 'dynamic-import': false },
    // Every run reads the file before V8 takes the code from the cache: without whitespace
    // and comments it is ~45% smaller (identifiers stay, for readable stacks).
    minifyWhitespace: true,
    minifySyntax: true,
    define: sharedDefines,
    metafile: true,
    logLevel: 'warning',
    // util's barrel brings src/util/native-sys.ts, whose import.meta.url (where to look for the
    // berth-sys addon) is empty in CommonJS; the CLI never mounts, and the loader handles it.
    logOverride: { 'empty-import-meta': 'silent' },
  });
  const file = Object.keys(out.metafile.outputs).find((f) => f.endsWith('.cjs'));
  const dynamic = out.metafile.outputs[file].imports.filter((i) => i.kind === 'dynamic-import');
  if (dynamic.length) throw new Error(`build: ${file} keeps import() of ${dynamic.map((i) => i.path).join(', ')}`);
  return `chunks/${file.split('/').pop()}`;
}

// `berth run` (src/cli/hot-run.ts): the command that must start fastest loads one file instead
// of ~18 chunks. The plain `berth version` (no commander at all) likewise.
const HOT_RUN = await cjsBundle('hot-run', 'src/cli/hot-run.ts', [coldCommandStubs]);
const VERSION_FAST = await cjsBundle('version-fast', 'src/cli/commands/version-fast.ts');

// Every other command (src/cli/cold-main.ts) and berthd: ES modules split into chunks, one per
// command, so a command loads only its own. dist/package.json makes the .js files in dist/
// CommonJS (the two entries below) and dist/chunks/package.json keeps these ES modules.
const split = await build({
  entryPoints: { 'cli-cold': 'src/cli/cold-main.ts', 'berthd-main': 'src/cli/berthd.ts' },
  entryNames: '[name]-[hash]',
  outdir: `${OUT}/chunks`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  plugins: [externalPackages],
  chunkNames: '[name]-[hash]',
  banner: { js: REQUIRE_SHIM },
  define: sharedDefines,
  metafile: true,
  logLevel: 'warning',
});
/** The chunk that holds `entry` (a source path), as `chunks/<name>-<hash>.js`. */
function entryChunk(entry) {
  const file = Object.entries(split.metafile.outputs).find(([f, o]) => o.entryPoint === entry && f.endsWith('.js'))?.[0];
  if (!file) throw new Error(`build: no output for ${entry}`);
  return `chunks/${file.split('/').pop()}`;
}
const COLD_MAIN = entryChunk('src/cli/cold-main.ts');
const BERTHD_MAIN = entryChunk('src/cli/berthd.ts');
await writeFile(`${OUT}/package.json`, '{ "type": "commonjs" }\n');
await writeFile(`${OUT}/chunks/package.json`, '{ "type": "module" }\n');

/**
 * In the CLI's entry, main.ts's import() of cold-main.js: the chunk, left to node's loader; and
 * of version-fast.js, which the build runs from its own bundle (the import is the sources' way).
 */
const coldMainChunk = {
  name: 'cold-main-chunk',
  setup(b) {
    b.onResolve({ filter: /^\.\/cold-main\.js$/ }, () => ({ path: `./${COLD_MAIN}`, external: true }));
    b.onResolve({ filter: /^\.\/commands\/version-fast\.js$/ }, () => ({ path: 'version-fast', namespace: 'bundled-elsewhere' }));
    b.onLoad({ filter: /.*/, namespace: 'bundled-elsewhere' }, () => ({
      contents: `throw new Error('berth: ${VERSION_FAST} is missing');`,
      loader: 'js',
    }));
  },
};

// dist/berth.js: src/cli/main.ts as one CommonJS file. `berth run` (the hot-run bundle, also
// CommonJS) and `berth version` never start node's ES module loader: an ES module entry costs
// ~5 ms more to start here. Builtins are require()d, on first use where main.ts imports lazily.
// `--` in the shebang ends node's own options: Node 20 otherwise treats a user's
// `berth run --env-file x` as its own --env-file and exits 9 when x is missing.
const cli = await build({
  entryPoints: { berth: 'src/cli/main.ts' },
  outdir: OUT,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  plugins: [coldMainChunk, externalPackagesPlugin({ pureBuiltins: true })],
  banner: { js: CLI_SHEBANG },
  define: { ...sharedDefines, __BERTH_HOT_RUN__: JSON.stringify(HOT_RUN), __BERTH_VERSION_FAST__: JSON.stringify(VERSION_FAST) },
  metafile: true,
  logLevel: 'warning',
  logOverride: { 'empty-import-meta': 'silent' },
});
const cliOut = cli.metafile.outputs[`${OUT}/berth.js`];
// An import() there starts node's ES module loader: the cold chunk's, and a builtin's on a path
// off the fast ones (autostart's ping when the daemon is down).
const cliImports = cliOut.imports.filter((i) => i.kind === 'dynamic-import' && !i.path.startsWith('node:')).map((i) => i.path);
if (cliImports.join() !== `./${COLD_MAIN}`) throw new Error(`build: dist/berth.js imports ${cliImports.join(', ')}; only the cold chunk may be an ES module`);
if (Object.keys(cliOut.inputs).some((f) => /commander|src\/cli\/program\.ts/.test(f))) throw new Error('build: dist/berth.js holds the commander program');

// berthd runs with a small V8 young generation: measured, it keeps the daemon's RSS ~15–20 MB
// lower (20 running containers: 84–90 → 69 MB) with no measurable cost to docker load.
await writeFile(
  `${OUT}/berthd.js`,
  `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')} --\n// berthd's code is the ES module ${BERTHD_MAIN} (this file is CommonJS: dist/package.json).\nimport('./${BERTHD_MAIN}');\n`,
);
await rm(`${OUT}/berthd.js.map`, { force: true });
for (const name of ['berth', 'berthd']) await chmod(`${OUT}/${name}.js`, 0o755);
await nativeAddon;
