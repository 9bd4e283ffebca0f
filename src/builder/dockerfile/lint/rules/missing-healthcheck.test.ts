import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingHealthcheck } from './missing-healthcheck.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('MissingHealthcheck flags a final image that exposes a port without HEALTHCHECK', () => {
  assert.deepEqual(findings(missingHealthcheck, 'FROM a\nEXPOSE 8080\nCMD ["x"]\n'), [[2, 'the image exposes a port but has no HEALTHCHECK: orchestrators cannot tell a hung service from a healthy one']]);
  assert.deepEqual(lines(missingHealthcheck, 'FROM a AS base\nHEALTHCHECK CMD true\nFROM base\nEXPOSE 80\n'), []);
  assert.deepEqual(lines(missingHealthcheck, 'FROM a\nCMD ["batch"]\n'), []);
});
