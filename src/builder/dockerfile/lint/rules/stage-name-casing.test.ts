import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stageNameCasing } from './stage-name-casing.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('StageNameCasing flags upper-case stage names only', () => {
  assert.deepEqual(findings(stageNameCasing, 'FROM a AS Build\nFROM b AS ok\n'), [[1, "Stage name 'Build' should be lowercase"]]);
});
