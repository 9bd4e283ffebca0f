import { test } from 'node:test';
import assert from 'node:assert/strict';
import { undefinedArgInFrom } from './undefined-arg-in-from.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('UndefinedArgInFrom flags FROM variables that no global ARG declares', () => {
  assert.deepEqual(findings(undefinedArgInFrom, 'ARG VERSION\nFROM alpine:${VERSIN}\nFROM alpine:${VERSION}\nFROM --platform=$BUILDPLATFORM b\n'), [[2, "FROM argument 'VERSIN' is not declared (did you mean VERSION?)"]]);
});
