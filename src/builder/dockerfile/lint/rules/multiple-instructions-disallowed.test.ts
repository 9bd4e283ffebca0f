import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multipleInstructionsDisallowed } from './multiple-instructions-disallowed.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('MultipleInstructionsDisallowed points at the overridden CMD/ENTRYPOINT/HEALTHCHECK', () => {
  assert.deepEqual(findings(multipleInstructionsDisallowed, 'FROM a\nCMD ["a"]\nCMD ["b"]\nENTRYPOINT ["c"]\nFROM b\nCMD ["d"]\n'), [[2, 'Multiple CMD instructions should not be used in the same stage because only the last one will be used']]);
});
