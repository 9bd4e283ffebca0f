import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromPlatformFlagConstDisallowed } from './from-platform-flag-const-disallowed.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('FromPlatformFlagConstDisallowed flags constant --platform unless the stage is named for it', () => {
  assert.deepEqual(findings(fromPlatformFlagConstDisallowed, 'FROM --platform=linux/amd64 a\nFROM --platform=linux/arm64 b AS build-arm64\nFROM --platform=$BUILDPLATFORM c\n'), [[1, 'FROM --platform flag should not use constant value "linux/amd64"']]);
});
