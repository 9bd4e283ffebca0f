import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonArgsRecommended } from './json-args-recommended.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('JSONArgsRecommended flags shell-form CMD/ENTRYPOINT unless SHELL is set', () => {
  assert.deepEqual(findings(jsonArgsRecommended, 'FROM a\nCMD node app.js\nENTRYPOINT ["x"]\n'), [[2, 'JSON arguments recommended for CMD to prevent unintended behavior related to OS signals']]);
  assert.deepEqual(lines(jsonArgsRecommended, 'FROM a AS base\nSHELL ["/bin/bash", "-c"]\nFROM base\nCMD echo hi\n'), []);
});
