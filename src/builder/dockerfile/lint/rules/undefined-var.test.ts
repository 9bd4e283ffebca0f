import { test } from 'node:test';
import assert from 'node:assert/strict';
import { undefinedVar } from './undefined-var.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('UndefinedVar flags typos always and unknown names when the environment is known', () => {
  assert.deepEqual(findings(undefinedVar, 'FROM alpine:3\nARG VERSION=1\nENV APP=/app-$VERSON\nENV P=$PATH:$GOPATH\n'), [[3, "Usage of undefined variable '$VERSON' (did you mean $VERSION?)"]]);
  assert.deepEqual(lines(undefinedVar, 'FROM scratch\nARG DECLARED\nWORKDIR $NOPE\nCOPY a $DECLARED\n'), [3]);
});
