import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DockerignoreMatcher } from './dockerignore.js';
import { loadDockerignore } from './load.js';
import { walkContext, type ContextEntry } from './walk.js';
import { corpusMissing, corpusPath } from '../dockerfile/corpus-location.js';

async function tree(t: { after: (fn: () => Promise<void>) => void }, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-ctx-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [p, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    if (p.endsWith('/')) await mkdir(join(root, p), { recursive: true });
    else await writeFile(join(root, p), content);
  }
  return root;
}

async function collect(it: AsyncIterable<ContextEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(e.implied ? `${e.path} (implied)` : e.path);
  return out;
}

test('walkContext yields everything depth-first in name order without an ignore file', async (t) => {
  const root = await tree(t, { 'b.txt': 'b', 'a/z': 'z', 'a/b/c': 'c', 'A': 'cap' });
  await symlink('a/z', join(root, 'link'));
  const entries: ContextEntry[] = [];
  for await (const e of walkContext(root, undefined)) entries.push(e);
  assert.deepEqual(entries.map((e) => e.path), ['A', 'a', 'a/b', 'a/b/c', 'a/z', 'b.txt', 'link']);
  const link = entries.find((e) => e.path === 'link')!;
  assert.ok(link.stats.isSymbolicLink(), 'symlinks are reported, not followed');
  assert.equal(entries.find((e) => e.path === 'b.txt')!.stats.size, 1);
});

test('excluded entries are left out and an exception re-includes a file inside an excluded directory', async (t) => {
  const root = await tree(t, { 'docs/README.md': 'r', 'docs/other.md': 'o', 'node_modules/x/y.js': 'y', 'src/main.ts': 'm', 'debug.log': 'l' });
  const m = DockerignoreMatcher.parse('*.log\nnode_modules\ndocs\n!docs/README.md\n');
  assert.deepEqual(await collect(walkContext(root, m)), ['docs (implied)', 'docs/README.md', 'src', 'src/main.ts']);
});

test('a directory excluded with no exception under it is not descended into', async (t) => {
  const root = await tree(t, { 'node_modules/a/b/c.js': 'c', 'keep/x': 'x' });
  const m = DockerignoreMatcher.parse('node_modules\n!keep\n');
  const visited: string[] = [];
  const orig = m.matchWithParent.bind(m);
  m.matchWithParent = (p, info) => {
    visited.push(p);
    return orig(p, info);
  };
  assert.deepEqual(await collect(walkContext(root, m)), ['keep', 'keep/x']);
  assert.ok(!visited.some((p) => p.startsWith('node_modules/')), visited.join(','));
});

test('the walk sends exactly the paths the matcher does not exclude, for many pattern sets', async (t) => {
  const root = await tree(t, { 'a/b/c/d': '', 'a/b/f': '', 'a/c/': '', 'b/c/z': '', c: '', 'x/a/b/c': '' });
  const all = await collect(walkContext(root, undefined));
  const pats = ['a', '!a', 'a/b', '!a/b', 'a/*', '!a/*', '*', '!*', '**/c', '!**/c', 'a/**', '!a/**', '*/b', '!*/b', 'a/b/c', '!a/b/c', '**', '!**/b', 'b', '!b/c', '!a/b/c/d', '!x/*/b', '!*/c/z'];
  let seed = 5;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let k = 0; k < 300; k++) {
    const ps = Array.from({ length: 1 + rnd(4) }, () => pats[rnd(pats.length)]!);
    const m = DockerignoreMatcher.fromPatterns(ps);
    const got = (await collect(walkContext(root, m))).filter((p) => !p.endsWith('(implied)'));
    assert.deepEqual(got, all.filter((p) => !m.matches(p)), JSON.stringify(ps));
  }
});

test('an aborted walk stops with an AbortError', async (t) => {
  const root = await tree(t, { 'a/b': 'b' });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(collect(walkContext(root, undefined, { signal: ac.signal })), { name: 'AbortError' });
});

const SUB = 'dockerignore';
const dir = await corpusPath(SUB);

interface Scenario {
  description: string;
  files: Record<string, string>;
  dockerfile?: string;
  expectPresent?: Record<string, string> | string[];
  expectAbsent?: string[];
  expectError?: boolean;
  runs?: { dockerfile: string; expectPresent: string[]; expectAbsent: string[] }[];
}

test('build-context scenarios from the corpus', { skip: dir ? false : corpusMissing(SUB) }, async (t) => {
  const data = JSON.parse(await readFile(join(dir!, 'cases.json'), 'utf8')) as { build_context_scenarios: Scenario[] };
  for (const s of data.build_context_scenarios) {
    const root = await tree(t, s.files);
    const runs = s.runs ?? [{ dockerfile: s.dockerfile ?? 'Dockerfile', expectPresent: Array.isArray(s.expectPresent) ? s.expectPresent : Object.keys(s.expectPresent ?? {}), expectAbsent: s.expectAbsent ?? [] }];
    for (const run of runs) {
      if (s.expectError) {
        await assert.rejects(loadDockerignore(root, run.dockerfile), s.description);
        continue;
      }
      const ig = await loadDockerignore(root, run.dockerfile);
      const seen = new Set(await collect(walkContext(root, ig?.matcher)));
      for (const p of run.expectPresent) assert.ok(seen.has(p), `${s.description}: ${p} should be sent`);
      for (const p of run.expectAbsent) assert.ok(!seen.has(p), `${s.description}: ${p} should not be sent`);
    }
  }
});
