// Loads a CommonJS file through node:vm with a V8 code cache beside it, as v8-compile-cache
// does: Node 20 caches no code for ES modules or require()d files, and compiling the hot-run
// bundle and the functions a run calls is ~7 ms of CPU per `berth run` here. main.ts loads
// dist/chunks/hot-run-<hash>.cjs with it (scripts/build.mjs).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import vm from 'node:vm';

export interface LoadedCjs {
  /** The file's module.exports. */
  exports: unknown;
  /**
   * Writes the code cache (what has been compiled so far, so call it after the work), atomically;
   * undefined when the cache read at load was accepted. A read-only place is skipped quietly.
   */
  saveCache: (() => void) | undefined;
}

/** The warning Node 20 prints at a script's first import() through the main context's loader. */
const LOADER_WARNING = 'vm.USE_MAIN_CONTEXT_DEFAULT_LOADER';
let warningFiltered = false;

/**
 * Node 20 marks vm's main-context loader experimental and says so on stderr at the first
 * import(); the CLI's stderr is the user's, so that one warning (and only it) is dropped.
 */
function filterLoaderWarning(): void {
  if (warningFiltered) return;
  warningFiltered = true;
  const emit = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.startsWith(LOADER_WARNING)) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
}

/**
 * Runs `file` as CommonJS, compiled with `${file}.v8cache` when it is there and V8 accepts it
 * (V8 rejects one from another node version; it is then written again). The cache must belong
 * to this exact file: give the file a name that changes with its content. import() inside the
 * file goes through Node's own ESM loader, relative to the file; where this node has no way to
 * give a vm script that loader (20.x before 20.12), the file is require()d, without a cache.
 * Returns undefined when `file` does not exist.
 */
export function loadCjsWithCache(file: string): LoadedCjs | undefined {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // Absent before 20.12 (and typed as a number by @types/node 20; it is a symbol).
  const mainLoader = (vm.constants as Partial<typeof vm.constants> | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  const require = createRequire(file);
  if (mainLoader === undefined) return { exports: require(file) as unknown, saveCache: undefined };
  const cacheFile = `${file}.v8cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No cache yet (first run of this build) or unreadable: compile from source.
  }
  filterLoaderWarning();
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
    importModuleDynamically: mainLoader,
  });
  const wrapper = script.runInThisContext() as (e: object, r: NodeJS.Require, m: { exports: unknown }, f: string, d: string) => void;
  const mod: { exports: unknown } = { exports: {} };
  wrapper(mod.exports as object, require, mod, file, dirname(file));
  const saveCache =
    cachedData && !script.cachedDataRejected
      ? undefined
      : () => {
          const tmp = `${cacheFile}.${process.pid}.tmp`;
          try {
            writeFileSync(tmp, script.createCachedData());
            renameSync(tmp, cacheFile);
          } catch {
            // A read-only install: every run compiles, as without a cache.
            try {
              rmSync(tmp, { force: true });
            } catch {
              // Nothing was written.
            }
          }
        };
  return { exports: mod.exports, saveCache };
}
