// Enforces STYLE.md §1: every import in src/ goes downward, never to a peer, and
// never past another folder's index.ts. Also: child_process only in util/exec.ts,
// and no *Sync fs calls outside cli/ start-up code and tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';

const SRC = resolve('src');
const ALLOWED: Record<string, string[]> = {
  util: [],
  storage: ['util'],
  client: ['util'],
  image: ['storage', 'util'],
  volume: ['util'],
  network: ['util'],
  registry: ['image', 'storage', 'util'],
  runtime: ['image', 'storage', 'util', 'volume', 'network'],
  builder: ['runtime', 'registry', 'image', 'storage', 'util'],
  compose: ['client', 'util'],
  api: ['util', 'storage', 'client', 'image', 'volume', 'network', 'registry', 'runtime', 'builder'],
  cli: ['client', 'compose', 'util'],
};
// Narrow exceptions named in STYLE.md §1.
const CLI_EXTRA = ['api/daemon.js', 'builder/dockerfile/index.js'];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2])!);
  return out;
}

const all = files(SRC);

test('every import in src/ goes downward through the target folder index', () => {
  const problems: string[] = [];
  for (const file of all) {
    const rel = relative(SRC, file);
    const layer = rel.split(sep)[0]!;
    const allowed = ALLOWED[layer];
    if (!allowed) {
      problems.push(`${rel}: folder "${layer}" is not a known layer`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, resolve(dirname(file), spec));
      const targetLayer = target.split(sep)[0]!;
      if (targetLayer === layer) continue;
      const viaIndex = target === `${targetLayer}/index.js`;
      if (layer === 'cli' && CLI_EXTRA.includes(target)) continue;
      if (!allowed.includes(targetLayer)) problems.push(`${rel}: imports ${target} (layer ${targetLayer} not allowed)`);
      else if (!viaIndex) problems.push(`${rel}: imports ${target} past ${targetLayer}/index.ts`);
    }
  }
  assert.deepEqual(problems, []);
});

test('only util/exec.ts imports node:child_process', () => {
  const offenders = all
    .filter((f) => !f.endsWith('.test.ts'))
    .filter((f) => /['"](node:)?child_process['"]/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(SRC, f));
  assert.deepEqual(offenders, ['util/exec.ts']);
});

test('daemon code makes no synchronous fs calls', () => {
  const offenders = all
    .filter((f) => !f.endsWith('.test.ts') && !relative(SRC, f).startsWith(`cli${sep}`))
    .filter((f) => /\b(readFileSync|writeFileSync|existsSync|statSync|readdirSync|mkdirSync|rmSync)\s*\(/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(SRC, f));
  assert.deepEqual(offenders, []);
});
