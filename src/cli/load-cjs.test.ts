import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCjsWithCache } from './load-cjs.js';

function fixture(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-load-cjs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'esm.mjs'), 'export const answer = 42;\n');
  const file = join(dir, 'bundle.cjs');
  writeFileSync(
    file,
    [
      "const { join } = require('node:path');",
      'exports.where = () => join(__dirname, "x");',
      "exports.later = async () => ({ sep: (await import('node:path')).sep, answer: (await import('./esm.mjs')).answer });",
    ].join('\n'),
  );
  return file;
}

interface Fixture {
  where: () => string;
  later: () => Promise<{ sep: string; answer: number }>;
}

test('a CommonJS file loaded with and without its code cache can import() builtins and files beside it at run time', async (t) => {
  const file = fixture(t);
  const first = loadCjsWithCache(file);
  assert.ok(first);
  const a = first.exports as Fixture;
  assert.equal(a.where(), join(file, '..', 'x'));
  assert.deepEqual(await a.later(), { sep: '/', answer: 42 });
  assert.ok(first.saveCache, 'no cache yet: it is to be written');
  first.saveCache();
  assert.ok(existsSync(`${file}.v8cache`));

  const second = loadCjsWithCache(file);
  assert.ok(second);
  assert.equal(second.saveCache, undefined, 'the cache was accepted');
  assert.deepEqual(await (second.exports as Fixture).later(), { sep: '/', answer: 42 });
});

test('a missing file loads as undefined and a rejected cache is written again', (t) => {
  const file = fixture(t);
  assert.equal(loadCjsWithCache(join(file, '..', 'absent.cjs')), undefined);
  writeFileSync(`${file}.v8cache`, 'not a V8 code cache');
  const loaded = loadCjsWithCache(file);
  assert.ok(loaded?.saveCache, 'a rejected cache is replaced');
});

test('an import() in a loaded file prints no experimental-loader warning on stderr', (t) => {
  const file = fixture(t);
  const script = `import { loadCjsWithCache } from ${JSON.stringify(new URL('./load-cjs.ts', import.meta.url).href)};
const r = await loadCjsWithCache(${JSON.stringify(file)}).exports.later();
process.stdout.write(String(r.answer));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.stdout, '42', r.stderr);
  assert.equal(r.stderr, '');
});
