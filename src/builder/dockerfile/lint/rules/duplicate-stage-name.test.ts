import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateStageName } from './duplicate-stage-name.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('DuplicateStageName flags the second stage with a name', () => {
  assert.deepEqual(findings(duplicateStageName, 'FROM a AS b\nFROM c AS B\n'), [[2, 'Duplicate stage name "b", stage names should be unique']]);
});
