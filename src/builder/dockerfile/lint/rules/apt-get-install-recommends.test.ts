import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aptGetInstallRecommends } from './apt-get-install-recommends.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('AptGetInstallRecommends flags apt-get install without --no-install-recommends', () => {
  assert.deepEqual(lines(aptGetInstallRecommends, 'FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nRUN apt install -y git\n'), [2, 4]);
});
