import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanPath, DockerignoreMatcher, readDockerignore } from './dockerignore.js';
import { corpusMissing, corpusPath } from '../dockerfile/corpus-location.js';

const SUB = 'dockerignore';
const dir = await corpusPath(SUB);
const skip = dir ? false : corpusMissing(SUB);

interface Case { id: number; patterns: string[]; path: string; match?: boolean; error?: boolean; cleanedPatterns?: string[] | null }
interface Data { cases: Case[]; readall_cases: { content: string; patterns: string[]; note?: string }[] }
const data = dir ? (JSON.parse(await readFile(join(dir, 'cases.json'), 'utf8')) as Data) : undefined;

function matcherFor(c: Case): DockerignoreMatcher {
  return DockerignoreMatcher.fromPatterns(readDockerignore(c.patterns.join('\n')));
}

/** What a walker computes: parents first, passing each directory's per-pattern results down. */
function matchByWalking(m: DockerignoreMatcher, path: string): boolean {
  const parts = cleanPath(path).split('/');
  let info: readonly boolean[] | undefined;
  let excluded = false;
  for (let i = 0; i < parts.length; i++) {
    const r = m.matchWithParent(parts.slice(0, i + 1).join('/'), info);
    info = r.info;
    excluded = r.excluded;
  }
  return excluded;
}

test('every corpus case matches (or fails) exactly as Docker does', { skip }, () => {
  const failures: string[] = [];
  for (const c of data!.cases) {
    let got: string;
    try {
      got = String(matcherFor(c).matches(c.path));
    } catch {
      got = 'error';
    }
    const want = c.error ? 'error' : String(c.match);
    if (got !== want) failures.push(`#${c.id} ${JSON.stringify(c.patterns)} ${c.path}: got ${got}, want ${want}`);
  }
  assert.ok(data!.cases.length >= 200);
  assert.deepEqual(failures, []);
});

test('walking parents first gives the same answer as matching the whole path', { skip }, () => {
  for (const c of data!.cases) {
    if (c.error || c.path.startsWith('/') || cleanPath(c.path) === '.') continue;
    const m = matcherFor(c);
    assert.equal(matchByWalking(m, c.path), m.matches(c.path), `#${c.id}`);
  }
});

test('cleaned patterns are what the corpus lists', { skip }, () => {
  for (const c of data!.cases) {
    if (c.cleanedPatterns === undefined) continue;
    assert.deepEqual(readDockerignore(c.patterns.join('\n')), c.cleanedPatterns ?? [], `#${c.id}`);
  }
});

test('reading ignore files: comments, BOM, CRLF, trimming, cleaning', { skip }, () => {
  for (const c of data!.readall_cases) assert.deepEqual(readDockerignore(c.content), c.patterns, c.note ?? c.content);
});

test('the context root is never excluded and a lone ! is an error', () => {
  assert.equal(DockerignoreMatcher.fromPatterns(['*']).matches('.'), false);
  assert.throws(() => DockerignoreMatcher.fromPatterns(['!']), /illegal exclusion pattern/);
  assert.throws(() => DockerignoreMatcher.fromPatterns(['a[']), /syntax error in pattern/);
});

test('keeping() re-includes the Dockerfile and .dockerignore like the docker CLI', () => {
  const m = DockerignoreMatcher.parse('*\n').keeping(['Dockerfile', '.dockerignore']);
  assert.equal(m.matches('Dockerfile'), false);
  assert.equal(m.matches('.dockerignore'), false);
  assert.equal(m.matches('other'), true);
});

test('an excluded directory is skippable only when no exception can reach inside it', () => {
  assert.equal(DockerignoreMatcher.parse('node_modules\n').canSkipExcludedDir('node_modules'), true);
  assert.equal(DockerignoreMatcher.parse('docs\n!docs/README.md\n').canSkipExcludedDir('docs'), false);
  assert.equal(DockerignoreMatcher.parse('docs\n!src/x\n').canSkipExcludedDir('docs'), true);
  assert.equal(DockerignoreMatcher.parse('*\n!**/keep\n').canSkipExcludedDir('a'), false);
});
