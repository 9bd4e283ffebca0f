import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromAsCasing } from './from-as-casing.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('FromAsCasing flags an AS whose case differs from FROM', () => {
  assert.deepEqual(findings(fromAsCasing, 'FROM a as one\nfrom b AS two\nFrom c as three\nFROM d AS four\n'), [[1, "'as' and 'FROM' keywords' casing do not match"], [2, "'AS' and 'from' keywords' casing do not match"]]);
});
