import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processWord, processWords, shellPatternToRegExp } from './shell-lex.js';
import { corpusMissing, corpusPath } from './corpus-location.js';

const SUB = 'buildkit-parser/shell';
const dir = await corpusPath(SUB);
const skip = dir ? false : corpusMissing(SUB);

test('envVarTest: every Unix case expands one word as BuildKit does', { skip }, () => {
  const env = new Map([['PWD', '/home'], ['SHELL', 'bash'], ['KOREAN', '한국어'], ['NULL', '']]);
  const lines = readFileSync(join(dir!, 'envVarTest'), 'utf8').split('\n');
  let n = 0;
  const failures: string[] = [];
  for (const line of lines) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [plat, input, expected] = line.split('|').map((s) => s.trim()) as [string, string, string];
    if (plat === 'W') continue;
    n++;
    let got: string;
    try {
      got = processWord(input, env).result;
    } catch {
      got = 'error';
    }
    if (got !== expected) failures.push(`${input} => ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`);
  }
  assert.ok(n > 200);
  assert.deepEqual(failures, []);
});

test('wordsTest: expansion with word splitting matches BuildKit', { skip }, () => {
  const env = new Map<string, string>();
  const failures: string[] = [];
  for (const line of readFileSync(join(dir!, 'wordsTest'), 'utf8').split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    if (line.startsWith('ENV ')) {
      const kv = line.slice(4).replace(/^ +/, '');
      const i = kv.indexOf('=');
      env.set(kv.slice(0, i), kv.slice(i + 1));
      continue;
    }
    const bar = line.indexOf('|');
    const input = line.slice(0, bar).trim();
    const expected = line.slice(bar + 1).replace(/^ +/, '');
    let got: string;
    try {
      got = processWords(input, env).join(',');
    } catch {
      got = 'error';
    }
    if (got !== expected) failures.push(`${input} => ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`);
  }
  assert.deepEqual(failures, []);
});

interface PwCase { input: string; env: Record<string, string>; expected?: string; error?: boolean; matched?: string[]; unmatched?: string[] }

test('processword cases: modifiers, patterns and matched/unmatched names', { skip }, () => {
  const data = JSON.parse(readFileSync(join(dir!, 'processword-cases.json'), 'utf8')) as {
    cases: PwCase[];
    pattern_syntax_cases: { valid: Record<string, string>; invalid: string[] };
  };
  const failures: string[] = [];
  for (const c of data.cases) {
    try {
      const r = processWord(c.input, c.env);
      if (c.error) failures.push(`${c.input}: expected an error, got ${JSON.stringify(r.result)}`);
      else if (r.result !== c.expected) failures.push(`${c.input}: got ${JSON.stringify(r.result)}, want ${JSON.stringify(c.expected)}`);
      if (c.matched && !c.error) assert.deepEqual([...r.matched].sort(), [...c.matched].sort(), c.input);
      if (c.unmatched && !c.error) assert.deepEqual([...r.unmatched].sort(), [...c.unmatched].sort(), c.input);
    } catch (e) {
      if (!c.error) failures.push(`${c.input}: unexpected error ${(e as Error).message}`);
      else if (c.unmatched) {
        const um = (e as { unmatched?: Set<string> }).unmatched;
        assert.deepEqual([...(um ?? [])].sort(), [...c.unmatched].sort(), c.input);
      }
    }
  }
  for (const [pat, re] of Object.entries(data.pattern_syntax_cases.valid)) {
    assert.equal(shellPatternToRegExp(pat, true, true).source, re.replace(/\\\//g, '/'), pat);
  }
  for (const pat of data.pattern_syntax_cases.invalid) {
    assert.throws(() => shellPatternToRegExp(pat, true, true), pat);
  }
  assert.deepEqual(failures, []);
});

test('a failed ${VAR:?message} names the variable and the expanded message', () => {
  assert.throws(() => processWord('${VAR:?message here$ARG}', { ARG: 'x' }), /VAR: message herex/);
});
