import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reservedStageName } from './reserved-stage-name.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('ReservedStageName flags scratch and context as stage names', () => {
  assert.deepEqual(lines(reservedStageName, 'FROM a AS scratch\nFROM b AS context\nFROM c AS fine\n'), [1, 2]);
});
