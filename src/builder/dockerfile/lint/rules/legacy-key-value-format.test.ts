import { test } from 'node:test';
import assert from 'node:assert/strict';
import { legacyKeyValueFormat } from './legacy-key-value-format.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('LegacyKeyValueFormat flags ENV/LABEL key value without =', () => {
  assert.deepEqual(findings(legacyKeyValueFormat, 'FROM a\nENV A 1\nENV B=2\nLABEL c d\n'), [[2, '"ENV key=value" should be used instead of legacy "ENV key value" format'], [4, '"LABEL key=value" should be used instead of legacy "LABEL key value" format']]);
});
