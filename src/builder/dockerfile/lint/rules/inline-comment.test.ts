import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inlineComment } from './inline-comment.js';
import { lintDockerfile, ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('InlineComment flags # after arguments of non-shell instructions', () => {
  assert.deepEqual(findings(inlineComment, 'FROM python:3\nRUN echo hi # shell comment is fine\nLABEL a="x # y"\nCOPY . . # copy code\n'), [
    [4, '"# copy code" is part of the COPY arguments, not a comment: Dockerfile comments must be on their own line'],
  ]);
});

test('InlineComment explains a FROM that fails to parse because of a trailing comment', () => {
  const r = lintDockerfile('FROM python:latest # could break\n');
  assert.deepEqual(r.findings.map((f) => [f.rule, f.line]), [['InvalidSyntax', 1], ['InlineComment', 1]]);
});
