import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consistentInstructionCasing } from './consistent-instruction-casing.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('ConsistentInstructionCasing flags commands against the majority casing', () => {
  assert.deepEqual(findings(consistentInstructionCasing, 'FROM a\nRUN x\nrun y\nCopy a b\n'), [[3, "Command 'run' should match the case of the command majority (uppercase)"], [4, "Command 'Copy' should match the case of the command majority (uppercase)"]]);
  assert.deepEqual(lines(consistentInstructionCasing, 'from a\nrun x\nRUN y\n'), [3]);
});
