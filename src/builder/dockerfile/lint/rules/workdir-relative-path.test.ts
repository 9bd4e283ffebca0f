import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workdirRelativePath } from './workdir-relative-path.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('WorkdirRelativePath flags a relative first WORKDIR only', () => {
  assert.deepEqual(findings(workdirRelativePath, 'FROM a\nWORKDIR app\nWORKDIR sub\nFROM b\nWORKDIR /abs\nWORKDIR rel\n'), [[2, 'Relative workdir "app" can have unexpected results if the base image changes']]);
});
