import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aptListsNotCleaned } from './apt-lists-not-cleaned.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('AptListsNotCleaned flags apt-get install without removing the lists in the same RUN', () => {
  assert.deepEqual(lines(aptListsNotCleaned, 'FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\nRUN apt-get update && apt-get install -y git \\\n  && rm -rf /var/lib/apt/lists/*\nRUN --mount=type=cache,target=/var/lib/apt apt-get install -y vim\n'), [2]);
});
