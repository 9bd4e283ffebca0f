import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyIgnoredFile } from './copy-ignored-file.js';
import { DockerignoreMatcher } from '../../../context/dockerignore.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('CopyIgnoredFile flags sources that .dockerignore excludes', () => {
  const isIgnored = (p: string) => p === 'secret.txt' || p.startsWith('node_modules');
  assert.deepEqual(findings(copyIgnoredFile, 'FROM a\nCOPY ./secret.txt /x\nCOPY node_modules/x /y\nCOPY --from=b secret.txt /z\nCOPY ok /o\n', { isIgnored }), [
    [2, 'Attempting to Copy file "secret.txt" that is excluded by .dockerignore'],
    [3, 'Attempting to Copy file "node_modules/x" that is excluded by .dockerignore'],
  ]);
  assert.deepEqual(lines(copyIgnoredFile, 'FROM a\nCOPY secret.txt /x\n'), []);
});

test('CopyIgnoredFile uses a .dockerignore matcher and skips the check when it has exceptions', () => {
  const df = 'FROM a\nCOPY . /app\nCOPY build/out /o\n';
  assert.deepEqual(lines(copyIgnoredFile, df, { dockerignore: DockerignoreMatcher.parse('build\n') }), [3]);
  assert.deepEqual(lines(copyIgnoredFile, df, { dockerignore: DockerignoreMatcher.parse('*\n') }), [2, 3]);
  assert.deepEqual(lines(copyIgnoredFile, df, { dockerignore: DockerignoreMatcher.parse('build\n!build/keep\n') }), []);
});
