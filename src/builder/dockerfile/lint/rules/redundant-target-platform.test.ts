import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redundantTargetPlatform } from './redundant-target-platform.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('RedundantTargetPlatform flags --platform=$TARGETPLATFORM', () => {
  assert.deepEqual(findings(redundantTargetPlatform, 'FROM --platform=$TARGETPLATFORM a\nFROM --platform=$BUILDPLATFORM b\n'), [[1, 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior']]);
});
