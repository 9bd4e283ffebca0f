// Loads a CommonJS file through node:vm with a V8 code cache beside it, as v8-compile-cache
// does: Node 20 caches no code for ES modules or require()d files, and compiling the hot-run
// bundle and the functions a run calls is ~7 ms of CPU per `berth run` here. main.ts loads
// dist/chunks/hot-run-<hash>.cjs with it (scripts/build.mjs).
//
// The file must not use import() syntax. A vm script's import() needs an import hook
// (importModuleDynamically), and Node 20 loses it when the code comes from a cache: the
// first run works and every later one fails with "A dynamic import callback was not
// specified". scripts/build.mjs has esbuild compile the hot bundle's import() calls to
// require() (which loads ES modules too since Node 20.19) and fails the build if one is left.
import { isAscii } from 'node:buffer';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import vm from 'node:vm';

/**
 * node:module's createRequire, which CommonJS `module`'s class already carries (it is the same
 * Module): require('node:module') would add node's ES module loader and source maps to every
 * `berth run` (~0.5 ms). Under tsx (ES modules, tests) there is no `module`.
 */
function requireFactory(): (path: string) => NodeJS.Require {
  if (typeof module === 'object' && module !== null) return (module.constructor as unknown as { createRequire: (path: string) => NodeJS.Require }).createRequire;
  return (process.getBuiltinModule('node:module') as typeof import('node:module')).createRequire;
}

export interface LoadedCjs {
  /** The file's module.exports. */
  exports: unknown;
  /**
   * Writes the code cache (what has been compiled so far, so call it after the work), atomically;
   * undefined when the cache read at load was accepted. A read-only place is skipped quietly.
   */
  saveCache: (() => void) | undefined;
}

/**
 * Runs `file` as CommonJS, compiled with `${file}.v8cache` when it is there and V8 accepts it
 * (V8 rejects one from another node version; it is then written again). The cache must belong
 * to this exact file: give the file a name that changes with its content. `require` inside
 * the file resolves from the file's place. Returns undefined when `file` does not exist.
 */
export function loadCjsWithCache(file: string): LoadedCjs | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // esbuild writes ASCII (it escapes the rest): decoded as latin1, the same text for less work
  // than utf8's (~0.4 ms of a `berth run` for the hot-run bundle).
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const require = requireFactory()(file);
  const cacheFile = `${file}.v8cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No cache yet (first run of this build) or unreadable: compile from source.
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
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
