import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposeProtoCasing } from './expose-proto-casing.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('ExposeProtoCasing flags upper-case protocols', () => {
  assert.deepEqual(findings(exposeProtoCasing, 'FROM a\nEXPOSE 80/TCP 53/udp\n'), [[2, "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase"]]);
});
