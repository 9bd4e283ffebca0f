import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consecutiveInstalls } from './consecutive-installs.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('ConsecutiveInstalls flags back-to-back RUNs installing with the same package manager', () => {
  assert.deepEqual(findings(consecutiveInstalls, 'FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\nRUN apt-get install -y wget\n'), [[4, 'this RUN installs packages with the same package manager as the RUN on line 3: combine them into one RUN (one layer, one index update)']]);
  assert.deepEqual(lines(consecutiveInstalls, 'FROM debian\nRUN apt-get install -y a\nCOPY x y\nRUN apt-get install -y b\nRUN pip install c\n'), []);
});
