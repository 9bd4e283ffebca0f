import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maintainerDeprecated } from './maintainer-deprecated.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('MaintainerDeprecated flags MAINTAINER', () => {
  assert.deepEqual(findings(maintainerDeprecated, 'FROM a\nMAINTAINER me\n'), [[2, 'Maintainer instruction is deprecated in favor of using label']]);
});
