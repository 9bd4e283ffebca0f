// The built CLI's `berth run` path: dist/berth.js loads dist/chunks/hot-run-<hash>.cjs through
// node:vm and leaves a V8 code cache beside it. Needs a build newer than the sources; no daemon
// (a dead socket makes the command fail after the bundle ran).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
const DIST = join(REPO, 'dist/berth.js');
const CHUNKS = join(REPO, 'dist/chunks');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const fresh = existsSync(DIST) && statSync(DIST).mtimeMs >= newest(join(REPO, 'src'));

test('berth run from the build writes a code cache beside its bundle and reports a dead daemon as before', { skip: fresh ? false : 'needs a build newer than the sources (npm run build)' }, () => {
  const bundle = readdirSync(CHUNKS).find((f) => /^hot-run-.*\.cjs$/.test(f));
  assert.ok(bundle, 'the build holds a hot-run bundle');
  const cache = join(CHUNKS, `${bundle}.v8cache`);
  rmSync(cache, { force: true });
  const r = spawnSync(process.execPath, [DIST, '-H', 'unix:///nonexistent/berth-test.sock', 'run', '--rm', 'busybox', 'true'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 125);
  assert.equal(r.stderr, 'Cannot connect to the berth daemon at unix:///nonexistent/berth-test.sock. Is the daemon running?\n');
  assert.ok(existsSync(cache), 'the first run leaves the cache');
  const again = spawnSync(process.execPath, [DIST, '-H', 'unix:///nonexistent/berth-test.sock', 'run', '--rm', 'busybox', 'true'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(again.status, 125);
  assert.equal(again.stderr, r.stderr);
});

test('the built hot-run bundle has no import() left, which Node 20 cannot run from a code cache', { skip: fresh ? false : 'needs a build newer than the sources (npm run build)' }, () => {
  const bundle = readdirSync(CHUNKS).find((f) => /^hot-run-.*\.cjs$/.test(f));
  assert.ok(bundle, 'the build holds a hot-run bundle');
  const source = readFileSync(join(CHUNKS, bundle), 'utf8');
  assert.deepEqual(source.match(/\bimport\((?!\))[^)]*\)/g) ?? [], []);
});

test('loading the built hot-run bundle loads neither node:http, node:child_process nor node:readline', { skip: fresh ? false : 'needs a build newer than the sources (npm run build)' }, () => {
  const bundle = readdirSync(CHUNKS).find((f) => /^hot-run-.*\.cjs$/.test(f));
  assert.ok(bundle, 'the build holds a hot-run bundle');
  // The bundle's module bodies run at require(); what `berth run` needs later loads on use.
  const script = `require(${JSON.stringify(join(CHUNKS, bundle))}); process.stdout.write(JSON.stringify(process.moduleLoadList));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const loaded = (JSON.parse(r.stdout) as string[]).filter((m) => /^NativeModule (http|_http_\w+|child_process|readline)$/.test(m));
  assert.deepEqual(loaded, []);
});
