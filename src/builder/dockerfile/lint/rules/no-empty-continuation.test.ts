import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noEmptyContinuation } from './no-empty-continuation.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('NoEmptyContinuation flags a continuation broken by an empty line', () => {
  assert.deepEqual(findings(noEmptyContinuation, 'FROM a\nRUN a \\\n\n  b\nRUN c \\\n  d\n'), [[4, 'Empty continuation line']]);
});
