import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { loadCjsWithCache } from './load-cjs.js';

/**
 * A CommonJS bundle compiled as scripts/build.mjs compiles the hot-run bundle (import()
 * unsupported), whose import() calls reach a builtin and an ES module beside it at run time.
 */
async function fixture(t: { after: (fn: () => void) => void }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-load-cjs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'esm.mjs'), 'export const answer = 42;\n');
  writeFileSync(
    join(dir, 'entry.js'),
    [
      "import { join } from 'node:path';",
      "export const where = () => join(__dirname, 'x');",
      "export const later = async () => ({ sep: (await import('node:path')).sep, answer: (await import('./esm.mjs')).answer });",
    ].join('\n'),
  );
  const file = join(dir, 'bundle.cjs');
  await build({
    entryPoints: [join(dir, 'entry.js')],
    outfile: file,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['./esm.mjs'],
    supported: { 'dynamic-import': false },
    logLevel: 'silent',
  });
  return file;
}

interface Fixture {
  where: () => string;
  later: () => Promise<{ sep: string; answer: number }>;
}

/** Loads `file` in a new node process (where a code cache is really read back), calls later(). */
function inChild(file: string): { out: string; err: string } {
  const script = `import { loadCjsWithCache } from ${JSON.stringify(new URL('./load-cjs.ts', import.meta.url).href)};
const loaded = loadCjsWithCache(${JSON.stringify(file)});
const r = await loaded.exports.later();
loaded.saveCache?.();
process.stdout.write(JSON.stringify({ ...r, cached: loaded.saveCache === undefined }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { out: r.stdout, err: r.stderr };
}

test('a bundle loaded without and then with its code cache, each in a new process, loads modules at run time', async (t) => {
  const file = await fixture(t);
  const first = inChild(file);
  assert.deepEqual(JSON.parse(first.out || '{}'), { sep: '/', answer: 42, cached: false }, first.err);
  assert.ok(existsSync(`${file}.v8cache`), 'the first load leaves the cache');
  const second = inChild(file);
  assert.deepEqual(JSON.parse(second.out || '{}'), { sep: '/', answer: 42, cached: true }, second.err);
  assert.equal(second.err, '');
});

test('a loaded bundle gets its own __dirname and module.exports, and its cache is written only when missing', async (t) => {
  const file = await fixture(t);
  const first = loadCjsWithCache(file);
  assert.ok(first);
  assert.equal((first.exports as Fixture).where(), join(file, '..', 'x'));
  assert.ok(first.saveCache, 'no cache yet: it is to be written');
  first.saveCache();
  const second = loadCjsWithCache(file);
  assert.equal(second?.saveCache, undefined, 'the cache was accepted');
});

test('a missing file loads as undefined and a rejected cache is written again', async (t) => {
  const file = await fixture(t);
  assert.equal(loadCjsWithCache(join(file, '..', 'absent.cjs')), undefined);
  writeFileSync(`${file}.v8cache`, 'not a V8 code cache');
  const loaded = loadCjsWithCache(file);
  assert.ok(loaded?.saveCache, 'a rejected cache is replaced');
});

test('a file with non-ASCII text loads as UTF-8', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-load-cjs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'utf8.cjs');
  writeFileSync(file, "exports.s = 'µs ≤ 1 ms';\n");
  assert.equal((loadCjsWithCache(file)?.exports as { s: string }).s, 'µs ≤ 1 ms');
});
